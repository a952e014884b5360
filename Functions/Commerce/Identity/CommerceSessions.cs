using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Identity;

/// <summary>Commerce sign-in settings (<c>Commerce__RefreshTokenLifetime</c>).</summary>
public sealed class CommerceIdentitySettings
{
    public CommerceIdentitySettings(IConfiguration configuration)
    {
        RefreshTokenLifetime = configuration.GetValue("Commerce:RefreshTokenLifetime", TimeSpan.FromDays(30));
        if (RefreshTokenLifetime <= TimeSpan.Zero)
            throw new InvalidOperationException("Commerce__RefreshTokenLifetime must be a positive time span (30.00:00:00 by default).");
    }

    /// <summary>How long a refresh token may be used after it was issued (each rotation issues one with this lifetime).</summary>
    public TimeSpan RefreshTokenLifetime { get; }
}

/// <summary>
/// One sign-in's chain of refresh tokens (a family): partition <c>family-{id}</c> of <c>commercesessions</c>, row
/// <c>family</c>. It holds the hash of the one refresh token that is current; every rotation replaces it, with the
/// ETag read and the rotating call's operation id.
/// </summary>
public sealed record SessionFamily : IStampedRow
{
    public const string Row = "family";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public string CompanyId { get; set; } = "";

    /// <summary>The account's session version at sign-in: once the account's moves on, the family is over.</summary>
    public int SessionVersion { get; set; }

    /// <summary>Hex SHA-256 of the current refresh token; the token itself is never stored.</summary>
    public string CurrentHash { get; set; } = "";
    public DateTimeOffset CurrentExpiresAt { get; set; }
    public int Generation { get; set; }
    public bool Revoked { get; set; }
    public string? RevokedReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? OperationId { get; set; }
}

/// <summary>A refresh token of the family that was rotated away (row <c>rotated-{hash}</c>): presenting it again is reuse.</summary>
public sealed record RotatedRefreshToken : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public int Generation { get; set; }
    public DateTimeOffset RotatedAt { get; set; }
}

/// <summary>A refresh token handed to a client: <c>{family id}.{secret}</c>.</summary>
public sealed record IssuedRefreshToken(string Token, DateTimeOffset ExpiresAt);

public enum RefreshOutcome
{
    Rotated,

    /// <summary>No such token (malformed, unknown, or of a family revoked before).</summary>
    Invalid,
    Expired,

    /// <summary>A token rotated away before was presented: the whole family is revoked.</summary>
    Reused,

    /// <summary>Another request with the same token rotated it while this one was deciding: refused, family intact.</summary>
    LostRace,

    /// <summary>The account was disabled, or its session version moved (password reset, role change).</summary>
    SessionEnded,
}

public sealed record RefreshResult(RefreshOutcome Outcome, UserAccount? Account = null, SessionFamily? Family = null, IssuedRefreshToken? Next = null);

/// <summary>
/// Refresh tokens of commerce sign-ins. A token is 32 random bytes (base64url) after its family's id; only its SHA-256
/// is stored. Every use rotates it through the transition seam: the family row is replaced conditionally on its ETag
/// together with the insert of a row that remembers the old token, so of concurrent refreshes with one token exactly
/// one stores a new token, and a lost storage answer is recognised by the operation id on the family row. Presenting a
/// token that was rotated away revokes the family: a copied token stops working for thief and owner alike.
/// </summary>
public sealed class CommerceSessions(StorageAccount storage, UserDirectory users, CommerceIdentitySettings settings, TimeProvider time)
{
    public const string TableName = "commercesessions";
    private const string RotatedPrefix = "rotated-";

    private TableClient Table => storage.Table(TableName);

    public static string PartitionOf(string familyId) => "family-" + familyId;

