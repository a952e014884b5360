using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Platform.Hosting;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Http;

/// <summary>Marks a create endpoint as honouring the <c>Idempotency-Key</c> header.</summary>
public sealed class IdempotentEndpoint
{
    public static readonly IdempotentEndpoint Instance = new(storesSecrets: false);

    /// <summary>An endpoint whose response carries a secret shown once: its stored response is encrypted.</summary>
    public static readonly IdempotentEndpoint SecretBearing = new(storesSecrets: true);

    private IdempotentEndpoint(bool storesSecrets) => StoresSecrets = storesSecrets;

    public bool StoresSecrets { get; }
}

public static class IdempotencyExtensions
{
    /// <summary>
    /// Same <c>Idempotency-Key</c> and same request: the stored response is replayed (with <c>Idempotent-Replayed: true</c>).
    /// Same key and a different request: 409. Keys are scoped to the caller and kept for 24 hours.
    /// <paramref name="storesSecrets"/>: the response carries a secret (a client secret, a signing key) that must
    /// never sit in storage readable; the stored response is encrypted (see <see cref="StoredResponseCipher"/>).
    /// </summary>
    public static TBuilder WithIdempotency<TBuilder>(this TBuilder builder, bool storesSecrets = false) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(storesSecrets ? IdempotentEndpoint.SecretBearing : IdempotentEndpoint.Instance);

    /// <summary>
    /// Honours <c>Idempotency-Key</c>. Add it after every middleware that can refuse a request (authentication,
    /// authorization, rate limits, a surface's session and CSRF checks), so only a request they let through claims a key.
    /// </summary>
    public static IApplicationBuilder UseIdempotency(this IApplicationBuilder app) => app.UseMiddleware<IdempotencyMiddleware>();
}

