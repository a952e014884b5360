using System.Text.Json.Serialization;

namespace Serverless.PreOrders;

public sealed record LoginRequest(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password);

public sealed record LoginResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

public sealed record CustomerInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("phone")] string Phone);

public sealed record CreatePreOrderRequest(
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("expiration_date")] string ExpirationDate,
    [property: JsonPropertyName("customer")] CustomerInfo Customer);

public sealed record CreatePreOrderResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("qr_code")] string QrCode,
    [property: JsonPropertyName("payment_url")] string PaymentUrl,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("expires_at")] string ExpiresAt);

public sealed record PaymentDetails(
    [property: JsonPropertyName("transaction_id")] string TransactionId,
    [property: JsonPropertyName("payment_method")] string PaymentMethod,
    [property: JsonPropertyName("paid_at")] string PaidAt);

public sealed record PreOrderResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("customer")] CustomerInfo Customer,
    [property: JsonPropertyName("payment_details"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PaymentDetails? PaymentDetails,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("expires_at")] string ExpiresAt);

public sealed record PreOrderListResponse(
    [property: JsonPropertyName("data")] IReadOnlyList<PreOrderResponse> Data,
    [property: JsonPropertyName("limit")] int Limit,
    [property: JsonPropertyName("offset")] int Offset,
    [property: JsonPropertyName("has_more")] bool HasMore);

/// <summary>The webhook payload: <c>{event, data, timestamp}</c> as the document shows it.</summary>
public sealed record PreOrderEventPayload(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("data")] PreOrderEventData Data,
    [property: JsonPropertyName("timestamp")] string Timestamp);

public sealed record PreOrderEventData(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("payment_details"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PaymentDetails? PaymentDetails);

/// <summary>What the public payment page polls: only what the payer already sees on the page.</summary>
public sealed record PayPageStatus(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("expires_at")] string ExpiresAt,
    [property: JsonPropertyName("paid_at")] string? PaidAt);

public sealed record CreateMerchantRequest(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password,
    [property: JsonPropertyName("name")] string? Name = null);

public sealed record MerchantResponse(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] string CreatedAt);

/// <summary>Where the customer pays a pre-order: a path of this app (the sandbox or Razorpay checkout page) or the provider's URL.</summary>
public sealed record PayCheckoutResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checkout_url")] string CheckoutUrl);
