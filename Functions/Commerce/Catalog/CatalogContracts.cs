using System.ComponentModel.DataAnnotations;

namespace Serverless.Commerce.Catalog;

// Requests and responses of the catalogue, camelCase as the commerce document writes them. Money is a decimal string
// with exactly the currency's minor digits ("10.00"); percentages are numbers with up to 2 decimals.

/// <summary>The code is an ISO 4217 code in use (blanks around it and its case do not matter).</summary>
public sealed record CreateCurrencyRequest(
    [property: Required, RegularExpression(@"^\s*[A-Za-z]{3}\s*$")] string Code,
    [property: Required, StringLength(100, MinimumLength = 1)] string Name,
    [property: Required, StringLength(10, MinimumLength = 1)] string Symbol);

public sealed record CurrencyResponse(string Id, string Code, string Name, string Symbol);

/// <summary>The fee is a percentage with at most 2 decimals.</summary>
public sealed record CreateCompanyRequest(
    [property: Required, StringLength(200, MinimumLength = 1)] string Name,
    [property: Range(0, 100)] decimal? ClientServiceFeePercentage = null,
    [property: Range(0, 86_400)] int? SimilarOrderWindowSeconds = null);

public sealed record UpdateCompanyRequest(
    [property: StringLength(200, MinimumLength = 1)] string? Name = null,
    [property: Range(0, 100)] decimal? ClientServiceFeePercentage = null,
    [property: Range(0, 86_400)] int? SimilarOrderWindowSeconds = null,
    bool? Disabled = null);

public sealed record CompanyResponse(
    string Id, string Name, decimal ClientServiceFeePercentage, int SimilarOrderWindowSeconds, bool Disabled, DateTimeOffset CreatedAt);

/// <summary>A price: a currency's id and a positive amount with at most the currency's minor digits ("10.00").</summary>
public sealed record PriceBody(
    [property: Required, StringLength(36, MinimumLength = 1)] string CurrencyId,
    [property: Required, RegularExpression(@"^[0-9]{1,15}(\.[0-9]{1,4})?$")] string Amount);

public sealed record CreateProductRequest(
    [property: Required, StringLength(200, MinimumLength = 1)] string Name,
    [property: Required, AllowedValues("random", "fixed", "sequential")] string DistributionType,
    [property: Required, MinLength(1), MaxLength(20)] List<PriceBody> Prices,
    [property: StringLength(4000)] string? Description = null);

public sealed record UpdateProductRequest(
    [property: StringLength(200, MinimumLength = 1)] string? Name = null,
    [property: StringLength(4000)] string? Description = null,
    [property: AllowedValues("random", "fixed", "sequential")] string? DistributionType = null,
    [property: MinLength(1), MaxLength(20)] List<PriceBody>? Prices = null);

public sealed record PriceCurrency(string Id, string Code, string Symbol);

public sealed record PriceResponse(string CurrencyId, PriceCurrency? Currency, string Amount);

public sealed record AdminProductResponse(
    string Id, string CompanyId, string Name, string Description, string DistributionType, List<PriceResponse> Prices,
    int TokenCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ProductResponse(
    string Id, string Name, string Description, string DistributionType, List<PriceResponse> Prices, int StockAmount, string CompanyId);

/// <summary>Tokens are added for sale unless <c>status</c> says publishing.</summary>
public sealed record CreateTokensRequest(
    [property: Required, Range(1, CatalogAdmin.MaxTokensPerRequest)] int Quantity,
    [property: StringLength(100, MinimumLength = 1)] string? FixedUserId = null,
    [property: AllowedValues("publishing", "for_sale")] string? Status = null);

/// <summary>An empty <c>fixedUserId</c> frees the token for any buyer.</summary>
public sealed record UpdateTokenRequest(
    [property: AllowedValues("publishing", "for_sale", "locked", "cancelled")] string? Status = null,
    [property: StringLength(100)] string? FixedUserId = null);

public sealed record TokenResponse(
    string Id, string ProductId, string CompanyId, int Number, string Status, string? FixedUserId, string? OrderId,
    string? OwnerUserId, string? WalletAddress, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CreatedTokensResponse(string ProductId, int FirstNumber, int LastNumber, List<TokenResponse> Items);

/// <summary>A payment option: how a currency is paid by one method (sandbox is refused in production); orders expire after <c>expiryMinutes</c> (9 when absent).</summary>
public sealed record PaymentProviderBody(
    [property: Required, StringLength(36, MinimumLength = 1)] string CurrencyId,
    [property: Required, AllowedValues("credit_card", "pix", "crypto", "transfer", "boleto", "debit_card")] string PaymentMethod,
    [property: Required, AllowedValues("stripe", "transfer", "free", "sandbox")] string Provider,
    [property: Range(1, CatalogApi.MaxExpiryMinutes)] int? ExpiryMinutes = null);

public sealed record PutPaymentProvidersRequest([property: Required, MaxLength(CatalogApi.MaxSettingsRows)] List<PaymentProviderBody> Providers);

public sealed record PaymentProviderResponse(string CurrencyId, string PaymentMethod, string Provider, int ExpiryMinutes);

public sealed record PaymentProvidersResponse(List<PaymentProviderResponse> Providers);

/// <summary>A gas fee: a currency's id and an amount (zero allowed) with at most the currency's minor digits.</summary>
public sealed record GasFeeBody(
    [property: Required, StringLength(36, MinimumLength = 1)] string CurrencyId,
    [property: Required, RegularExpression(@"^[0-9]{1,15}(\.[0-9]{1,4})?$")] string Amount);

public sealed record PutGasFeesRequest([property: Required, MaxLength(CatalogApi.MaxSettingsRows)] List<GasFeeBody> GasFees);

public sealed record GasFeeResponse(string CurrencyId, PriceCurrency? Currency, string Amount);

public sealed record GasFeesResponse(List<GasFeeResponse> GasFees);

/// <summary>The code is stored upper-case; the discount is above 0 and at most 100, with at most 2 decimals.</summary>
public sealed record CreateCouponRequest(
    [property: Required, RegularExpression("^[A-Za-z0-9_-]{3,32}$")] string Code,
    [property: Required, Range(0, 100, MinimumIsExclusive = true)] decimal DiscountPercentage,
    DateTimeOffset? ExpiresAt = null);

public sealed record UpdateCouponRequest(bool? Active = null, DateTimeOffset? ExpiresAt = null);

public sealed record CouponResponse(string Code, decimal DiscountPercentage, DateTimeOffset? ExpiresAt, bool Active);

/// <summary>The URL is https (plain http only where the service allows it) and must resolve to public addresses.</summary>
public sealed record PutCompanyWebhookRequest(
    [property: Required, StringLength(2000, MinimumLength = 1), Url] string Url,
    bool? Enabled = null);

public sealed record CompanyWebhookResponse(
    string Url, bool Enabled, string? DisabledReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Secret = null);

