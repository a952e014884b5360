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

/// <summary>A code as stored: only an HMAC of it, with its expiry and the wrong guesses so far.</summary>
public sealed record OneTimeCodeRow : ITableEntity
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
/// wrong guesses (counted with ETag-conditional writes, so parallel guesses cannot exceed the budget) and works
/// once.
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
        var now = time.GetUtcNow();
        var key = RowKey(address);
        var existing = await Table.FindAsync<OneTimeCodeRow>(purpose, key, cancellationToken);
        if (existing is not null && now - existing.SentAt < Settings.ResendAfter)
            return new IssuedCode(null, Settings.ResendAfter - (now - existing.SentAt));
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var row = new OneTimeCodeRow
        {
            PartitionKey = purpose,
            RowKey = key,
            CodeHash = deliverable ? Hash(purpose, address, code) : null,
            SentAt = now,
            ExpiresAt = now + Settings.Lifetime,
        };
        try
        {
            if (existing is null)
                await Table.AddEntityAsync(row, cancellationToken);
            else
                await Table.UpdateEntityAsync(row, existing.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another request issued a code for this address a moment ago: that one stands.
            return new IssuedCode(null, Settings.ResendAfter);
        }
        return new IssuedCode(deliverable ? code : null, null);
    }

    /// <summary>Checks a code. A match uses the code up; a miss counts towards the lockout.</summary>
    public async Task<CodeCheck> VerifyAsync(string purpose, string address, string code, CancellationToken cancellationToken = default)
    {
        var presented = Hash(purpose, address, code);
        for (var attempt = 0; attempt < TableTransitions.MaxAttempts; attempt++)
        {
            var row = await Table.FindAsync<OneTimeCodeRow>(purpose, RowKey(address), cancellationToken);
            if (row is null || row.ExpiresAt <= time.GetUtcNow())
                return CodeCheck.Invalid;
            if (row.Attempts >= Settings.MaxAttempts)
                return CodeCheck.Locked;
            var matches = row.CodeHash is not null
                          && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(row.CodeHash), Encoding.ASCII.GetBytes(presented));
            try
            {
                if (matches)
                {
                    await Table.DeleteEntityAsync(row, row.ETag, cancellationToken);
                    return CodeCheck.Verified;
                }
                await Table.UpdateEntityAsync(row with { Attempts = row.Attempts + 1 }, row.ETag, TableUpdateMode.Replace, cancellationToken);
                return row.Attempts + 1 >= Settings.MaxAttempts ? CodeCheck.Locked : CodeCheck.Invalid;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // A parallel guess or a new code changed the row: judge again on what is there now.
            }
        }
        return CodeCheck.Invalid;
    }

    /// <summary>Forgets any code for this address (after the account it was for is gone).</summary>
    public async Task RemoveAsync(string purpose, string address, CancellationToken cancellationToken = default) =>
        await Table.DeleteEntityAsync(purpose, RowKey(address), ETag.All, cancellationToken);

    public static bool IsWellFormed(string? code) => code is { Length: 6 } && code.All(char.IsAsciiDigit);

    private static string RowKey(string address) => TableKeys.Escape(address.Trim().ToLowerInvariant());

    private string Hash(string purpose, string address, string code) =>
        Convert.ToHexString(HMACSHA256.HashData(_pepper, Encoding.UTF8.GetBytes($"{purpose}|{address.Trim().ToLowerInvariant()}|{code}")));
}
