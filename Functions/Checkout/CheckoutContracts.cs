using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Serverless.Checkout.Orders;
using Serverless.Checkout.Stores;

namespace Serverless.Checkout;

/// <summary>The customer's delivery details: firstName, lastName, email (an email address) and country are required.</summary>
public sealed record DeliveryInfoRequest(
    [property: JsonPropertyName("firstName"), Required, StringLength(100, MinimumLength = 1)] string? FirstName = null,
    [property: JsonPropertyName("lastName"), Required, StringLength(100, MinimumLength = 1)] string? LastName = null,
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string? Email = null,
    [property: JsonPropertyName("country"), Required, StringLength(60, MinimumLength = 1)] string? Country = null,
    [property: JsonPropertyName("city"), StringLength(100)] string? City = null,
    [property: JsonPropertyName("zip"), StringLength(20)] string? Zip = null,
    [property: JsonPropertyName("address"), StringLength(200)] string? Address = null,
    [property: JsonPropertyName("complement"), StringLength(200)] string? Complement = null,
    [property: JsonPropertyName("state"), StringLength(100)] string? State = null);

/// <summary>The body of <c>POST /plugins/orders/checkout</c>; the document marks all but paymentStatus and the return URLs required.</summary>
public sealed record CreateCheckoutOrderRequest(
    [property: JsonPropertyName("ecommerceOrderId"), Required, StringLength(100, MinimumLength = 1)] string? EcommerceOrderId = null,
    [property: JsonPropertyName("ecommerceType"), Required, AllowedValues("api", "wordpress")] string? EcommerceType = null,
    [property: JsonPropertyName("orderTotal"), Required, StringLength(40, MinimumLength = 1), RegularExpression(@"^\d{1,15}(\.\d{1,18})?$")] string? OrderTotal = null,
    [property: JsonPropertyName("orderCurrency"), Required, StringLength(3, MinimumLength = 3)] string? OrderCurrency = null,
    [property: JsonPropertyName("paymentStatus"), AllowedValues("pending", "on-hold")] string? PaymentStatus = null,
    [property: JsonPropertyName("callbackUrl"), Required, StringLength(2000, MinimumLength = 1), Url] string? CallbackUrl = null,
    [property: JsonPropertyName("store"), Required, StringLength(64, MinimumLength = 1)] string? Store = null,
    [property: JsonPropertyName("deliveryInfo"), Required] DeliveryInfoRequest? DeliveryInfo = null,
    [property: JsonPropertyName("cancelReturnUrl"), StringLength(2000, MinimumLength = 1), Url] string? CancelReturnUrl = null,
    [property: JsonPropertyName("successReturnUrl"), StringLength(2000, MinimumLength = 1), Url] string? SuccessReturnUrl = null);

/// <summary>The body of <c>PUT /plugins/checkout/{orderId}</c>: at least one field; a field left out (or null) is left as it is.</summary>
public sealed record UpdateCheckoutOrderRequest(
    [property: JsonPropertyName("transactionHash"), RegularExpression("^(0x)?[A-Za-z0-9]{8,200}$")] string? TransactionHash = null,
    [property: JsonPropertyName("paymentMethod"), RegularExpression("^[A-Za-z0-9 _-]{1,50}$")] string? PaymentMethod = null,
    [property: JsonPropertyName("paymentStatus"), AllowedValues("pending", "on-hold", "failed", "cancelled")] string? PaymentStatus = null,
    [property: JsonPropertyName("blockchain"), RegularExpression("^[A-Za-z0-9 _-]{1,50}$")] string? Blockchain = null,
    [property: JsonPropertyName("convertedTotal"), StringLength(40), RegularExpression(@"^\d{1,15}(\.\d{1,18})?$")] string? ConvertedTotal = null);

/// <summary>A store as its orders and the verification show it: never its API key or its hash.</summary>
public sealed record StoreResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("apiKeyId")] string ApiKeyId,
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("userId")] string UserId,
    [property: JsonPropertyName("wallets")] IReadOnlyList<StoreWallet> Wallets,
    [property: JsonPropertyName("storeUrl")] string StoreUrl,
    [property: JsonPropertyName("storeDiscountPercentage")] string StoreDiscountPercentage,
    [property: JsonPropertyName("storeMarkupPercentage")] string StoreMarkupPercentage,
    [property: JsonPropertyName("createdAt")] string CreatedAt);

/// <summary>The verification's answer: the store, and the secret its callbacks are signed with.</summary>
public sealed record StoreVerificationResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("apiKeyId")] string ApiKeyId,
    [property: JsonPropertyName("segment")] string Segment,
    [property: JsonPropertyName("userId")] string UserId,
    [property: JsonPropertyName("wallets")] IReadOnlyList<StoreWallet> Wallets,
    [property: JsonPropertyName("storeUrl")] string StoreUrl,
    [property: JsonPropertyName("storeDiscountPercentage")] string StoreDiscountPercentage,
    [property: JsonPropertyName("storeMarkupPercentage")] string StoreMarkupPercentage,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret);

