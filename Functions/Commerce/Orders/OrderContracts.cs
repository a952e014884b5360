using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Commerce.Orders;

/// <summary>A payment of an order: the currency and method decide the provider (one payment per order here).</summary>
public sealed record OrderPaymentRequest(
    [property: JsonPropertyName("currencyId")] string? CurrencyId,
    [property: JsonPropertyName("amountType")] string? AmountType = null,
    [property: JsonPropertyName("amount")] string? Amount = null,
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod = null,
    [property: JsonPropertyName("paymentProvider")] string? PaymentProvider = null,
    [property: JsonPropertyName("providerInputs")] JsonElement? ProviderInputs = null);

public sealed record PreviewProductRequest(
    [property: JsonPropertyName("productId")] string? ProductId,
    [property: JsonPropertyName("productTokenId")] string? ProductTokenId = null,
    [property: JsonPropertyName("quantity")] int? Quantity = null);

public sealed record PreviewOrderRequest(
    [property: JsonPropertyName("orderProducts")] List<PreviewProductRequest>? OrderProducts,
    [property: JsonPropertyName("payments")] List<OrderPaymentRequest>? Payments = null,
    [property: JsonPropertyName("currencyId")] string? CurrencyId = null,
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod = null,
    [property: JsonPropertyName("couponCode")] string? CouponCode = null,
    [property: JsonPropertyName("destinationWalletAddress")] string? DestinationWalletAddress = null);

public sealed record ExpectedPriceRequest(
    [property: JsonPropertyName("currencyId")] string? CurrencyId,
    [property: JsonPropertyName("expectedPrice")] string? ExpectedPrice);

public sealed record CreateOrderProductRequest(
    [property: JsonPropertyName("productId")] string? ProductId,
    [property: JsonPropertyName("productTokenId")] string? ProductTokenId = null,
    [property: JsonPropertyName("expectedPrices")] List<ExpectedPriceRequest>? ExpectedPrices = null);

public sealed record SignedGasFeeRequest(
    [property: JsonPropertyName("currencyId")] string? CurrencyId,
    [property: JsonPropertyName("signedGasFee")] string? SignedGasFee);

public sealed record CreateOrderRequest(
    [property: JsonPropertyName("orderProducts")] List<CreateOrderProductRequest>? OrderProducts,
    [property: JsonPropertyName("signedGasFees")] List<SignedGasFeeRequest>? SignedGasFees = null,
    [property: JsonPropertyName("payments")] List<OrderPaymentRequest>? Payments = null,
    [property: JsonPropertyName("currencyId")] string? CurrencyId = null,
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod = null,
    [property: JsonPropertyName("destinationWalletAddress")] string? DestinationWalletAddress = null,
    [property: JsonPropertyName("successUrl")] string? SuccessUrl = null,
    [property: JsonPropertyName("couponCode")] string? CouponCode = null,
    [property: JsonPropertyName("acceptSimilarOrderInShortPeriod")] bool? AcceptSimilarOrderInShortPeriod = null);

public sealed record PriceResponse(
    [property: JsonPropertyName("currencyId")] string CurrencyId,
    [property: JsonPropertyName("amount")] string Amount);

public sealed record PreviewProductResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("productTokenId")] string? ProductTokenId,
    [property: JsonPropertyName("quantity")] int Quantity,
    [property: JsonPropertyName("prices")] IReadOnlyList<PriceResponse> Prices,
    [property: JsonPropertyName("price")] string Price);

public sealed record SignedGasFeeResponse(
    [property: JsonPropertyName("amount")] string Amount,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("expiresAt")] string ExpiresAt);

public sealed record ProviderForSelection(
    [property: JsonPropertyName("paymentMethod")] string PaymentMethod,
    [property: JsonPropertyName("paymentProvider")] string PaymentProvider);

public sealed record ProductErrorDetail(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

public sealed record ProductError(
    [property: JsonPropertyName("productId")] string? ProductId,
    [property: JsonPropertyName("productTokenId")] string? ProductTokenId,
    [property: JsonPropertyName("error")] ProductErrorDetail Error);

public sealed record OrderPreviewResponse(
    [property: JsonPropertyName("products")] IReadOnlyList<PreviewProductResponse> Products,
    [property: JsonPropertyName("currencyId")] string CurrencyId,
    [property: JsonPropertyName("cartPrice")] string CartPrice,
    [property: JsonPropertyName("discount")] string Discount,
    [property: JsonPropertyName("clientServiceFee")] string ClientServiceFee,
    [property: JsonPropertyName("gasFee")] SignedGasFeeResponse GasFee,
    [property: JsonPropertyName("totalPrice")] string TotalPrice,
    [property: JsonPropertyName("providersForSelection")] IReadOnlyList<ProviderForSelection> ProvidersForSelection,
    [property: JsonPropertyName("productsErrors")] IReadOnlyList<ProductError> ProductsErrors);

public sealed record OrderProductResponse(
    [property: JsonPropertyName("productId")] string ProductId,
    [property: JsonPropertyName("productTokenId")] string ProductTokenId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("tokenNumber")] int TokenNumber,
    [property: JsonPropertyName("currencyId")] string CurrencyId,
    [property: JsonPropertyName("price")] string Price);

public sealed record PaymentInfoResponse([property: JsonPropertyName("paymentUrl")] string? PaymentUrl);

public sealed record OrderPaymentResponse(
    [property: JsonPropertyName("currencyId")] string CurrencyId,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("amount")] string Amount,
    [property: JsonPropertyName("paymentMethod")] string PaymentMethod,
    [property: JsonPropertyName("paymentProvider")] string PaymentProvider,
    [property: JsonPropertyName("paymentInfo")] PaymentInfoResponse PaymentInfo);

public sealed record OrderResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("updatedAt")] string UpdatedAt,
    [property: JsonPropertyName("companyId")] string CompanyId,
    [property: JsonPropertyName("userId")] string UserId,
    [property: JsonPropertyName("destinationWalletAddress")] string DestinationWalletAddress,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("expiresIn")] string ExpiresIn,
    [property: JsonPropertyName("deliverId")] string? DeliverId,
    [property: JsonPropertyName("products")] IReadOnlyList<OrderProductResponse> Products,
    [property: JsonPropertyName("payments")] IReadOnlyList<OrderPaymentResponse> Payments,
    [property: JsonPropertyName("currencyId")] string CurrencyId,
    [property: JsonPropertyName("currencyAmount")] string CurrencyAmount,
    [property: JsonPropertyName("paymentProvider")] string PaymentProvider,
    [property: JsonPropertyName("paymentMethod")] string PaymentMethod,
    [property: JsonPropertyName("paymentInfo")] PaymentInfoResponse PaymentInfo,
    [property: JsonPropertyName("gasFee")] string GasFee,
    [property: JsonPropertyName("clientServiceFee")] string ClientServiceFee,
    [property: JsonPropertyName("discount")] string Discount,
    [property: JsonPropertyName("couponCode")] string? CouponCode,
    [property: JsonPropertyName("totalAmount")] string TotalAmount,
    [property: JsonPropertyName("failReason")] string? FailReason);

/// <summary>The signed webhook a company receives on every status change of one of its orders.</summary>
public sealed record OrderWebhookPayload(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("order")] OrderResponse Order);
