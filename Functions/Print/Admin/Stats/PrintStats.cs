using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;
using Serverless.Print.Files;
using Serverless.Print.Payments;
using Serverless.Print.Payouts;

namespace Serverless.Print.Admin.Stats;

/// <summary>
/// The dashboard's counters (table <see cref="TableName"/>). Each event lands on one of eight shards (partition
/// <c>shard-{0..7}</c>, by a stable hash of its key), where it adds its deltas to three rows (<c>total</c>,
/// <c>day-yyyyMMdd</c>, <c>month-yyyyMM</c>, UTC, of the moment it counts) and inserts <c>applied|{key}</c>, all
/// in one entity-group transaction, so an event delivered twice counts once. Reading sums the shards.
/// </summary>
public static class StatsKeys
{
    public const string TableName = "printstats";
    public const int Shards = 8;
    public const string Total = "total";
    public const string AppliedPrefix = "applied|";

    public static string Shard(int shard) => "shard-" + shard.ToString(CultureInfo.InvariantCulture);

    /// <summary>FNV-1a over the key's UTF-16 units: the same key lands on the same shard in every process, unlike string.GetHashCode.</summary>
    public static int ShardOf(string eventKey)
    {
        var hash = 2166136261u;
        foreach (var c in eventKey)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return (int)(hash % Shards);
    }

    public static string Day(DateTimeOffset at) => "day-" + at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string Month(DateTimeOffset at) => "month-" + at.UtcDateTime.ToString("yyyyMM", CultureInfo.InvariantCulture);

    public static string Applied(string eventKey) => AppliedPrefix + TableKeys.Escape(eventKey);
}

/// <summary>
/// One counter row: every metric is a long (money in paise). Balances (unpaid earnings, payouts waiting) are only
/// meaningful on <c>total</c>; on a day or month row they are that period's net change.
/// </summary>
public sealed record PrintStatsRow : IStampedRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public long Customers { get; set; }
    public long Shopkeepers { get; set; }
    public long FilesUploaded { get; set; }
    public long PagesUploaded { get; set; }
    public long PrintsConfirmed { get; set; }
    public long WalletOrdersPaid { get; set; }
    public long WalletRevenueMinor { get; set; }
    public long RazorpayOrdersPaid { get; set; }
    public long RazorpayRevenueMinor { get; set; }
    public long HybridOrdersPaid { get; set; }
    public long HybridRevenueMinor { get; set; }
    public long Refunds { get; set; }
    public long RefundedMinor { get; set; }
    public long UnpaidEarningsMinor { get; set; }
    public long PendingPayouts { get; set; }
    public long PendingPayoutsMinor { get; set; }
    public long ProcessingPayouts { get; set; }
    public long ProcessingPayoutsMinor { get; set; }
    public long PaidPayouts { get; set; }
    public long PaidPayoutsMinor { get; set; }
    public long FailedPayouts { get; set; }
    public long FailedPayoutsMinor { get; set; }

    /// <summary>The metrics by name (the long properties), for applying an event's deltas and adding shards up.</summary>
    public static readonly IReadOnlyDictionary<string, PropertyInfo> Metrics = typeof(PrintStatsRow)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(long) && p.GetIndexParameters().Length == 0)
        .ToDictionary(p => p.Name, StringComparer.Ordinal);

    public long Get(string metric) => (long)Metrics[metric].GetValue(this)!;

    /// <summary>A copy with the deltas added (the keys, ETag and stamp kept).</summary>
    public PrintStatsRow Plus(IReadOnlyDictionary<string, long> deltas)
    {
        var next = this with { };
        foreach (var (metric, delta) in deltas)
            Metrics[metric].SetValue(next, next.Get(metric) + delta);
        return next;
    }

    /// <summary>Adds another row's metrics into this one (summing shards).</summary>
    public void Add(PrintStatsRow? other)
    {
        if (other is null)
            return;
        foreach (var metric in Metrics.Values)
            metric.SetValue(this, (long)metric.GetValue(this)! + (long)metric.GetValue(other)!);
    }
}

/// <summary>The dedupe row of an applied event: its existence means the event's deltas are counted.</summary>
public sealed record AppliedStatRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Type { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

/// <summary>What a stat event carries: when it happened (its day and month) and what it adds to which metric.</summary>
public sealed record PrintStatEvent(DateTimeOffset At, Dictionary<string, long> Add);

/// <summary>
/// The stat events the print surface publishes, each in the transaction of the change it counts (see
/// <see cref="PrintStatsChannel"/>). Keys name the change, so the same change reported twice is one event.
/// </summary>
public static class PrintStatEvents
{
    public const string Channel = "print-stats";

    public static OutboxEvent Uploaded(IReadOnlyList<PrintFileRow> files, DateTimeOffset at) =>
        Event("uploaded", "uploaded:" + Id(files[0].Id), at,
            (nameof(PrintStatsRow.FilesUploaded), files.Count), (nameof(PrintStatsRow.PagesUploaded), files.Sum(f => (long)f.NumPages)));