/// <summary>
/// An order as the document shows it (<typeparamref name="TStore"/> is the store object on a single order, the store
/// id in a list), plus its status, payment details, times and the hosted page's link.
/// </summary>
public sealed record CheckoutOrderResponse<TStore>(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("callbackUrl")] string CallbackUrl,
    [property: JsonPropertyName("sessionToken")] string SessionToken,
    [property: JsonPropertyName("ecommerceOrderId")] string EcommerceOrderId,
    [property: JsonPropertyName("ecommerce")] string Ecommerce,
    [property: JsonPropertyName("orderTotal")] string OrderTotal,
    [property: JsonPropertyName("orderCurrency")] string OrderCurrency,
    [property: JsonPropertyName("storeMarkupPercentage")] string StoreMarkupPercentage,
    [property: JsonPropertyName("storeDiscountPercentage")] string StoreDiscountPercentage,
    [property: JsonPropertyName("cancelReturnUrl")] string? CancelReturnUrl,
    [property: JsonPropertyName("successReturnUrl")] string? SuccessReturnUrl,
    [property: JsonPropertyName("deliveryInfo")] DeliveryInfo? DeliveryInfo,
    [property: JsonPropertyName("store")] TStore Store,
    [property: JsonPropertyName("marketRates")] IReadOnlyDictionary<string, string> MarketRates,
    [property: JsonPropertyName("paymentStatus")] string PaymentStatus,
    [property: JsonPropertyName("payableTotal")] string PayableTotal,
    [property: JsonPropertyName("transactionHash")] string? TransactionHash,
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod,
    [property: JsonPropertyName("blockchain")] string? Blockchain,
    [property: JsonPropertyName("convertedTotal")] string? ConvertedTotal,
    [property: JsonPropertyName("transactions")] IReadOnlyList<OrderTransaction> Transactions,
    [property: JsonPropertyName("checkoutUrl")] string CheckoutUrl,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("updatedAt")] string UpdatedAt,
    [property: JsonPropertyName("expiresAt")] string ExpiresAt);

/// <summary>The list's answer; <c>total</c> only when <c>withCount</c> or <c>withTotal</c> asks for it.</summary>
public sealed record CheckoutOrderListResponse(
    [property: JsonPropertyName("total"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Total,
    [property: JsonPropertyName("orders")] IReadOnlyList<CheckoutOrderResponse<string>> Orders);

// Platform admin

/// <summary>
/// A store's settings, the body of both <c>POST</c> (where name and email are required) and <c>PATCH</c> (where every
/// field is optional, and one left out is left as it is). Percentages are strings from "0" to "99.99".
/// </summary>
public sealed record StoreSettingsRequest(
    [property: JsonPropertyName("name"), StringLength(200, MinimumLength = 1)] string? Name = null,
    [property: JsonPropertyName("email"), MinLength(3)] string? Email = null,
    [property: JsonPropertyName("segment"), StringLength(100)] string? Segment = null,
    [property: JsonPropertyName("storeUrl"), StringLength(2000)] string? StoreUrl = null,
    [property: JsonPropertyName("storeMarkupPercentage"), RegularExpression(@"^\d{1,2}(\.\d{1,2})?$")] string? StoreMarkupPercentage = null,
    [property: JsonPropertyName("storeDiscountPercentage"), RegularExpression(@"^\d{1,2}(\.\d{1,2})?$")] string? StoreDiscountPercentage = null,
    // At most one wallet per protocol: Protocols.All holds 11.
    [property: JsonPropertyName("wallets"), MaxLength(11)] List<StoreWallet>? Wallets = null);

/// <summary>
/// The body of <c>POST /plugins/admin/stores</c>: the settings of <see cref="StoreSettingsRequest"/>, with the name and
/// email a new store must have.
/// </summary>
public sealed record CreateStoreRequest(
    [property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string? Name = null,
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string? Email = null,
    [property: JsonPropertyName("segment"), StringLength(100)] string? Segment = null,
    [property: JsonPropertyName("storeUrl"), StringLength(2000)] string? StoreUrl = null,
    [property: JsonPropertyName("storeMarkupPercentage"), RegularExpression(@"^\d{1,2}(\.\d{1,2})?$")] string? StoreMarkupPercentage = null,
    [property: JsonPropertyName("storeDiscountPercentage"), RegularExpression(@"^\d{1,2}(\.\d{1,2})?$")] string? StoreDiscountPercentage = null,
    [property: JsonPropertyName("wallets"), MaxLength(11)] List<StoreWallet>? Wallets = null)
{
    public StoreSettingsRequest Settings() => new(Name, Email, Segment, StoreUrl, StoreMarkupPercentage, StoreDiscountPercentage, Wallets);
}

/// <summary>A new store with its API key (shown this once) and its callback signing secret.</summary>
public sealed record CreatedStoreResponse(
    [property: JsonPropertyName("store")] StoreResponse Store,
    [property: JsonPropertyName("apiKey")] string ApiKey,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret);

public sealed record RotatedWebhookSecretResponse(
    [property: JsonPropertyName("storeId")] string StoreId,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret);

public sealed record ConfirmTransferRequest(
    [property: JsonPropertyName("transactionHash"), RegularExpression("^(0x)?[A-Za-z0-9]{8,200}$")] string? TransactionHash = null,
    [property: JsonPropertyName("protocol"),
     AllowedValues("BITCOIN", "ETHEREUM", "BSC", "CELO", "STELLAR", "RIPPLE", "HATHOR", "CARDANO", "AVAXCCHAIN", "POLYGON", "SOLANA")]
    string? Protocol = null);

public sealed record StoreStateResponse(
    [property: JsonPropertyName("storeId")] string StoreId,
    [property: JsonPropertyName("enabled")] bool Enabled);
