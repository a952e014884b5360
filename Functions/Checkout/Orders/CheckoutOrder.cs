using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Serverless.Platform.Storage;

namespace Serverless.Checkout.Orders;

public static class PaymentStatus
{
    public const string Pending = "pending";
    public const string OnHold = "on-hold";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Confirmed = "confirmed";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, OnHold, Failed, Cancelled, Confirmed };

    /// <summary>What a store may create an order with.</summary>
    public static readonly IReadOnlySet<string> OnCreate = new HashSet<string>(StringComparer.Ordinal) { Pending, OnHold };

    /// <summary>What a store may set through <c>PUT /plugins/checkout/{orderId}</c>; only a payment confirms.</summary>
    public static readonly IReadOnlySet<string> OnUpdate = new HashSet<string>(StringComparer.Ordinal) { Pending, OnHold, Failed, Cancelled };

    /// <summary>A confirmed or cancelled order is final; pending, on-hold and failed may still move among themselves.</summary>
    public static bool IsFinal(string status) => status is Confirmed or Cancelled;

    private static readonly string[] Open = [Pending, OnHold, Failed];

    public static readonly StateMachine Moves = new("checkout order",
        Open.SelectMany(from => Open.Where(to => to != from).Select(to => (from, to)))
            .Concat(Open.SelectMany(from => new[] { (from, Confirmed), (from, Cancelled) }))
            .ToArray());

    /// <summary>The callback's <c>message</c> for a status.</summary>
    public static string Message(string status) => status switch
    {
        Confirmed => "Payment was successful",
        OnHold => "Payment is awaiting confirmation",
        Failed => "Payment failed",
        Cancelled => "Order was cancelled",
        _ => "Order is awaiting payment",
    };
}

/// <summary>A blockchain transaction (or a gateway payment) that paid, or is paying, an order.</summary>
public sealed record OrderTransaction(
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("hash")] string Hash);

/// <summary>The customer and where the order goes; the document's <c>deliveryInfo</c>.</summary>
public sealed record DeliveryInfo(
    [property: JsonPropertyName("firstName")] string FirstName,
    [property: JsonPropertyName("lastName")] string LastName,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("country")] string Country,
    [property: JsonPropertyName("city"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? City = null,
    [property: JsonPropertyName("zip"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Zip = null,
    [property: JsonPropertyName("address"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Address = null,
    [property: JsonPropertyName("complement"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Complement = null,
    [property: JsonPropertyName("state"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? State = null);

/// <summary>
/// A checkout order, one row in its store's partition of <c>checkoutorders</c> (PK = store id, RK = order id). Ids
/// are 16 hex digits that sort newest first and 8 random ones, so a store's list is one range query and a date range
/// is a key range. The store's markup and discount and the market rates are copied in when the order is created:
/// the order is priced with what it was created under. Its status moves by <see cref="PaymentStatus.Moves"/> only;
/// <see cref="Version"/> counts those moves and keys the callback of each.
/// </summary>
public sealed record CheckoutOrder : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string Status { get; init; } = PaymentStatus.Pending;
    public int Version { get; set; }
    public string EcommerceOrderId { get; set; } = "";
    public string Ecommerce { get; set; } = "";
    public string OrderTotal { get; set; } = "";
    public long TotalMinor { get; set; }
    public long PayableMinor { get; set; }
    public string OrderCurrency { get; set; } = "";
    public string CallbackUrl { get; set; } = "";
    public string? CancelReturnUrl { get; set; }
    public string? SuccessReturnUrl { get; set; }
    public string DeliveryInfoJson { get; set; } = "{}";
    public string MarkupPercentage { get; set; } = "0";
    public string DiscountPercentage { get; set; } = "0";
    public string RatesBase { get; set; } = "";
    public string MarketRatesJson { get; set; } = "{}";
    public string SessionToken { get; set; } = "";
    public string? TransactionHash { get; set; }
    public string? PaymentMethod { get; set; }
    public string? Blockchain { get; set; }
    public string? ConvertedTotal { get; set; }
    public string TransactionsJson { get; set; } = "[]";

    /// <summary>Why the order was last cancelled or failed, for the callback's message (<c>expired</c>, ...).</summary>
    public string? Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    [System.Runtime.Serialization.IgnoreDataMember]
    public StateMachine Moves => PaymentStatus.Moves;

    [System.Runtime.Serialization.IgnoreDataMember]
    public string Id => RowKey;

    [System.Runtime.Serialization.IgnoreDataMember]
    public string StoreId => PartitionKey;

    [System.Runtime.Serialization.IgnoreDataMember]
    public IReadOnlyList<OrderTransaction> Transactions => JsonSerializer.Deserialize<List<OrderTransaction>>(TransactionsJson) ?? [];

    [System.Runtime.Serialization.IgnoreDataMember]
    public DeliveryInfo? Delivery => JsonSerializer.Deserialize<DeliveryInfo>(DeliveryInfoJson);

    [System.Runtime.Serialization.IgnoreDataMember]
    public IReadOnlyDictionary<string, string> MarketRates =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(MarketRatesJson) ?? new Dictionary<string, string>();

    /// <summary>Pending or failed past its expiry: unpaid, and about to be cancelled by its deadline.</summary>
    public bool IsLapsed(DateTimeOffset now) => Status is PaymentStatus.Pending or PaymentStatus.Failed && now >= ExpiresAt;

    /// <summary>What a reader sees: an unpaid order past its expiry is cancelled, exact to the request.</summary>
    public string EffectiveStatus(DateTimeOffset now) => IsLapsed(now) ? PaymentStatus.Cancelled : Status;

    /// <summary>A move to <paramref name="to"/> (counted, so its callback has its own key); staying put is no move.</summary>
    public CheckoutOrder MovedTo(string to, DateTimeOffset now, string? reason = null)
    {
        if (to == Status)
            return this with { UpdatedAt = now };
        Moves.Ensure(Status, to);
        return this with { Status = to, Version = Version + 1, UpdatedAt = now, Reason = reason };
    }

    public CheckoutOrder WithTransaction(OrderTransaction transaction) =>
        Transactions.Contains(transaction) ? this : this with { TransactionsJson = JsonSerializer.Serialize(Transactions.Append(transaction).ToList()) };

    public static string NewId(DateTimeOffset at) =>
        (long.MaxValue - at.UtcTicks).ToString("x16", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>The first id a time could have (ids sort newest first, so a later time has a smaller key).</summary>
    public static string KeyAt(DateTimeOffset at) => (long.MaxValue - at.UtcTicks).ToString("x16", CultureInfo.InvariantCulture);

    public static bool LooksLikeId(string id) => id.Length == 24 && !id.AsSpan().ContainsAnyExcept("0123456789abcdef");
}

/// <summary>
/// The claim of a store's own order id (RK = <c>x|</c> + escaped <c>ecommerceOrderId</c>, in the store's partition),
/// written in the same transaction as the order: one order per id, and a repeat of the same request finds it by the
/// fingerprint of its body.
/// </summary>
public sealed record EcommerceOrderClaim : IStampedRow
{
    public const string Prefix = "x|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }
    public string OrderId { get; set; } = "";
    public string Fingerprint { get; set; } = "";

    public static string Key(string ecommerceOrderId) => Prefix + TableKeys.Escape(ecommerceOrderId);
}
