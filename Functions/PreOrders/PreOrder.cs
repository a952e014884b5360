using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.PreOrders;

public static class PreOrderStatus
{
    public const string Pending = "pending";
    public const string Paid = "paid";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, Paid, Expired, Cancelled };

    /// <summary>The only moves a pre-order makes: from pending to one final status.</summary>
    public static readonly StateMachine Moves = new("pre-order", (Pending, Paid), (Pending, Expired), (Pending, Cancelled));
}

/// <summary>
/// A pre-order, one row per pre-order in its merchant's partition (PK = merchant, RK = id). Ids sort newest
/// first, so a merchant's list is one range query. Money is an integer of the currency's minor units. Its moves are
/// <see cref="PreOrderStatus.Moves"/>, made only by <see cref="Paid"/>, <see cref="Cancelled"/> and <see cref="Expired"/>.
/// </summary>
public sealed record PreOrder : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string MerchantId { get; set; } = "";
    public string Status { get; init; } = PreOrderStatus.Pending;
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

    /// <summary>The operation that last wrote this row (see <see cref="IStampedRow"/>).</summary>
    public string? OperationId { get; set; }

    [System.Runtime.Serialization.IgnoreDataMember]
    public StateMachine Moves => PreOrderStatus.Moves;

    [System.Runtime.Serialization.IgnoreDataMember]
    public string Id => RowKey;

    [System.Runtime.Serialization.IgnoreDataMember]
    public decimal Amount => Currencies.FromMinor(AmountMinor, Currency);

    /// <summary>The status a client sees: a pending pre-order past its expiry is expired, exact to the request.</summary>
    public string EffectiveStatus(DateTimeOffset now) =>
        Status == PreOrderStatus.Pending && now >= ExpiresAt ? PreOrderStatus.Expired : Status;

    /// <summary>Pending and not yet expired: the only state that can be paid or cancelled.</summary>
    public bool IsOpen(DateTimeOffset now) => EffectiveStatus(now) == PreOrderStatus.Pending;

    /// <summary>Pending → paid by the provider's payment <paramref name="transactionId"/>.</summary>
    public PreOrder Paid(string transactionId, string paymentMethod, DateTimeOffset paidAt) => Move(PreOrderStatus.Paid) with
    {
        TransactionId = transactionId,
        PaymentMethod = paymentMethod,
        PaidAt = paidAt,
        ClosedAt = paidAt,
    };

    /// <summary>Pending → cancelled at <paramref name="now"/>.</summary>
    public PreOrder Cancelled(DateTimeOffset now) => Move(PreOrderStatus.Cancelled) with { ClosedAt = now };

    /// <summary>Pending → expired, closed at its expiry time.</summary>
    public PreOrder Expired() => Move(PreOrderStatus.Expired) with { ClosedAt = ExpiresAt };

    private PreOrder Move(string to)
    {
        if (Status == to)
            throw new IllegalTransitionException($"This pre-order is {Status} already.");
        Moves.Ensure(Status, to);
        return this with { Status = to };
    }
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
