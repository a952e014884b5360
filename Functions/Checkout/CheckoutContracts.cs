using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Serverless.Checkout.Orders;
using Serverless.Checkout.Stores;

namespace Serverless.Checkout;

public sealed record DeliveryInfoRequest(
    [property: JsonPropertyName("firstName")] string? FirstName = null,
    [property: JsonPropertyName("lastName")] string? LastName = null,
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("country")] string? Country = null,
    [property: JsonPropertyName("city")] string? City = null,
    [property: JsonPropertyName("zip")] string? Zip = null,
    [property: JsonPropertyName("address")] string? Address = null,
    [property: JsonPropertyName("complement")] string? Complement = null,
    [property: JsonPropertyName("state")] string? State = null);

/// <summary>The body of <c>POST /plugins/orders/checkout</c>; the document marks all but paymentStatus and the return URLs required.</summary>
public sealed record CreateCheckoutOrderRequest(
    [property: JsonPropertyName("ecommerceOrderId"), Required, StringLength(100, MinimumLength = 1)] string? EcommerceOrderId = null,
    [property: JsonPropertyName("ecommerceType"), Required, AllowedValues("api", "wordpress")] string? EcommerceType = null,
    [property: JsonPropertyName("orderTotal")] string? OrderTotal = null,
    [property: JsonPropertyName("orderCurrency")] string? OrderCurrency = null,
    [property: JsonPropertyName("paymentStatus")] string? PaymentStatus = null,
    [property: JsonPropertyName("callbackUrl")] string? CallbackUrl = null,
    [property: JsonPropertyName("store")] string? Store = null,
    [property: JsonPropertyName("deliveryInfo")] DeliveryInfoRequest? DeliveryInfo = null,
    [property: JsonPropertyName("cancelReturnUrl")] string? CancelReturnUrl = null,
    [property: JsonPropertyName("successReturnUrl")] string? SuccessReturnUrl = null);

/// <summary>The body of <c>PUT /plugins/checkout/{orderId}</c>.</summary>
public sealed record UpdateCheckoutOrderRequest(
    [property: JsonPropertyName("transactionHash")] string? TransactionHash = null,
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod = null,
    [property: JsonPropertyName("paymentStatus")] string? PaymentStatus = null,
    [property: JsonPropertyName("blockchain")] string? Blockchain = null,
    [property: JsonPropertyName("convertedTotal")] string? ConvertedTotal = null);

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

public sealed record StoreSettingsRequest(
    [property: JsonPropertyName("name")] string? Name = null,
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("segment")] string? Segment = null,
    [property: JsonPropertyName("storeUrl")] string? StoreUrl = null,
    [property: JsonPropertyName("storeMarkupPercentage")] string? StoreMarkupPercentage = null,
    [property: JsonPropertyName("storeDiscountPercentage")] string? StoreDiscountPercentage = null,
    [property: JsonPropertyName("wallets")] List<StoreWallet>? Wallets = null);

/// <summary>A new store with its API key (shown this once) and its callback signing secret.</summary>
public sealed record CreatedStoreResponse(
    [property: JsonPropertyName("store")] StoreResponse Store,
    [property: JsonPropertyName("apiKey")] string ApiKey,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret);

public sealed record RotatedWebhookSecretResponse(
    [property: JsonPropertyName("storeId")] string StoreId,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret);

public sealed record ConfirmTransferRequest(
    [property: JsonPropertyName("transactionHash")] string? TransactionHash = null,
    [property: JsonPropertyName("protocol")] string? Protocol = null);

public sealed record StoreStateResponse(
    [property: JsonPropertyName("storeId")] string StoreId,
    [property: JsonPropertyName("enabled")] bool Enabled);
