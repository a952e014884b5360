using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Identity;

public sealed class OneTimeCodeOptions
{
    public const string Section = "OneTimeCodes";

    /// <summary>How long a code can be used after it is sent.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Wrong guesses after which a code is dead and a new one must be requested.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How soon the same address may be sent another code.</summary>
    public TimeSpan ResendAfter { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A code as stored: only an HMAC of it, with its expiry, the wrong guesses so far and whether it was used. A used
/// code keeps its row (until the next code replaces it) so that the request that used it recognises its own write.
/// </summary>
public sealed record OneTimeCodeRow : IStampedRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Null for a decoy: a row that behaves like a code but that no code matches (see <see cref="OneTimeCodes.IssueAsync"/>).</summary>
    public string? CodeHash { get; set; }
    public DateTimeOffset SentAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
    public string? OperationId { get; set; }
}

public enum CodeCheck
{
    /// <summary>The code matched; it is used up.</summary>
    Verified,

    /// <summary>Wrong, expired, already used or never sent.</summary>
    Invalid,

    /// <summary>Too many wrong guesses: the code is dead until a new one is requested.</summary>
    Locked,
}

/// <summary>What issuing a code gave: the code to send, or how long to wait before asking again.</summary>
public sealed record IssuedCode(string? Code, TimeSpan? RetryAfter)
{
    public bool Throttled => RetryAfter is not null;
}

/// <summary>
/// Six-digit codes sent by email (sign-up verification, sign-in). One live code per purpose and address; stored
/// as an HMAC keyed by a secret derived from the signing key, so a leaked table does not give codes away. A code
/// expires after <see cref="OneTimeCodeOptions.Lifetime"/>, locks after <see cref="OneTimeCodeOptions.MaxAttempts"/>
/// wrong guesses and works once; every write is a transition (<see cref="TransitionSeam"/>).
/// </summary>
public sealed class OneTimeCodes(StorageAccount storage, IOptions<OneTimeCodeOptions> options, IOptions<JwtOptions> jwt, TimeProvider time)
{
    public const string TableName = "onetimecodes";

    private readonly byte[] _pepper = HMACSHA256.HashData(Encoding.UTF8.GetBytes(jwt.Value.SigningKey), "one-time-codes"u8);

    private TableClient Table => storage.Table(TableName);

    public OneTimeCodeOptions Settings => options.Value;

    /// <summary>
    /// Starts a new code for <paramref name="address"/>, replacing any earlier one. With
    /// <paramref name="deliverable"/> false (an address nobody has registered, on a sign-in form) the row is a decoy
    /// that no code matches, so that the answers and the lockout look the same whether or not the address exists.
    /// Returns the code to send (null for a decoy), or how long to wait when one was sent too recently.
    /// </summary>
    public async Task<IssuedCode> IssueAsync(string purpose, string address, bool deliverable = true, CancellationToken cancellationToken = default)
    {
        var key = RowKey(address);
        var issued = await TransitionSeam.ApplyAsync<OneTimeCodeRow, IssuedCode>(Table, purpose, key, null, change =>
        {
            var now = time.GetUtcNow();
            // A code sent a moment ago (also by a request racing this one) stands, unless it was used already.
            if (change.Current is { UsedAt: null } existing && now - existing.SentAt < Settings.ResendAfter)
                return new IssuedCode(null, Settings.ResendAfter - (now - existing.SentAt));
            var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
            change.Write(new OneTimeCodeRow
            {
                PartitionKey = purpose,
                RowKey = key,
                CodeHash = deliverable ? Hash(purpose, address, code) : null,
                SentAt = now,
                ExpiresAt = now + Settings.Lifetime,
            });
            return new IssuedCode(deliverable ? code : null, null);
        }, null, cancellationToken);
        return issued.Outcome;
    }

    /// <summary>
    /// Checks a code. A match uses the code up; a miss counts towards the lockout. Both are transitions of the code's
    /// row, so parallel guesses cannot exceed the budget or use a code twice, and a write whose answer was lost is
    /// judged by what it stored (its operation id), not again on the row it left.
    /// </summary>
    public async Task<CodeCheck> VerifyAsync(string purpose, string address, string code, CancellationToken cancellationToken = default)
    {
        var presented = Encoding.ASCII.GetBytes(Hash(purpose, address, code));
        var checkedCode = await TransitionSeam.ApplyAsync<OneTimeCodeRow, CodeCheck>(Table, purpose, RowKey(address), null, change =>
        {
            var now = time.GetUtcNow();
            if (change.Current is not { UsedAt: null } row || row.ExpiresAt <= now)
                return CodeCheck.Invalid;
            if (row.Attempts >= Settings.MaxAttempts)
                return CodeCheck.Locked;
            if (row.CodeHash is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(row.CodeHash), presented))
            {
                change.Write(row with { CodeHash = null, UsedAt = now });
                return CodeCheck.Verified;
            }
            change.Write(row with { Attempts = row.Attempts + 1 });
            return row.Attempts + 1 >= Settings.MaxAttempts ? CodeCheck.Locked : CodeCheck.Invalid;
        }, null, cancellationToken);
        return checkedCode.Outcome;
    }

    /// <summary>Forgets any code for this address (after the account it was for is gone).</summary>
    public async Task RemoveAsync(string purpose, string address, CancellationToken cancellationToken = default) =>
        await Table.DeleteEntityAsync(purpose, RowKey(address), ETag.All, cancellationToken);

    public static bool IsWellFormed(string? code) => code is { Length: 6 } && code.All(char.IsAsciiDigit);

    private static string RowKey(string address) => TableKeys.Escape(address.Trim().ToLowerInvariant());

    private string Hash(string purpose, string address, string code) =>
        Convert.ToHexString(HMACSHA256.HashData(_pepper, Encoding.UTF8.GetBytes($"{purpose}|{address.Trim().ToLowerInvariant()}|{code}")));
}
