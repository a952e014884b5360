using System.Text.Json.Serialization;

namespace Serverless.Print.Admin.Orders;

/// <summary>A payment order as the admin listing shows it; <c>user_id</c> is 0 (and no username) once its account was deleted.</summary>
public sealed record AdminOrderView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("user_id")] long UserId,
    [property: JsonPropertyName("username")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Username,
    [property: JsonPropertyName("order_id")] string OrderId,
    [property: JsonPropertyName("payment_id")] string? PaymentId,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("payment_method")] string PaymentMethod,
    [property: JsonPropertyName("wallet_amount")] decimal WalletAmount,
    [property: JsonPropertyName("razorpay_amount")] decimal RazorpayAmount,
    [property: JsonPropertyName("print_type")] string PrintType,
    [property: JsonPropertyName("shopkeeper_id")] long? ShopkeeperId,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("paid_at")] string? PaidAt,
    [property: JsonPropertyName("used")] bool Used,
    [property: JsonPropertyName("refunded_amount")] decimal RefundedAmount);

/// <summary>
/// One page of orders, newest first. There is no total: counting would mean reading every order in the range (the
/// filters apply to the orders, not the index); a page shorter than <c>limit</c> is the last.
/// </summary>
public sealed record AdminOrdersResponse([property: JsonPropertyName("orders")] IReadOnlyList<AdminOrderView> Orders);
