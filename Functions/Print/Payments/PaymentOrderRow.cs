using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using Azure;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Payments;

public static class PaymentOrderStatus
{
    /// <summary>Waiting for its Razorpay part.</summary>
    public const string Created = "created";

    public const string Paid = "paid";

    /// <summary>Not paid in time: its wallet part went back to the wallet.</summary>
    public const string Expired = "expired";

    public const string Refunded = "refunded";

    public static readonly StateMachine Machine = new("payment order",
        (Created, Paid), (Created, Expired), (Paid, Refunded));
}

public static class PaymentMethods
{
    public const string Wallet = "wallet";
    public const string Razorpay = "razorpay";
    public const string Hybrid = "hybrid";
}

/// <summary>
/// A print payment order, in its customer's partition (the same partition as the customer's wallet, so a wallet
/// payment and its order are one transaction): RK = <c>payorder|</c> + the id counted down (newest first). A row
/// <c>payorder-ref|&lt;order_id&gt;</c> finds it by the document's <c>order_id</c>.
/// </summary>
public sealed record PaymentOrderRow : IStampedRow, IStatefulRow
{
    public const string Prefix = "payorder|";
    public const string RefPrefix = "payorder-ref|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public long Id { get; set; }
    public long UserId { get; set; }
    public string OrderId { get; set; } = "";
    public long AmountMinor { get; set; }
    public long WalletAmountMinor { get; set; }
    public long RazorpayAmountMinor { get; set; }
    public string PaymentMethod { get; set; } = PaymentMethods.Wallet;
    public string Status { get; set; } = PaymentOrderStatus.Created;
    public string PrintType { get; set; } = "private";
    public int Copies { get; set; } = 1;
    public string PrintMode { get; set; } = "single";
    public string ColorMode { get; set; } = "bw";
    public string PaperSize { get; set; } = "A4";
    public long? ShopkeeperId { get; set; }
    public long ShopkeeperAmountMinor { get; set; }
    public long CommissionMinor { get; set; }
    public string? Comment { get; set; }
    public string? IntentId { get; set; }
    public string? CheckoutUrl { get; set; }
    public string? PaymentId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? PaidAt { get; set; }
    public DateTimeOffset? RefundedAt { get; set; }
    public string? RefundedTo { get; set; }

    /// <summary>When an upload used this order (an order pays for one upload), and which upload (its first file id).</summary>
    public DateTimeOffset? ConsumedAt { get; set; }
    public long? ConsumedBy { get; set; }

    /// <summary>What the upload cost; the rest of the amount went back to the wallet when it was used.</summary>
    public long ConsumedMinor { get; set; }
    public long ExcessReturnedMinor { get; set; }

    /// <summary>Refunded so far, by where the money came from: the wallet part, and the provider part.</summary>
    public long RefundedWalletPartMinor { get; set; }
    public long RefundedProviderPartMinor { get; set; }

    /// <summary>The excess went back to the wallet from the wallet part first, then from the provider part.</summary>
    [IgnoreDataMember]
    public long WalletPartLeftMinor => WalletAmountMinor - Math.Min(ExcessReturnedMinor, WalletAmountMinor) - RefundedWalletPartMinor;

    [IgnoreDataMember]
    public long ProviderPartLeftMinor => RazorpayAmountMinor - Math.Max(0, ExcessReturnedMinor - WalletAmountMinor) - RefundedProviderPartMinor;

    /// <summary>What can still be refunded.</summary>
    [IgnoreDataMember]
    public long RefundableMinor => WalletPartLeftMinor + ProviderPartLeftMinor;

    StateMachine IStatefulRow.Moves => PaymentOrderStatus.Machine;

    public static string RowKeyFor(long id) => Prefix + (long.MaxValue - id).ToString("D19", CultureInfo.InvariantCulture);

    public static string RefKeyFor(string orderId) => RefPrefix + TableKeys.Escape(orderId);

    /// <summary>What the payment intent of this order is keyed by.</summary>
    public static string IntentReference(long userId, long id) => $"order:{userId}:{id}";
}

/// <summary>Finds a payment order by its <c>order_id</c>, in the customer's partition.</summary>
public sealed record PaymentOrderRef : Azure.Data.Tables.ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long Id { get; set; }
}

