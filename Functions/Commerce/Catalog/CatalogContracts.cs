namespace Serverless.Commerce.Catalog;

// Requests and responses of the catalogue, camelCase as the commerce document writes them. Money is a decimal string
// with exactly the currency's minor digits ("10.00"); percentages are numbers with up to 2 decimals.

public sealed record CreateCurrencyRequest(string Code, string Name, string Symbol);

public sealed record CurrencyResponse(string Id, string Code, string Name, string Symbol);

public sealed record CreateCompanyRequest(string Name, decimal? ClientServiceFeePercentage = null, int? SimilarOrderWindowSeconds = null);

public sealed record UpdateCompanyRequest(
    string? Name = null, decimal? ClientServiceFeePercentage = null, int? SimilarOrderWindowSeconds = null, bool? Disabled = null);

public sealed record CompanyResponse(
    string Id, string Name, decimal ClientServiceFeePercentage, int SimilarOrderWindowSeconds, bool Disabled, DateTimeOffset CreatedAt);

public sealed record PriceBody(string CurrencyId, string Amount);

public sealed record CreateProductRequest(string Name, string DistributionType, List<PriceBody> Prices, string? Description = null);

public sealed record UpdateProductRequest(
    string? Name = null, string? Description = null, string? DistributionType = null, List<PriceBody>? Prices = null);

public sealed record PriceCurrency(string Id, string Code, string Symbol);

public sealed record PriceResponse(string CurrencyId, PriceCurrency? Currency, string Amount);

public sealed record AdminProductResponse(
    string Id, string CompanyId, string Name, string Description, string DistributionType, List<PriceResponse> Prices,
    int TokenCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ProductResponse(
    string Id, string Name, string Description, string DistributionType, List<PriceResponse> Prices, int StockAmount, string CompanyId);

public sealed record CreateTokensRequest(int Quantity, string? FixedUserId = null, string? Status = null);

public sealed record UpdateTokenRequest(string? Status = null, string? FixedUserId = null);

public sealed record TokenResponse(
    string Id, string ProductId, string CompanyId, int Number, string Status, string? FixedUserId, string? OrderId,
    string? OwnerUserId, string? WalletAddress, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CreatedTokensResponse(string ProductId, int FirstNumber, int LastNumber, List<TokenResponse> Items);

public sealed record PaymentProviderBody(string CurrencyId, string PaymentMethod, string Provider, int? ExpiryMinutes = null);

public sealed record PutPaymentProvidersRequest(List<PaymentProviderBody> Providers);

public sealed record PaymentProviderResponse(string CurrencyId, string PaymentMethod, string Provider, int ExpiryMinutes);

public sealed record PaymentProvidersResponse(List<PaymentProviderResponse> Providers);

public sealed record GasFeeBody(string CurrencyId, string Amount);

public sealed record PutGasFeesRequest(List<GasFeeBody> GasFees);

public sealed record GasFeeResponse(string CurrencyId, PriceCurrency? Currency, string Amount);

public sealed record GasFeesResponse(List<GasFeeResponse> GasFees);

public sealed record CreateCouponRequest(string Code, decimal DiscountPercentage, DateTimeOffset? ExpiresAt = null);

public sealed record UpdateCouponRequest(bool? Active = null, DateTimeOffset? ExpiresAt = null);

public sealed record CouponResponse(string Code, decimal DiscountPercentage, DateTimeOffset? ExpiresAt, bool Active);

public sealed record PutCompanyWebhookRequest(string Url, bool? Enabled = null);

public sealed record CompanyWebhookResponse(
    string Url, bool Enabled, string? DisabledReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Secret = null);

