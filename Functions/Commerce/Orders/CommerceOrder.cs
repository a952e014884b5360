using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Orders;

public static class OrderStatus
{
    public const string Pending = "pending";
    public const string ConfirmingPayment = "confirming_payment";
    public const string WaitingDelivery = "waiting_delivery";
    public const string Delivering = "delivering";
    public const string Concluded = "concluded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Expired = "expired";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { Pending, ConfirmingPayment, WaitingDelivery, Delivering, Concluded, Failed, Cancelled, Expired };

    /// <summary>
    /// An order waits for its payment (pending; confirming_payment while an admin checks a transfer), then for its
    /// delivery, and ends concluded, failed, cancelled or expired. Only unpaid orders expire.
    /// </summary>
    public static readonly StateMachine Moves = new("commerce order",
        (Pending, ConfirmingPayment), (Pending, WaitingDelivery), (Pending, Expired), (Pending, Cancelled), (Pending, Failed),
        (ConfirmingPayment, WaitingDelivery), (ConfirmingPayment, Expired), (ConfirmingPayment, Cancelled), (ConfirmingPayment, Failed),
        (WaitingDelivery, Delivering), (WaitingDelivery, Cancelled), (WaitingDelivery, Failed),
        (Delivering, Concluded), (Delivering, Failed));

    /// <summary>Waiting for money: the statuses that expire and that a payment can still settle.</summary>
    public static bool IsUnpaid(string status) => status is Pending or ConfirmingPayment;

    public static bool IsFinal(string status) => status is Concluded or Failed or Cancelled or Expired;
}

/// <summary>One product token of an order, and the price it was bought at (minor units of the order's currency).</summary>
public sealed record OrderLine(string ProductId, string ProductName, string ProductTokenId, int TokenNumber, long PriceMinor);

/// <summary>
/// A commerce order: PK = <c>companyId|ownerId</c> (the buyer's partition: a buyer's list is one partition), RK = the
/// order id (a version-7 UUID: ids sort by creation). <see cref="CommerceOrderLink"/> finds it by id alone. The row
/// is written before its tokens are booked (<see cref="Booked"/> false until they are), so every booking names an
/// order that exists; an order whose booking never finished is not shown and expires like any other.
/// </summary>
public sealed record CommerceOrder : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string CompanyId { get; set; } = "";

    /// <summary>The document's <c>userId</c>: the buyer's user id, or the integration's client id.</summary>
    public string UserId { get; set; } = "";

    public string Status { get; set; } = OrderStatus.Pending;
    public bool Booked { get; set; }

    public string CurrencyId { get; set; } = "";
    public string CurrencyCode { get; set; } = "";
    public string PaymentMethod { get; set; } = "";
    public string PaymentProvider { get; set; } = "";
    public string DestinationWalletAddress { get; set; } = "";
    public string? SuccessUrl { get; set; }
    public string? CouponCode { get; set; }

    /// <summary>JSON of <see cref="OrderLine"/>.</summary>
    public string LinesJson { get; set; } = "[]";

    /// <summary>The product ids, sorted and joined: two orders of the same products are "similar".</summary>
    public string ProductsKey { get; set; } = "";

    public long CartMinor { get; set; }
    public long DiscountMinor { get; set; }
    public long ServiceFeeMinor { get; set; }
    public long GasFeeMinor { get; set; }
    public long TotalMinor { get; set; }

    public string? PaymentUrl { get; set; }
    public string? PaymentId { get; set; }
    public DateTimeOffset? PaidAt { get; set; }
    public string? DeliverId { get; set; }
    public string? FailReason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    StateMachine IStatefulRow.Moves => OrderStatus.Moves;

    public string Id => RowKey;

    public IReadOnlyList<OrderLine> Lines() => JsonSerializer.Deserialize<List<OrderLine>>(LinesJson) ?? [];

    /// <summary>The status a client sees: an unpaid order past its time is expired, exact to the request.</summary>
    public string EffectiveStatus(DateTimeOffset now) => OrderStatus.IsUnpaid(Status) && now >= ExpiresAt ? OrderStatus.Expired : Status;

    public CommerceOrder Moved(string to, DateTimeOffset now)
    {
        if (Status == to)
            throw new IllegalTransitionException($"This order is {Status} already.");
        OrderStatus.Moves.Ensure(Status, to);
        return this with { Status = to, UpdatedAt = now };
    }

    public static string PartitionFor(string companyId, string ownerId) => companyId.ToLowerInvariant() + "|" + ownerId;
}

/// <summary>Where an order is, by id alone (the admin's routes, payment callbacks): PK = order id.</summary>
public sealed record CommerceOrderLink : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string CompanyId { get; set; } = "";
    public string OrderPartition { get; set; } = "";
}
