using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Serverless.PreOrders;

public sealed record LoginRequest(
    [property: JsonPropertyName("username"), Required, StringLength(64, MinimumLength = 1)] string Username,
    [property: JsonPropertyName("password"), Required, StringLength(256, MinimumLength = 1)] string Password);

public sealed record LoginResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>The customer a pre-order is for: a name, an email address and a phone number (7 to 15 digits).</summary>
public sealed record CustomerInfo(
    [property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string Name,
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string Email,
    [property: JsonPropertyName("phone"), Required, StringLength(32, MinimumLength = 7)] string Phone);

/// <summary>
/// A new pre-order: a positive amount with at most the currency's minor digits, an ISO 4217 currency code (any case),
/// and an expiration date-time with a zone, in the future and at most one year away.
/// </summary>
public sealed record CreatePreOrderRequest(
    [property: JsonPropertyName("amount"), Range(typeof(decimal), "0", "99999999999999", MinimumIsExclusive = true)] decimal Amount,
    [property: JsonPropertyName("currency"), Required, StringLength(3, MinimumLength = 3)] string Currency,
    [property: JsonPropertyName("description"), Required, StringLength(500, MinimumLength = 1)] string Description,
    [property: JsonPropertyName("expiration_date"), Required,
              RegularExpression(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")] string ExpirationDate,
    [property: JsonPropertyName("customer"), Required] CustomerInfo Customer);

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

/// <summary>A new merchant: a username that is also its client id, a password of 12 to 128 characters, and an optional display name.</summary>
public sealed record CreateMerchantRequest(
    [property: JsonPropertyName("username"), Required, StringLength(64, MinimumLength = 3), RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")]
    string Username,
    [property: JsonPropertyName("password"), Required, MinLength(12)] string Password,
    [property: JsonPropertyName("name"), StringLength(200, MinimumLength = 1)] string? Name = null);

public sealed record MerchantResponse(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] string CreatedAt);

/// <summary>Where the customer pays a pre-order: a path of this app (the sandbox or Razorpay checkout page) or the provider's URL.</summary>
public sealed record PayCheckoutResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checkout_url")] string CheckoutUrl);
