using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Commerce.Orders;

/// <summary>A payment of an order: the currency and method decide the provider (one payment per order here).</summary>
public sealed record OrderPaymentRequest(
    [property: JsonPropertyName("currencyId"), Required, StringLength(36, MinimumLength = 36)] string? CurrencyId,
    [property: JsonPropertyName("amountType"), AllowedValues("percentage", "all")] string? AmountType = null,
    // "100" when amountType is percentage: one payment pays the whole order.
    [property: JsonPropertyName("amount")] string? Amount = null,
    [property: JsonPropertyName("paymentMethod"), AllowedValues("credit_card", "pix", "crypto", "transfer", "boleto", "debit_card")] string? PaymentMethod = null,
    [property: JsonPropertyName("paymentProvider"), AllowedValues("stripe", "paypal", "pagar_me", "asaas", "transfer", "crypto", "free", "sandbox")]
    string? PaymentProvider = null,
    [property: JsonPropertyName("providerInputs")] JsonElement? ProviderInputs = null);

public sealed record PreviewProductRequest(
    [property: JsonPropertyName("productId"), Required, StringLength(36, MinimumLength = 36)] string? ProductId,
    [property: JsonPropertyName("productTokenId"), StringLength(36, MinimumLength = 36)] string? ProductTokenId = null,
    // 1 when absent, and 1 when productTokenId names a token.
    [property: JsonPropertyName("quantity"), Range(1, CommerceOrders.MaxTokensPerOrder)] int? Quantity = null);

public sealed record PreviewOrderRequest(
    [property: JsonPropertyName("orderProducts"), Required, MinLength(1), MaxLength(CommerceOrders.MaxTokensPerOrder)]
    List<PreviewProductRequest>? OrderProducts,
    [property: JsonPropertyName("payments"), MaxLength(1)] List<OrderPaymentRequest>? Payments = null,
    // Deprecated: payments[0].currencyId; read only when payments is absent or empty.
    [property: JsonPropertyName("currencyId")] string? CurrencyId = null,
    // Deprecated: payments[0].paymentMethod; read only when that is absent.
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod = null,
    [property: JsonPropertyName("couponCode"), StringLength(64)] string? CouponCode = null,
    // An EVM address; mixed case must carry a valid EIP-55 checksum.
    [property: JsonPropertyName("destinationWalletAddress"), RegularExpression("^0x[0-9a-fA-F]{40}$")] string? DestinationWalletAddress = null);

public sealed record ExpectedPriceRequest(
    [property: JsonPropertyName("currencyId")] string? CurrencyId,
    [property: JsonPropertyName("expectedPrice")] string? ExpectedPrice);

public sealed record CreateOrderProductRequest(
    [property: JsonPropertyName("productId"), Required, StringLength(36, MinimumLength = 36)] string? ProductId,
    [property: JsonPropertyName("productTokenId"), StringLength(36, MinimumLength = 36)] string? ProductTokenId = null,
    // Must hold the price in the order's currency, as the preview showed it.
    [property: JsonPropertyName("expectedPrices"), Required, MinLength(1)] List<ExpectedPriceRequest>? ExpectedPrices = null);

public sealed record SignedGasFeeRequest(
    [property: JsonPropertyName("currencyId")] string? CurrencyId,
    [property: JsonPropertyName("signedGasFee")] string? SignedGasFee);

public sealed record CreateOrderRequest(
    [property: JsonPropertyName("orderProducts"), Required, MinLength(1), MaxLength(CommerceOrders.MaxTokensPerOrder)]
    List<CreateOrderProductRequest>? OrderProducts,
    // Must hold the preview's signed gas fee of the order's currency.
    [property: JsonPropertyName("signedGasFees"), Required, MinLength(1)] List<SignedGasFeeRequest>? SignedGasFees = null,
    [property: JsonPropertyName("payments"), MaxLength(1)] List<OrderPaymentRequest>? Payments = null,
    // Deprecated: payments[0].currencyId; read only when payments is absent or empty.
    [property: JsonPropertyName("currencyId")] string? CurrencyId = null,
    // Deprecated: payments[0].paymentMethod; read only when that is absent.
    [property: JsonPropertyName("paymentMethod")] string? PaymentMethod = null,
    // An EVM address; mixed case must carry a valid EIP-55 checksum.
    [property: JsonPropertyName("destinationWalletAddress"), Required, RegularExpression("^0x[0-9a-fA-F]{40}$")] string? DestinationWalletAddress = null,
    // An absolute http(s) URL.
    [property: JsonPropertyName("successUrl"), StringLength(2048, MinimumLength = 1), Url] string? SuccessUrl = null,
    [property: JsonPropertyName("couponCode"), StringLength(64)] string? CouponCode = null,
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