    /// <summary>Starts a family for a fresh sign-in and returns its first refresh token.</summary>
    public async Task<IssuedRefreshToken> StartAsync(UserAccount account, string companyId, CancellationToken cancellationToken = default)
    {
        var familyId = Base64Url(RandomNumberGenerator.GetBytes(16));
        var next = NewToken(familyId);
        var now = time.GetUtcNow();
        var family = new SessionFamily
        {
            PartitionKey = PartitionOf(familyId),
            UserId = account.Id,
            CompanyId = companyId,
            SessionVersion = account.SessionVersion,
            CurrentHash = Hash(next.Token),
            CurrentExpiresAt = next.ExpiresAt,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // A fresh random key: a 409 is this very insert, met again by the client library's retry.
        await Table.AddOnceAsync(family, stored => stored.CurrentHash == family.CurrentHash, cancellationToken);
        return next;
    }

    /// <summary>Uses a refresh token: on success the family's next token and the account as it is now.</summary>
    public async Task<RefreshResult> RefreshAsync(string presented, CancellationToken cancellationToken = default)
    {
        if (FamilyOf(presented) is not { } familyId)
            return new RefreshResult(RefreshOutcome.Invalid);
        var hash = Hash(presented);
        var next = NewToken(familyId);
        // Set once an attempt of this call found the token current: meeting it rotated on a later attempt means a
        // concurrent request with the same token won the race, which is not a replay of a stolen token.
        var sawCurrent = false;
        var applied = await TransitionSeam.ApplyAsync<SessionFamily, RefreshResult>(Table, PartitionOf(familyId), SessionFamily.Row, null,
            async change =>
            {
                var now = time.GetUtcNow();
                if (change.Current is not { Revoked: false } family)
                    return new RefreshResult(RefreshOutcome.Invalid);
                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(family.CurrentHash), Encoding.ASCII.GetBytes(hash)))
                {
                    if (await Table.FindAsync<RotatedRefreshToken>(family.PartitionKey, RotatedPrefix + hash, cancellationToken) is null)
                        return new RefreshResult(RefreshOutcome.Invalid);
                    if (sawCurrent)
                        return new RefreshResult(RefreshOutcome.LostRace);
                    change.Write(family with { Revoked = true, RevokedReason = "reused", UpdatedAt = now });
                    return new RefreshResult(RefreshOutcome.Reused);
                }
                sawCurrent = true;
                if (now >= family.CurrentExpiresAt)
                    return new RefreshResult(RefreshOutcome.Expired);
                var account = await users.FindByIdAsync(family.UserId, cancellationToken);
                if (account is not { Disabled: false } || account.SessionVersion != family.SessionVersion)
                {
                    change.Write(family with { Revoked = true, RevokedReason = "session-ended", UpdatedAt = now });
                    return new RefreshResult(RefreshOutcome.SessionEnded);
                }
                change.Write(family with
                {
                    CurrentHash = Hash(next.Token),
                    CurrentExpiresAt = next.ExpiresAt,
                    Generation = family.Generation + 1,
                    UpdatedAt = now,
                });
                change.Insert(new RotatedRefreshToken
                {
                    PartitionKey = family.PartitionKey, RowKey = RotatedPrefix + hash, Generation = family.Generation, RotatedAt = now,
                });
                return new RefreshResult(RefreshOutcome.Rotated, account, family, next);
            }, null, cancellationToken);
        return applied.Outcome;
    }

    /// <summary>The family as stored (tests and diagnostics).</summary>
    public Task<SessionFamily?> FindFamilyAsync(string refreshToken, CancellationToken cancellationToken = default) =>
        FamilyOf(refreshToken) is { } familyId
            ? Table.FindAsync<SessionFamily>(PartitionOf(familyId), SessionFamily.Row, cancellationToken)
            : Task.FromResult<SessionFamily?>(null);

    private IssuedRefreshToken NewToken(string familyId) =>
        new(familyId + "." + Base64Url(RandomNumberGenerator.GetBytes(32)), time.GetUtcNow() + settings.RefreshTokenLifetime);

    /// <summary>The family id of a well-formed token: 22 base64url characters, a dot, 43 more.</summary>
    private static string? FamilyOf(string token)
    {
        if (token.Length != 22 + 1 + 43 || token[22] != '.')
            return null;
        var familyId = token[..22];
        return token.Remove(22, 1).All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? familyId : null;
    }

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
