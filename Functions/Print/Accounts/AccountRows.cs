using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Print.Accounts;

/// <summary>
/// Key design. Print-shop rows live in the platform's <c>users</c> partition beside the account they belong to, so
/// that creating, changing and deleting an account with everything it owns is one entity-group transaction:
/// <list type="bullet">
/// <item><c>print-{id:D19}</c>: the profile (<see cref="PrintProfile"/>);</item>
/// <item><c>print-{id:D19}-referral-{inverted referral id}</c>: referrals this customer made, newest first;</item>
/// <item><c>print-{id:D19}-reset-{sha256}</c>: password-reset tokens;</item>
/// <item><c>print-{id:D19}-invites</c>: the referral-invite budget;</item>
/// <item><c>refcode-{CODE}</c>: which customer a referral code belongs to (unique by construction).</item>
/// </list>
/// Everything an account owns shares the prefix <c>print-{id:D19}</c>, so one range query finds it all.
/// </summary>
public static class AccountKeys
{
    public static string Prefix(long userId) => "print-" + TableKeys.Number(userId);

    public static string Profile(long userId) => Prefix(userId);

    public static string Referral(long referrerId, long referralId) =>
        $"{Prefix(referrerId)}-referral-{TableKeys.Number(long.MaxValue - referralId)}";

    public static string ReferralPrefix(long referrerId) => Prefix(referrerId) + "-referral-";

    public static string Reset(long userId, string secretHash) => $"{Prefix(userId)}-reset-{secretHash}";

    public static string Invites(long userId) => Prefix(userId) + "-invites";

    public static string ReferralCode(string code) => "refcode-" + code.ToUpperInvariant();

    /// <summary>An OData filter for every row whose key starts with <paramref name="prefix"/> in the users partition.</summary>
    public static string StartsWith(string prefix) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {UserDirectory.Partition} and RowKey ge {prefix} and RowKey lt {prefix + '\uffff'}");
}

/// <summary>Who someone is on the print-shop platform, beside their platform account (username, email, password).</summary>
public sealed record PrintProfile : ITableEntity
{
    public string PartitionKey { get; set; } = UserDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long UserId { get; set; }

    /// <summary><c>customer</c>, <c>shopkeeper</c> or <c>admin</c>.</summary>
    public string Role { get; set; } = Roles.Customer;
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

    /// <summary>A customer's own code for inviting friends.</summary>
    public string? ReferralCode { get; set; }

    /// <summary>The customer who referred this one, and the referral row in that customer's history.</summary>
    public long? ReferredBy { get; set; }
    public long? ReferralId { get; set; }

    /// <summary>Raised to revoke every token issued before (password change or reset).</summary>
    public int SessionVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Points a referral code at its customer.</summary>
public sealed record ReferralCodeRow : ITableEntity
{
    public string PartitionKey { get; set; } = UserDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
}

public static class ReferralStatus
{
    public const string Pending = "pending";
    public const string Credited = "credited";
}

/// <summary>One friend a customer referred: pending until the friend's first top-up or first print, then credited.</summary>
public sealed record ReferralRow : ITableEntity
{
    public string PartitionKey { get; set; } = UserDirectory.Partition;
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
    public string PartitionKey { get; set; } = UserDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>How many referral invites a customer sent in the current 24-hour window.</summary>
public sealed record InviteWindowRow : ITableEntity
{
    public string PartitionKey { get; set; } = UserDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public DateTimeOffset WindowStart { get; set; }
    public int Count { get; set; }
}

public static class Rupees
{
    public static long ToPaise(decimal rupees) => (long)decimal.Round(rupees * 100m, MidpointRounding.AwayFromZero);

    public static decimal FromPaise(long paise) => paise / 100m;

    public static string Format(long paise) => "₹" + FromPaise(paise).ToString("0.##", CultureInfo.InvariantCulture);
}