    public static OutboxEvent Confirmed(long fileId, DateTimeOffset at) =>
        Event("confirmed", "confirmed:" + Id(fileId), at, (nameof(PrintStatsRow.PrintsConfirmed), 1));

    /// <summary>An order paid (scenario A at once; razorpay and hybrid when their provider part succeeds): its whole amount is revenue of its method.</summary>
    public static OutboxEvent OrderPaid(PaymentOrderRow order) =>
        Event("order-paid", $"order-paid:{Id(order.UserId)}:{Id(order.Id)}", order.PaidAt ?? order.CreatedAt, order.PaymentMethod switch
        {
            PaymentMethods.Wallet => [(nameof(PrintStatsRow.WalletOrdersPaid), 1), (nameof(PrintStatsRow.WalletRevenueMinor), order.AmountMinor)],
            PaymentMethods.Hybrid => [(nameof(PrintStatsRow.HybridOrdersPaid), 1), (nameof(PrintStatsRow.HybridRevenueMinor), order.AmountMinor)],
            _ => [(nameof(PrintStatsRow.RazorpayOrdersPaid), 1), (nameof(PrintStatsRow.RazorpayRevenueMinor), order.AmountMinor)],
        });

    /// <summary>A refund of (part of) an order under its refund key, wherever its money goes (wallet or provider).</summary>
    public static OutboxEvent Refunded(PaymentOrderRow order, string refundKey, long amountMinor, DateTimeOffset at) =>
        Event("refunded", $"refunded:{Id(order.UserId)}:{Id(order.Id)}:{refundKey}", at,
            (nameof(PrintStatsRow.Refunds), 1), (nameof(PrintStatsRow.RefundedMinor), amountMinor));

    /// <summary>A shop's share of a print job credited to its earnings.</summary>
    public static OutboxEvent EarningsCredited(string jobKey, long shareMinor, DateTimeOffset at) =>
        Event("earnings-credited", "earnings-credited:" + jobKey, at, (nameof(PrintStatsRow.UnpaidEarningsMinor), shareMinor));

    /// <summary>A payout made by the payout run: its money leaves the unpaid earnings and waits as a pending payout.</summary>
    public static OutboxEvent PayoutCreated(ShopPayoutRow payout) =>
        Event("payout-created", "payout:" + Id(payout.Id) + ":" + ShopPayoutStatus.Pending, payout.CreatedAt,
            (nameof(PrintStatsRow.PendingPayouts), 1), (nameof(PrintStatsRow.PendingPayoutsMinor), payout.AmountMinor),
            (nameof(PrintStatsRow.UnpaidEarningsMinor), -payout.AmountMinor));

    /// <summary>A payout moved from <paramref name="from"/>'s status to <paramref name="to"/>; a failed one's money is unpaid earnings again.</summary>
    public static OutboxEvent PayoutMoved(ShopPayoutRow from, string to, DateTimeOffset at)
    {
        var deltas = new List<(string, long)>();
        void Move(string status, int sign)
        {
            var (count, amount) = status switch
            {
                ShopPayoutStatus.Pending => (nameof(PrintStatsRow.PendingPayouts), nameof(PrintStatsRow.PendingPayoutsMinor)),
                ShopPayoutStatus.Processing => (nameof(PrintStatsRow.ProcessingPayouts), nameof(PrintStatsRow.ProcessingPayoutsMinor)),
                ShopPayoutStatus.Paid => (nameof(PrintStatsRow.PaidPayouts), nameof(PrintStatsRow.PaidPayoutsMinor)),
                _ => (nameof(PrintStatsRow.FailedPayouts), nameof(PrintStatsRow.FailedPayoutsMinor)),
            };
            deltas.Add((count, sign));
            deltas.Add((amount, sign * from.AmountMinor));
        }
        Move(from.Status, -1);
        Move(to, +1);
        if (to == ShopPayoutStatus.Failed)
            deltas.Add((nameof(PrintStatsRow.UnpaidEarningsMinor), from.AmountMinor));
        return Event("payout-moved", "payout:" + Id(from.Id) + ":" + to, at, [.. deltas]);
    }

    public static OutboxEvent UserRegistered(long userId, string role, DateTimeOffset at) =>
        Event("user-registered", "user-registered:" + Id(userId), at, (RoleMetric(role), 1));

    public static OutboxEvent UserDeleted(long userId, string role, DateTimeOffset at) =>
        Event("user-deleted", "user-deleted:" + Id(userId), at, (RoleMetric(role), -1));

    private static string RoleMetric(string role) => role == PrintRoles.Shopkeeper ? nameof(PrintStatsRow.Shopkeepers) : nameof(PrintStatsRow.Customers);

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static OutboxEvent Event(string type, string key, DateTimeOffset at, params (string Metric, long Delta)[] deltas) =>
        new(Channel, key, "print", type, JsonSerializer.Serialize(new PrintStatEvent(at, deltas.ToDictionary(d => d.Metric, d => d.Delta, StringComparer.Ordinal))));
}
