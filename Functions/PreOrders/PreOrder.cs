using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Payments;

namespace Serverless.PreOrders;

public static class PreOrderStatus
{
    public const string Pending = "pending";
    public const string Paid = "paid";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, Paid, Expired, Cancelled };
}

/// <summary>
/// A pre-order, one row per pre-order in its merchant's partition (PK = merchant, RK = id). Ids sort newest
/// first, so a merchant's list is one range query. Money is an integer of the currency's minor units.
/// </summary>
public sealed record PreOrder : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string MerchantId { get; set; } = "";
    public string Status { get; set; } = PreOrderStatus.Pending;
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public string Description { get; set; } = "";
    public string CustomerName { get; set; } = "";
    public string CustomerEmail { get; set; } = "";
    public string CustomerPhone { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public string? TransactionId { get; set; }
    public string? PaymentMethod { get; set; }
    public DateTimeOffset? PaidAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }

    [System.Runtime.Serialization.IgnoreDataMember]
    public string Id => RowKey;

    [System.Runtime.Serialization.IgnoreDataMember]
    public decimal Amount => Currencies.FromMinor(AmountMinor, Currency);

    /// <summary>The status a client sees: a pending pre-order past its expiry is expired, exact to the request.</summary>
    public string EffectiveStatus(DateTimeOffset now) =>
        Status == PreOrderStatus.Pending && now >= ExpiresAt ? PreOrderStatus.Expired : Status;

    /// <summary>Pending and not yet expired: the only state that can be paid or cancelled.</summary>
    public bool IsOpen(DateTimeOffset now) => EffectiveStatus(now) == PreOrderStatus.Pending;

    public PreOrder Paid(GatewayPayment payment) => this with
    {
        Status = PreOrderStatus.Paid,
        TransactionId = payment.TransactionId,
        PaymentMethod = payment.PaymentMethod,
        PaidAt = payment.PaidAt,
        ClosedAt = payment.PaidAt,
    };

    public PreOrder Cancelled(DateTimeOffset now) => this with { Status = PreOrderStatus.Cancelled, ClosedAt = now };

    public PreOrder Expired() => this with { Status = PreOrderStatus.Expired, ClosedAt = ExpiresAt };
}

/// <summary>Where the public payment page finds a pre-order by id alone: PK = id → merchant.</summary>
public sealed record PreOrderLink : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string MerchantId { get; set; } = "";
}
