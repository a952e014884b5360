using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.Print.Accounts;

/// <summary>
/// Key design. Print-shop rows of an account live in that user's partition (<see cref="UserDirectory.PartitionOf"/>,
/// <c>user-{id:D19}</c>) beside the platform account, so that creating, changing and deleting an account with what it
/// owns is one entity-group transaction, and a wallet credit (in the same partition) can share one with the referral
/// it pays:
/// <list type="bullet">
/// <item><c>print-profile</c>: the profile (<see cref="PrintProfile"/>);</item>
/// <item><c>print-referral-{inverted referral id}</c>: referrals this customer made, newest first;</item>
/// <item><c>print-reset-{sha256}</c>: password-reset tokens;</item>
/// <item><c>print-invites</c>: the referral-invite budget.</item>
/// </list>
/// A referral code is a claim of the platform's kind: the only row of partition <c>refcode-{CODE}</c>, naming its customer.
/// </summary>
public static class AccountKeys
{
    public const string RowPrefix = "print-";
    public const string Profile = "print-profile";
    public const string ReferralPrefix = "print-referral-";
    public const string ResetPrefix = "print-reset-";
    public const string Invites = "print-invites";

    public static string Partition(long userId) => UserDirectory.PartitionOf(userId);

    public static string Referral(long referralId) => ReferralPrefix + TableKeys.Number(long.MaxValue - referralId);

    public static string Reset(string secretHash) => ResetPrefix + secretHash;

    public static string ReferralCode(string code) => "refcode-" + code.ToUpperInvariant();

    /// <summary>An OData filter for every row of the user's partition whose key starts with <paramref name="prefix"/>.</summary>
    public static string StartsWith(long userId, string prefix) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {Partition(userId)} and RowKey ge {prefix} and RowKey lt {prefix + '\uffff'}");
}

/// <summary>
/// Where print-shop rows of the old shared <c>users</c> partition go (see <see cref="UserPartitionMigration"/>):
/// <c>print-{id:D19}</c> becomes the profile, <c>print-{id:D19}-{rest}</c> <c>print-{rest}</c>, both in the user's
/// partition; <c>refcode-{CODE}</c> becomes the code's claim.
/// </summary>
public sealed class LegacyPrintRows : ILegacyUserRowMap
{
    private const int IdDigits = 19;

    public (string PartitionKey, string RowKey)? Map(string rowKey)
    {
        if (rowKey.StartsWith("refcode-", StringComparison.Ordinal))
            return (rowKey, UserDirectory.ClaimRow);
        if (!rowKey.StartsWith(AccountKeys.RowPrefix, StringComparison.Ordinal) || rowKey.Length < AccountKeys.RowPrefix.Length + IdDigits
            || !long.TryParse(rowKey.AsSpan(AccountKeys.RowPrefix.Length, IdDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return null;
        var rest = rowKey[(AccountKeys.RowPrefix.Length + IdDigits)..];
        return rest switch
        {
            "" => (AccountKeys.Partition(id), AccountKeys.Profile),
            ['-', .. var tail] => (AccountKeys.Partition(id), AccountKeys.RowPrefix + tail),
            _ => null,
        };
    }
}

/// <summary>Who someone is on the print-shop platform, beside their platform account (username, email, password).</summary>
public sealed record PrintProfile : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long UserId { get; set; }

    /// <summary><c>customer</c>, <c>shopkeeper</c> or <c>admin</c>.</summary>
    public string Role { get; set; } = PrintRoles.Customer;
    public string FullName { get; set; } = "";

    /// <summary>
    /// Copies of the account's identifiers, written in the same transactions that change the account, so that a
    /// profile read is one point read. Null on a row written before they were kept: read the account then.
    /// </summary>
    public string? Username { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? ShopName { get; set; }
    public double? Lat { get; set; }
    public double? Long { get; set; }
    public string? Address { get; set; }
    public bool IsOpen { get; set; }

    /// <summary>A shop's liveness (see <c>Print/Shops</c>): when it last opened, the app's last heartbeat, the last web activity.</summary>
    public DateTimeOffset? OpenedAt { get; set; }
    public DateTimeOffset? LastHeartbeatAt { get; set; }
    public DateTimeOffset? LastWebActivityAt { get; set; }

    /// <summary>A customer's own code for inviting friends.</summary>
    public string? ReferralCode { get; set; }

    /// <summary>The customer who referred this one, and the referral row in that customer's history.</summary>
    public long? ReferredBy { get; set; }
    public long? ReferralId { get; set; }

    /// <summary>Raised to revoke every token issued before (password change or reset).</summary>
    public int SessionVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public static class ReferralStatus
{
    public const string Pending = "pending";
    public const string Credited = "credited";
}

/// <summary>One friend a customer referred: pending until the friend's first top-up or first print, then credited.</summary>
public sealed record ReferralRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long Id { get; set; }
    public long ReferrerId { get; set; }
    public long RefereeId { get; set; }
    public string Status { get; set; } = ReferralStatus.Pending;

    /// <summary>The referrer's bonus in paise: what was promised at sign-up, or what was credited.</summary>
    public long AmountMinor { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CreditedAt { get; set; }
}

/// <summary>A password-reset token: only its SHA-256 is kept; it works once, until it expires.</summary>
public sealed record ResetTokenRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>How many referral invites a customer sent in the current 24-hour window.</summary>
public sealed record InviteWindowRow : IStampedRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public DateTimeOffset WindowStart { get; set; }
    public int Count { get; set; }
    public string? OperationId { get; set; }
}

/// <summary>Times as the print-shop document shows them: UTC to the second, with a Z.</summary>
public static class PrintTimes
{
    public static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Print-shop money is INR: paise (minor units) everywhere, rupees only at the API edge, through <see cref="Currencies"/>.</summary>
public static class PrintMoney
{
    public const string Currency = "INR";

    private static readonly decimal PaisePerRupee = (decimal)Math.Pow(10, Currencies.MinorDigits(Currency));

    /// <summary>Rupees as the document shows them: plain numbers (50, 12.5), not fixed to two decimals.</summary>
    public static decimal Rupees(long paise) => paise / PaisePerRupee;
}
