using System.Collections.Concurrent;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Checkout.Stores;

/// <summary>What an admin sets on a store; null leaves a field as it is.</summary>
public sealed record StoreChanges(
    string? Name = null,
    string? Email = null,
    string? Segment = null,
    string? StoreUrl = null,
    string? MarkupPercentage = null,
    string? DiscountPercentage = null,
    IReadOnlyList<StoreWallet>? Wallets = null);

/// <summary>A created store with its API key and webhook secret in plaintext, shown this once (the secret again on verification).</summary>
public sealed record CreatedStore(CheckoutStore Store, string ApiKey, string WebhookSecret);

/// <summary>
/// Stores: created by a platform admin, found by their API key on every checkout call. A key costs two reads of the
/// platform's clients partition and one of the store's row; an instance remembers what a key resolved to for
/// <see cref="KeyViewLifetime"/>, so steady traffic does not funnel every store through that one partition.
/// Disabling a store or changing it through this instance takes effect here at once, elsewhere within that lifetime.
/// </summary>
public sealed class CheckoutStores(StorageAccount storage, ApiClientDirectory clients, SecretSealer sealer, TimeProvider time)
{
    public const string TableName = "checkoutstores";
    public static readonly TimeSpan KeyViewLifetime = TimeSpan.FromSeconds(5);
    private const int KeyViewCapacity = 10_000;

    private readonly ConcurrentDictionary<string, (CheckoutStore? Store, DateTimeOffset ReadAt)> _byKey = new(StringComparer.Ordinal);

    private TableClient Table => storage.Table(TableName);

    public static string NewId() => Guid.NewGuid().ToString("N");

    public static bool LooksLikeId(string id) => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string SecretBinding(string storeId) => "checkout-store-webhook:" + storeId;

    public async Task<CreatedStore?> CreateAsync(string? storeId, string name, string email, StoreChanges settings, string? chosenApiKey,
        CancellationToken cancellationToken)
    {
        storeId ??= NewId();
        var now = time.GetUtcNow();
        var secret = Secrets.Generate("whsec_");
        var store = new CheckoutStore
        {
            PartitionKey = storeId,
            Name = name,
            Email = email,
            Segment = settings.Segment ?? "",
            StoreUrl = settings.StoreUrl ?? "",
            MarkupPercentage = settings.MarkupPercentage ?? "0",
            DiscountPercentage = settings.DiscountPercentage ?? "0",
            SealedWebhookSecret = sealer.Seal(secret, SecretBinding(storeId)),
            CreatedAt = now,
            UpdatedAt = now,
        }.WithWallets(settings.Wallets ?? []);
        // The store first: a key that finds no store authenticates nothing, a store without a key is just unused.
        // A row already under the id is this insert only if it carries the secret sealed just now (a random nonce).
        try
        {
            await Table.AddOnceAsync(store, stored => stored.SealedWebhookSecret == store.SealedWebhookSecret, cancellationToken);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            return null;
        }
        var client = await clients.CreateWithKeyAsync(ClientKinds.Store, name, storeId, chosenApiKey, cancellationToken);
        return client is null ? null : new CreatedStore(store, client.Secret, secret);
    }

    public Task<CheckoutStore?> FindAsync(string storeId, CancellationToken cancellationToken) =>
        LooksLikeId(storeId) ? Table.FindAsync<CheckoutStore>(storeId, CheckoutStore.Row, cancellationToken) : Task.FromResult<CheckoutStore?>(null);

    /// <summary>The enabled store whose API key this is, or null.</summary>
    public async Task<CheckoutStore?> AuthenticateAsync(string apiKey, CancellationToken cancellationToken)
    {
        if (apiKey.Length is 0 or > 200)
            return null;
        var cacheKey = Secrets.HashGenerated(apiKey);
        var now = time.GetUtcNow();
        if (_byKey.TryGetValue(cacheKey, out var seen) && now >= seen.ReadAt && now - seen.ReadAt < KeyViewLifetime)
            return seen.Store;
        var client = await clients.AuthenticateByKeyAsync(apiKey, cancellationToken);
        var store = client is { Kind: ClientKinds.Store } ? await FindAsync(client.ClientId, cancellationToken) : null;
        if (_byKey.Count >= KeyViewCapacity)
            _byKey.Clear();
        _byKey[cacheKey] = (store, now);
        return store;
    }

    /// <summary>The store's callback signing secret in plaintext; null when it was sealed under another <c>Jwt__SigningKey</c>.</summary>
    public string? WebhookSecret(CheckoutStore store) => sealer.Open(store.SealedWebhookSecret, SecretBinding(store.Id));

    public async Task<CheckoutStore?> UpdateAsync(string storeId, StoreChanges changes, CancellationToken cancellationToken)
    {
        if (!LooksLikeId(storeId))
            return null;
        var updated = await Table.TransitionAsync<CheckoutStore>(storeId, CheckoutStore.Row, store =>
        {
            var next = store with
            {
                Name = changes.Name ?? store.Name,
                Email = changes.Email ?? store.Email,
                Segment = changes.Segment ?? store.Segment,
                StoreUrl = changes.StoreUrl ?? store.StoreUrl,
                MarkupPercentage = changes.MarkupPercentage ?? store.MarkupPercentage,
                DiscountPercentage = changes.DiscountPercentage ?? store.DiscountPercentage,
                UpdatedAt = time.GetUtcNow(),
            };
            return changes.Wallets is null ? next : next.WithWallets(changes.Wallets);
        }, cancellationToken);
        Forget(storeId);
        return updated;
    }

    /// <summary>A new webhook secret: callbacks sent from now on are signed with it.</summary>
    public async Task<(CheckoutStore Store, string Secret)?> RotateWebhookSecretAsync(string storeId, CancellationToken cancellationToken)
    {
        if (!LooksLikeId(storeId))
            return null;
        var secret = Secrets.Generate("whsec_");
        var sealedSecret = sealer.Seal(secret, SecretBinding(storeId));
        var rotated = await Table.TransitionAsync<CheckoutStore>(storeId, CheckoutStore.Row,
            store => store with { SealedWebhookSecret = sealedSecret, UpdatedAt = time.GetUtcNow() }, cancellationToken);
        Forget(storeId);
        return rotated is null ? null : (rotated, secret);
    }

    /// <summary>Disables the store's API key: refused at once on this instance, within <see cref="KeyViewLifetime"/> elsewhere.</summary>
    public async Task<bool> DisableAsync(string storeId, CancellationToken cancellationToken)
    {
        if (await FindAsync(storeId, cancellationToken) is null)
            return false;
        await clients.DisableAsync(storeId, cancellationToken);
        _byKey.Clear();
        return true;
    }

    public async Task<bool> IsEnabledAsync(string storeId, CancellationToken cancellationToken) =>
        await clients.FindAsync(storeId, cancellationToken) is { Disabled: false, Kind: ClientKinds.Store };

    private void Forget(string storeId)
    {
        foreach (var (key, seen) in _byKey)
        {
            if (seen.Store?.Id == storeId)
                _byKey.TryRemove(key, out _);
        }
    }
}
