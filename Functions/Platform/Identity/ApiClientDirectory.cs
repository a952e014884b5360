using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Identity;

/// <summary>Software that calls an API with credentials an admin issued (a merchant, partner, store or integration).</summary>
public sealed record ApiClient : ITableEntity
{
    public string PartitionKey { get; set; } = ApiClientDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string ClientId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Name { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public bool Disabled { get; set; }
}

/// <summary>Finds a client by its generated secret alone (for APIs that send only an API key).</summary>
public sealed record ApiClientKey : ITableEntity
{
    public string PartitionKey { get; set; } = ApiClientDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string ClientId { get; set; } = "";
}

/// <summary>A created client and its secret, which is shown this once and stored only as a hash.</summary>
public sealed record CreatedApiClient(ApiClient Client, string Secret);

/// <summary>
/// API clients. One partition: the client row (<c>id-&lt;client id&gt;</c>) and, for generated secrets, a key row
/// (<c>key-&lt;sha256&gt;</c>), written in one transaction.
/// </summary>
public sealed class ApiClientDirectory(StorageAccount storage, TimeProvider time)
{
    public const string TableName = "apiclients";
    public const string Partition = "clients";

    private TableClient Table => storage.Table(TableName);

    private static string IdKey(string clientId) => "id-" + TableKeys.Escape(clientId);

    private static string SecretKey(string secretHash) => "key-" + TableKeys.Escape(secretHash);

    /// <summary>
    /// Creates a client. Without <paramref name="chosenSecret"/> a 256-bit secret is generated; a chosen one (a
    /// merchant's password, a seeded demo secret) is hashed like a password. Null when the client id is taken.
    /// </summary>
    public Task<CreatedApiClient?> CreateAsync(string kind, string name, string? clientId = null, string? chosenSecret = null,
        CancellationToken cancellationToken = default)
    {
        var secret = chosenSecret ?? Secrets.Generate("sk_");
        return InsertAsync(kind, name, clientId, secret, isKey: chosenSecret is null, cancellationToken);
    }

    /// <summary>
    /// Creates a client that authenticates by an API key sent on its own (<see cref="AuthenticateByKeyAsync"/>):
    /// a generated one, or <paramref name="chosenKey"/> (a seeded demo key), stored as a hash like any other.
    /// Null when the client id is taken.
    /// </summary>
    public Task<CreatedApiClient?> CreateWithKeyAsync(string kind, string name, string clientId, string? chosenKey = null,
        CancellationToken cancellationToken = default) =>
        InsertAsync(kind, name, clientId, chosenKey ?? Secrets.Generate("sk_"), isKey: true, cancellationToken);

    private async Task<CreatedApiClient?> InsertAsync(string kind, string name, string? clientId, string secret, bool isKey,
        CancellationToken cancellationToken)
    {
        if (!ClientKinds.All.Contains(kind))
            throw new ArgumentException($"Unknown client kind '{kind}'.");
        clientId ??= $"{kind}_{Guid.NewGuid():N}"[..(kind.Length + 17)];
        var client = new ApiClient
        {
            RowKey = IdKey(clientId),
            ClientId = clientId,
            Kind = kind,
            Name = name,
            SecretHash = isKey ? Secrets.HashGenerated(secret) : Secrets.HashPassword(secret),
            CreatedAt = time.GetUtcNow(),
        };
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, client) };
        if (isKey)
            actions.Add(new(TableTransactionActionType.Add, new ApiClientKey { RowKey = SecretKey(client.SecretHash), ClientId = clientId }));
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
            return new CreatedApiClient(client, secret);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            // Taken, unless the row is this insert, stored although its answer was lost (the hash is ours alone).
            return await FindAsync(clientId, cancellationToken) is { } stored && stored.SecretHash == client.SecretHash
                ? new CreatedApiClient(stored, secret)
                : null;
        }
    }

    public Task<ApiClient?> FindAsync(string clientId, CancellationToken cancellationToken = default) =>
        Table.FindAsync<ApiClient>(Partition, IdKey(clientId), cancellationToken);

    /// <summary>How long an instance may answer the session check from the client row it read last.</summary>
    public static readonly TimeSpan SessionViewLifetime = TimeSpan.FromSeconds(5);

    private const int SessionViewCapacity = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ApiClient? Client, DateTimeOffset ReadAt)> _sessionView =
        new(StringComparer.Ordinal);

    /// <summary>
    /// The client as the session check sees it: the row read at most once per <see cref="SessionViewLifetime"/> per
    /// instance, so API traffic does not read the one clients partition on every request. Disabling a client through
    /// this instance ends its tokens here at once; other instances follow within that lifetime.
    /// </summary>
    public async Task<ApiClient?> FindForSessionAsync(string clientId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_sessionView.TryGetValue(clientId, out var seen) && now >= seen.ReadAt && now - seen.ReadAt < SessionViewLifetime)
            return seen.Client;
        var client = await FindAsync(clientId, cancellationToken);
        if (_sessionView.Count >= SessionViewCapacity)
            _sessionView.Clear();
        _sessionView[clientId] = (client, now);
        return client;
    }

    /// <summary>The enabled client whose id and secret match, or null; constant-time comparison.</summary>
    public async Task<ApiClient?> AuthenticateAsync(string clientId, string secret, CancellationToken cancellationToken = default)
    {
        if (clientId.Length is 0 or > 200)
        {
            Secrets.Verify(null, secret);
            return null;
        }
        var client = await FindAsync(clientId, cancellationToken);
        return Secrets.Verify(client is { Disabled: false } ? client.SecretHash : null, secret) ? client : null;
    }

    /// <summary>The enabled client that owns this generated secret (an API key sent on its own), or null.</summary>
    public async Task<ApiClient?> AuthenticateByKeyAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (secret.Length is 0 or > 200)
            return null;
        var key = await Table.FindAsync<ApiClientKey>(Partition, SecretKey(Secrets.HashGenerated(secret)), cancellationToken);
        if (key is null)
            return null;
        var client = await FindAsync(key.ClientId, cancellationToken);
        return client is { Disabled: false } && Secrets.Verify(client.SecretHash, secret) ? client : null;
    }

    public async Task<IReadOnlyList<ApiClient>> ListAsync(string? kind = null, CancellationToken cancellationToken = default)
    {
        var clients = new List<ApiClient>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge 'id-' and RowKey lt 'id.'");
        await foreach (var client in Table.QueryAsync<ApiClient>(filter, cancellationToken: cancellationToken))
        {
            if (kind is null || client.Kind == kind)
                clients.Add(client);
        }
        return clients.OrderBy(c => c.CreatedAt).ToList();
    }

    /// <summary>
    /// Disables a client: its secret stops working at once, and so do tokens already issued: at once on this
    /// instance, within <see cref="SessionViewLifetime"/> on the others (<see cref="SessionCheckMiddleware"/>).
    /// </summary>
    public async Task<ApiClient?> DisableAsync(string clientId, CancellationToken cancellationToken = default)
    {
        var disabled = await Table.TransitionAsync<ApiClient>(Partition, IdKey(clientId), c => c.Disabled ? null : c with { Disabled = true },
            cancellationToken);
        _sessionView.TryRemove(clientId, out _);
        return disabled;
    }
}