/// <summary>The document's request: <c>amount</c> and <c>print_type</c> required, the rest optional with its defaults.</summary>
public sealed record CreatePaymentOrderRequest(
    [property: JsonPropertyName("amount"), Required, Range(0.01, 100_000)] decimal? Amount,
    [property: JsonPropertyName("print_type"), Required, AllowedValues("private", "queue")] string? PrintType,
    [property: JsonPropertyName("use_wallet")] bool? UseWallet = null,
    [property: JsonPropertyName("copies"), Range(1, 100)] int? Copies = null,
    [property: JsonPropertyName("print_mode"), AllowedValues("single", "double")] string? PrintMode = null,
    [property: JsonPropertyName("color_mode"), AllowedValues("bw", "color")] string? ColorMode = null,
    [property: JsonPropertyName("paper_size"), AllowedValues("A4", "A3", "A5", "Letter", "Legal")] string? PaperSize = null,
    [property: JsonPropertyName("shopkeeper_id")] long? ShopkeeperId = null,
    [property: JsonPropertyName("comment"), StringLength(500)] string? Comment = null,
    [property: JsonPropertyName("platform_commission"), Range(0, 1)] decimal? PlatformCommission = null);

public sealed record CreatePaymentOrderResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("order_id")] string OrderId,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("payment_method")] string PaymentMethod,
    [property: JsonPropertyName("wallet_amount")] decimal WalletAmount,
    [property: JsonPropertyName("razorpay_amount")] decimal RazorpayAmount,
    [property: JsonPropertyName("key_id")] string KeyId,
    [property: JsonPropertyName("shopkeeper_id")] long? ShopkeeperId,
    [property: JsonPropertyName("shopkeeper_amount")] decimal ShopkeeperAmount,
    [property: JsonPropertyName("platform_commission")] decimal PlatformCommission,
    [property: JsonPropertyName("skip_payment")] bool SkipPayment,
    [property: JsonPropertyName("checkout_url")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CheckoutUrl);

public sealed record PaymentOrderStatusResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("user_id")] long UserId,
    [property: JsonPropertyName("order_id")] string OrderId,
    [property: JsonPropertyName("payment_id")] string? PaymentId,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("payment_method")] string PaymentMethod,
    [property: JsonPropertyName("wallet_amount")] decimal WalletAmount,
    [property: JsonPropertyName("razorpay_amount")] decimal RazorpayAmount,
    [property: JsonPropertyName("print_type")] string PrintType,
    [property: JsonPropertyName("shopkeeper_id")] long? ShopkeeperId,
    [property: JsonPropertyName("shopkeeper_amount")] decimal ShopkeeperAmount,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("paid_at")] string? PaidAt)
{
    /// <summary>An order as the customer's status and history show it (and the admin's user details).</summary>
    public static PaymentOrderStatusResponse Of(PaymentOrderRow o) => new(o.Id, o.UserId, o.OrderId, o.PaymentId, PrintMoney.Rupees(o.AmountMinor),
        o.Status, o.PaymentMethod, PrintMoney.Rupees(o.WalletAmountMinor), PrintMoney.Rupees(o.RazorpayAmountMinor), o.PrintType, o.ShopkeeperId,
        PrintMoney.Rupees(o.ShopkeeperAmountMinor), PrintTimes.Format(o.CreatedAt), o.PaidAt is { } paid ? PrintTimes.Format(paid) : null);
}

public sealed record MyOrdersResponse(
    [property: JsonPropertyName("orders")] IReadOnlyList<PaymentOrderStatusResponse> Orders,
    [property: JsonPropertyName("total")] int Total);

public sealed record WalletBalanceResponse([property: JsonPropertyName("balance")] decimal Balance);

public sealed record TopupRequest([property: JsonPropertyName("amount"), Required, Range(10, 10_000)] decimal? Amount);

public sealed record TopupResponse(
    [property: JsonPropertyName("order_id")] string OrderId,
    [property: JsonPropertyName("key_id")] string KeyId,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("checkout_url")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CheckoutUrl);

public sealed record WalletTransactionView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("balance_before")] decimal BalanceBefore,
    [property: JsonPropertyName("balance_after")] decimal BalanceAfter,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("payment_order_id")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? PaymentOrderId,
    [property: JsonPropertyName("created_at")] string CreatedAt);

public sealed record WalletTransactionsResponse(
    [property: JsonPropertyName("transactions")] IReadOnlyList<WalletTransactionView> Transactions,
    [property: JsonPropertyName("total")] long Total);
