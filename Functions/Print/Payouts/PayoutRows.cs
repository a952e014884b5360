using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Payouts;

/// <summary>
/// Where customers' withdrawals and shops' earnings live.
/// <list type="bullet">
/// <item>A withdrawal: RK <c>print-withdrawal-{inverted id}</c> in the customer's partition of the users table,
/// written in the ledger transaction that holds its amount on the wallet.</item>
/// <item>Table <see cref="PrintEarnings.TableName"/>: a ledger account per shop (partition <c>shop-{id:D19}</c>) that
/// also holds the shop's payouts (RK <c>payout|{inverted id}</c>, newest first) and one claim per payout day
/// (RK <c>payout-day|yyyy-MM-dd</c>, naming that day's payout id); the platform's commission in 8 ledger accounts
/// (<c>commission-{0..7}</c>, by a stable hash of the job key); the shops that have earned (partition
/// <c>shops-with-earnings</c>, RK the shop id, one row per shop); and where each payout is (partition
/// <c>payout-ids</c>, RK the payout id, naming its shop); every shop's payouts by the run's day (partition
/// <c>payouts-by-month|yyyy-MM</c>, RK <c>yyyy-MM-dd|{inverted id}</c>), so the admin reads a date window without
/// visiting every shop.</item>
/// </list>
/// </summary>
public static class PayoutKeys
{
    public const string WithdrawalPrefix = "print-withdrawal-";
    public const string ShopsWithEarnings = "shops-with-earnings";
    public const string PayoutIds = "payout-ids";
    public const string PayoutPrefix = "payout|";
    public const string PayoutEnd = "payout}";
    public const int CommissionShards = 8;

    public static string Withdrawal(long withdrawalId) => WithdrawalPrefix + TableKeys.Number(long.MaxValue - withdrawalId);

    public static string Shop(long shopkeeperId) => "shop-" + TableKeys.Number(shopkeeperId);

    public static string Payout(long payoutId) => PayoutPrefix + TableKeys.Number(long.MaxValue - payoutId);

    public const string ByMonthPrefix = "payouts-by-month|";

    /// <summary>The day index's partition of a month: a month of payout runs, all shops together.</summary>
    public static string PayoutsByMonth(DateOnly day) => ByMonthPrefix + day.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static string PayoutsByDay(DateOnly day, long payoutId) =>
        day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "|" + TableKeys.Number(long.MaxValue - payoutId);

    /// <summary>The first key of the day index at or after <paramref name="day"/> ('|' sorts before '}').</summary>
    public static string PayoutsByDayStart(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "|";

    public static string PayoutsByDayEnd(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "}";

    public static string PayoutDay(DateOnly day) => "payout-day|" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A stable shard of a job key (FNV-1a over its UTF-16 units): the same key always lands on the same commission account.</summary>
    public static int CommissionShard(string jobKey)
    {
        var hash = 2166136261u;
        foreach (var c in jobKey)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return (int)(hash % CommissionShards);
    }

    public static LedgerAccount Earnings(long shopkeeperId) => new(PrintEarnings.TableName, Shop(shopkeeperId), PrintMoney.Currency);

    public static LedgerAccount Commission(int shard) =>
        new(PrintEarnings.TableName, "commission-" + shard.ToString(CultureInfo.InvariantCulture), PrintMoney.Currency);

    /// <summary>The earnings movement of a print job (on the shop's and the commission account alike).</summary>
    public static string Job(string jobKey) => "job-" + jobKey;

    public static string PayoutMovement(long payoutId) => "payout-" + payoutId.ToString(CultureInfo.InvariantCulture);

    public static string PayoutReturned(long payoutId) => PayoutMovement(payoutId) + "-failed";
}

/// <summary>A customer's withdrawal statuses: those of its bank payout.</summary>
public static class WithdrawalStatus
{
    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Processed = "processed";
    public const string Failed = "failed";
    public const string Reversed = "reversed";

    public static readonly StateMachine Machine = new("print-withdrawal",
        (Pending, Processing), (Pending, Processed), (Pending, Failed),
        (Processing, Processed), (Processing, Failed), (Processing, Reversed),
        (Processed, Reversed));

    /// <summary>The withdrawal status a payout status means; null for one that says nothing yet (requested).</summary>
    public static string? FromPayout(string payoutStatus) => payoutStatus switch
    {
        PayoutStatus.Pending => Pending,
        PayoutStatus.Processing => Processing,
        PayoutStatus.Processed => Processed,
        PayoutStatus.Failed => Failed,
        PayoutStatus.Reversed => Reversed,
        _ => null,
    };
}

/// <summary>A customer's withdrawal to a bank account (only the account's last four digits are kept).</summary>
public sealed record WithdrawalRow : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public long Id { get; set; }
    public long UserId { get; set; }
    public long AmountMinor { get; set; }
    public string Status { get; set; } = WithdrawalStatus.Pending;
    public string AccountLast4 { get; set; } = "";
    public string Ifsc { get; set; } = "";
    public string HolderName { get; set; } = "";

    /// <summary>The platform payout (<c>po_…</c>) that pays it.</summary>
    public string PayoutId { get; set; } = "";
    public string? FailureReason { get; set; }
    public string? Utr { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    StateMachine IStatefulRow.Moves => WithdrawalStatus.Machine;
}

/// <summary>A shop payout's statuses; an admin moves them (the money goes out by bank transfer outside the app).</summary>
public static class ShopPayoutStatus
{
    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Paid = "paid";
    public const string Failed = "failed";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, Processing, Paid, Failed };

    public static readonly StateMachine Machine = new("print-shop-payout",
        (Pending, Processing), (Processing, Paid), (Pending, Failed), (Processing, Failed));
}

/// <summary>One payout of a shop's earnings: its amount was debited from the earnings in the transaction that wrote it.</summary>
public sealed record ShopPayoutRow : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public long Id { get; set; }
    public long ShopkeeperId { get; set; }
    public long AmountMinor { get; set; }
    public string Status { get; set; } = ShopPayoutStatus.Pending;
    public string? Reference { get; set; }

    /// <summary>The admin's note on the payout (why it failed, what was agreed).</summary>
    public string? Note { get; set; }

    /// <summary>The payout run's day (UTC) that made it.</summary>
    public string Day { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? PaidAt { get; set; }

    StateMachine IStatefulRow.Moves => ShopPayoutStatus.Machine;
}

/// <summary>The payout a shop's payout run of one day made (or is making): its id, claimed before the debit.</summary>
public sealed record PayoutDayRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long PayoutId { get; set; }
}

/// <summary>A shop that has earned: the payout run reads these instead of scanning the earnings table.</summary>
public sealed record ShopWithEarningsRow : ITableEntity
{
    public string PartitionKey { get; set; } = PayoutKeys.ShopsWithEarnings;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long ShopkeeperId { get; set; }
}

/// <summary>Where a payout is: partition <c>payout-ids</c>, RK its id, naming its shop.</summary>
public sealed record PayoutIdRow : ITableEntity
{
    public string PartitionKey { get; set; } = PayoutKeys.PayoutIds;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long ShopkeeperId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// The day index: one row per payout made, in the partition of its run's month, written once the payout's debit
/// is applied (and again by a repeated run of that day, which repairs one lost in between). It names the payout
/// and its shop; the payout row itself holds its status.
/// </summary>
public sealed record PayoutByDayRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long PayoutId { get; set; }
    public long ShopkeeperId { get; set; }
    public string Day { get; set; } = "";
}