/// <summary>
/// Encrypts stored responses of secret-bearing endpoints with AES-GCM under a key derived (HKDF-SHA256) from
/// <c>Jwt:SigningKey</c>, bound to the row it is stored in, so that the idempotency table never holds a secret in
/// plaintext and a sealed body cannot be replayed under another caller's key.
/// </summary>
public sealed class StoredResponseCipher
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public StoredResponseCipher(IOptions<JwtOptions> jwt)
    {
        var signingKey = Encoding.UTF8.GetBytes(jwt.Value.SigningKey);
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, signingKey, 32, salt: [], info: "idempotency-stored-responses"u8.ToArray());
        FingerprintKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, signingKey, 32, salt: [], info: "idempotency-request-fingerprints"u8.ToArray());
        FingerprintKeyId = Convert.ToHexStringLower(SHA256.HashData(FingerprintKey))[..8];
    }

    /// <summary>Names <see cref="FingerprintKey"/> in stored fingerprints, so one made under a replaced key is known as such.</summary>
    public string FingerprintKeyId { get; }

    /// <summary>
    /// The key of request fingerprints: a stored fingerprint of a body that carries a password cannot be tested
    /// against guesses by whoever reads the table.
    /// </summary>
    public byte[] FingerprintKey { get; }

    /// <summary>Version byte, nonce, tag, then the ciphertext.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, string rowKey)
    {
        var sealedBytes = new byte[1 + NonceSize + TagSize + plaintext.Length];
        sealedBytes[0] = Version;
        var nonce = sealedBytes.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(1 + NonceSize + TagSize), sealedBytes.AsSpan(1 + NonceSize, TagSize),
            Encoding.UTF8.GetBytes(rowKey));
        return sealedBytes;
    }

    /// <summary>The plaintext, or null when it cannot be opened (sealed under another signing key, or altered).</summary>
    public byte[]? Open(ReadOnlySpan<byte> sealedBytes, string rowKey)
    {
        if (sealedBytes.Length < 1 + NonceSize + TagSize || sealedBytes[0] != Version)
            return null;
        var plaintext = new byte[sealedBytes.Length - 1 - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(sealedBytes.Slice(1, NonceSize), sealedBytes[(1 + NonceSize + TagSize)..], sealedBytes.Slice(1 + NonceSize, TagSize),
                plaintext, Encoding.UTF8.GetBytes(rowKey));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}

/// <summary>
/// Stores the first response to each (caller, key) in Table storage and replays it. The row is claimed before the
/// handler runs (insert, so two concurrent first requests cannot both run); a 5xx releases the claim so the client
/// can retry, and so does a refusal (401, 403) that never reached the work; a claim left by a crashed instance is
/// taken over after <see cref="AbandonedAfter"/>. Responses of secret-bearing endpoints are stored encrypted.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next, StorageAccount storage, TimeProvider time, StoredResponseCipher cipher)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const string TableName = "idempotency";
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);
    private const int MaxKeyLength = 255;
    private const int MaxChunks = 14;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpoint>() is not { } endpoint
            || !context.Request.Headers.TryGetValue(HeaderName, out var values))
        {
            await next(context);
            return;
        }

        var key = values.ToString();
        if (key.Length is 0 or > MaxKeyLength || key.Any(char.IsControl))
        {
            await ApiErrors.WriteAsync(context, ApiError.BadRequest($"{HeaderName} must be 1 to {MaxKeyLength} printable characters.", "invalid_idempotency_key"));
            return;
        }

        var fingerprint = await FingerprintAsync(context);
        var table = storage.Table(TableName);
        var rowKey = RowKeyFor(CurrentUser.ScopeOf(context), key);
        var now = time.GetUtcNow();

        var claim = new IdempotencyRecord
        {
            PartitionKey = rowKey, RowKey = "", Fingerprint = fingerprint.Keyed, ClaimedAt = now, ExpiresAt = now + Retention,
            ClaimId = Guid.NewGuid().ToString("N"),
        };
        // The common case is a new key: claim it with one insert, and read only when someone had it already.
        if (!await table.TryAddAsync(claim, context.RequestAborted))
        {
            var row = await table.FindAsync<TableEntity>(rowKey, "", context.RequestAborted);
            var existing = row is null ? null : IdempotencyRecord.From(row);
            if (existing is not null && existing.ClaimId == claim.ClaimId)
            {
                // Our own insert, stored although its answer was lost and the client library retried it: the key is ours.
                claim.ETag = existing.ETag;
            }
            else
            {
                if (existing is not null && existing.ExpiresAt > now)
                {
                    var same = SameRequest(existing.Fingerprint, fingerprint);
                    if (same is null)
                    {
                        // Made under a signing key since replaced: whether this is the same request cannot be told.
                        await ApiErrors.WriteAsync(context, ResponseUnavailable);
                        return;
                    }
                    if (same == false)
                    {
                        await ApiErrors.WriteAsync(context, ApiError.Conflict(
                            $"This {HeaderName} was already used with a different request.", "idempotency_key_reused"));
                        return;
                    }
                    if (existing.Completed)
                    {
                        await ReplayAsync(context, existing);
                        return;
                    }
                    if (now - existing.ClaimedAt < AbandonedAfter)
                    {
                        await InUseAsync(context);
                        return;
                    }
                }
                if (!await TryClaimAsync(table, claim, existing, context.RequestAborted))
                {
                    await InUseAsync(context);
                    return;
                }
            }
        }

        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        catch
        {
            await ReleaseAsync(table, claim);
            throw;
        }
        finally
        {
            context.Response.Body = original;
        }

        var status = context.Response.StatusCode;
        if (status >= 500 || status is StatusCodes.Status429TooManyRequests or StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden
            || buffer.Length > TableChunks.ChunkSize * MaxChunks)
        {
            // Not a result worth replaying (a failure, a throttle, or a refusal of who the caller is, which changes
            // once they sign in again): let the client's retry run the request again.
            await ReleaseAsync(table, claim);
        }
        else
        {
            var completed = new TableEntity(claim.PartitionKey, claim.RowKey)
            {
                [nameof(IdempotencyRecord.Fingerprint)] = claim.Fingerprint,
                [nameof(IdempotencyRecord.ClaimId)] = claim.ClaimId,
                [nameof(IdempotencyRecord.ClaimedAt)] = claim.ClaimedAt,
                [nameof(IdempotencyRecord.ExpiresAt)] = claim.ExpiresAt,
                [nameof(IdempotencyRecord.Completed)] = true,
                [nameof(IdempotencyRecord.Status)] = status,
                [nameof(IdempotencyRecord.ContentType)] = context.Response.ContentType,
                [nameof(IdempotencyRecord.Location)] = context.Response.Headers.Location.ToString(),
            };
            if (endpoint.StoresSecrets)
            {
                completed[nameof(IdempotencyRecord.Sealed)] = true;
                TableChunks.Write(completed, "Body", cipher.Seal(buffer.ToArray(), claim.PartitionKey));
            }
            else
            {
                TableChunks.Write(completed, "Body", buffer.ToArray());
            }
            await CompleteAsync(table, claim, completed);
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private static Task InUseAsync(HttpContext context) =>
        ApiErrors.WriteAsync(context, ApiError.Conflict(
            $"A request with this {HeaderName} is still being processed; retry shortly.", "idempotency_key_in_use"));

    /// <summary>
    /// Takes over an expired or abandoned record (or claims a key that has none), only if nobody else did since it was
    /// read. A transition: when storage stored the claim but its answer was lost, the claim id on the row says so.
    /// </summary>
    private static async Task<bool> TryClaimAsync(TableClient table, IdempotencyRecord claim, IdempotencyRecord? existing, CancellationToken cancellationToken)
    {
        var claimed = await TransitionSeam.ApplyAsync<IdempotencyRecord, bool>(table, claim.PartitionKey, claim.RowKey, existing, change =>
        {
            if (change.Current?.ETag != existing?.ETag)
                return false;
            change.Write(claim);
            return true;
        }, null, cancellationToken);
        if (claimed is { Outcome: true, Row: { } row })
            claim.ETag = row.ETag;
        return claimed.Outcome;
    }

    /// <summary>
    /// Stores the response on this request's claim. A transition that recognises the claim by its id: completed
    /// already (its own write, stored although its answer was lost) or taken over after being held too long, there
    /// is nothing to write, and either way this client still gets the answer its request produced.
    /// </summary>
    private static Task CompleteAsync(TableClient table, IdempotencyRecord claim, TableEntity completed)
    {
        var claimed = new TableEntity(claim.PartitionKey, claim.RowKey) { ETag = claim.ETag, [nameof(IdempotencyRecord.ClaimId)] = claim.ClaimId };
        return TransitionSeam.ApplyAsync<TableEntity, bool>(table, claim.PartitionKey, claim.RowKey, claimed, change =>
        {
            if (change.Current is not { } current || current.GetString(nameof(IdempotencyRecord.ClaimId)) != claim.ClaimId
                || current.GetBoolean(nameof(IdempotencyRecord.Completed)) == true)
                return false;
            change.Write(completed);
            return true;
        }, null, CancellationToken.None);
    }

    private static async Task ReleaseAsync(TableClient table, IdempotencyRecord claim)
    {
        try
        {
            await table.DeleteEntityAsync(claim.PartitionKey, claim.RowKey, claim.ETag, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Already gone or taken over; the claim expires on its own anyway.
        }
    }

    private async Task ReplayAsync(HttpContext context, IdempotencyRecord record)
    {
        var entity = record.Raw;
        var body = entity is null ? [] : TableChunks.Read(entity, "Body");
        if (record.Sealed)
        {
            if (cipher.Open(body, record.PartitionKey) is not { } opened)
            {
                // Sealed under a signing key since replaced: the secret it held cannot be shown again.
                await ApiErrors.WriteAsync(context, ResponseUnavailable);
                return;
            }
            body = opened;
        }
        context.Response.StatusCode = record.Status;
        context.Response.Headers[ReplayedHeader] = "true";
        if (!string.IsNullOrEmpty(record.Location))
            context.Response.Headers.Location = record.Location;
        if (!string.IsNullOrEmpty(record.ContentType))
            context.Response.ContentType = record.ContentType;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static readonly ApiError ResponseUnavailable = ApiError.Conflict(
        $"The response to this {HeaderName} can no longer be replayed; send the request with a new key.", "idempotency_response_unavailable");

    /// <summary>Prefix of keyed fingerprints; a stored one without it is the plain SHA-256 earlier versions wrote.</summary>
    private const string KeyedFingerprint = "h1:";

    /// <summary>
    /// What makes two requests "the same": method, path, query and body bytes, as an HMAC-SHA256 under
    /// <see cref="StoredResponseCipher.FingerprintKey"/> (and, for records stored before fingerprints were keyed,
    /// the plain SHA-256 they hold, computed in the same pass).
    /// </summary>
    private async Task<(string Keyed, string Legacy)> FingerprintAsync(HttpContext context)
    {
        context.Request.EnableBuffering();
        using var keyed = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, cipher.FingerprintKey);
        using var legacy = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var head = Encoding.UTF8.GetBytes($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}\n");
        keyed.AppendData(head);
        legacy.AppendData(head);
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            keyed.AppendData(buffer, 0, read);
            legacy.AppendData(buffer, 0, read);
        }
        context.Request.Body.Position = 0;
        return (KeyedFingerprint + cipher.FingerprintKeyId + ":" + Convert.ToHexString(keyed.GetHashAndReset()), Convert.ToHexString(legacy.GetHashAndReset()));
    }

    /// <summary>Whether a stored fingerprint is this request's: yes, no, or null when it was keyed with a signing key since replaced.</summary>
    private bool? SameRequest(string stored, (string Keyed, string Legacy) fingerprint)
    {
        if (!stored.StartsWith(KeyedFingerprint, StringComparison.Ordinal))
            return string.Equals(stored, fingerprint.Legacy, StringComparison.Ordinal);
        if (!stored.AsSpan(KeyedFingerprint.Length).StartsWith(cipher.FingerprintKeyId + ":", StringComparison.Ordinal))
            return null;
        return string.Equals(stored, fingerprint.Keyed, StringComparison.Ordinal);
    }

    private static string RowKeyFor(string scope, string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(scope + "\n" + key)));

    /// <summary>Deletes records past their retention; registered as an hourly timer.</summary>
    public static async Task SweepAsync(TimerInvocation invocation)
    {
        var storage = invocation.Services.GetRequiredService<StorageAccount>();
        var now = invocation.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var table = storage.Table(TableName);
        var expired = table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"ExpiresAt lt {now}"),
            select: ["PartitionKey", "RowKey"], cancellationToken: invocation.CancellationToken);
        await foreach (var row in expired)
        {
            try
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, invocation.CancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
            }
        }
    }
}

/// <summary>One Idempotency-Key's claim and, once the request completes, its response.</summary>
public sealed record IdempotencyRecord : IStampedRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Fingerprint { get; set; } = "";

    /// <summary>Unique to the request that claimed the key, so that it recognises its own claim.</summary>
    public string? ClaimId { get; set; }

    /// <summary>A claim written through the transition seam is stamped with the seam's operation id as its claim id.</summary>
    string? IStampedRow.OperationId { get => ClaimId; set => ClaimId = value; }

    public DateTimeOffset ClaimedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public bool Completed { get; set; }
    public int Status { get; set; }
    public string? ContentType { get; set; }
    public string? Location { get; set; }

    /// <summary>The stored body is encrypted (<see cref="StoredResponseCipher"/>): the endpoint's response carries a secret.</summary>
    public bool Sealed { get; set; }

    /// <summary>The row as read, which also holds the response body chunks (<c>Body0</c>, <c>Body1</c>, ...).</summary>
    [System.Runtime.Serialization.IgnoreDataMember]
    public TableEntity? Raw { get; set; }

    public static IdempotencyRecord From(TableEntity row) => new()
    {
        PartitionKey = row.PartitionKey,
        RowKey = row.RowKey,
        ETag = row.ETag,
        Fingerprint = row.GetString(nameof(Fingerprint)) ?? "",
        ClaimId = row.GetString(nameof(ClaimId)),
        ClaimedAt = row.GetDateTimeOffset(nameof(ClaimedAt)) ?? default,
        ExpiresAt = row.GetDateTimeOffset(nameof(ExpiresAt)) ?? default,
        Completed = row.GetBoolean(nameof(Completed)) ?? false,
        Status = row.GetInt32(nameof(Status)) ?? 0,
        ContentType = row.GetString(nameof(ContentType)),
        Location = row.GetString(nameof(Location)),
        Sealed = row.GetBoolean(nameof(Sealed)) ?? false,
        Raw = row,
    };
}
