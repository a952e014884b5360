using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;
using Serverless.Platform.Webhooks;

namespace Serverless.Commerce.Catalog;

/// <summary>
/// The commerce catalogue: currencies and companies (super admin), a company's products, tokens, payment providers,
/// gas fees, coupons and webhook (its admin or a super admin), and the buyer's view of a company's products.
/// </summary>
public static partial class CatalogApi
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;
    public const int MaxPrices = 20;
    public const int MaxSettingsRows = 40;
    public const int DefaultExpiryMinutes = 9;
    public const int MaxExpiryMinutes = 10080;

    /// <summary>Roles that may read the currencies: anyone with a commerce token.</summary>
    public static readonly string[] AnyCommerceRole = [CommerceRoles.User, CommerceRoles.SuperAdmin, CommerceRoles.Integration, CommerceRoles.Admin];

    public static IEndpointRouteBuilder MapCommerceCatalog(this IEndpointRouteBuilder app)
    {
        var superAdmin = app.MapCommerceGroup("/admin", "Commerce admin", [CommerceRoles.SuperAdmin]);
        superAdmin.MapPost("/currencies", CreateCurrency).WithName("CommerceAdminCreateCurrency").WithSummary("Add a currency (super admin)").WithIdempotency();
        superAdmin.MapPost("/companies", CreateCompany).WithName("CommerceAdminCreateCompany").WithSummary("Create a company (super admin)").WithIdempotency();
        superAdmin.MapPatch("/companies/{companyId}", UpdateCompany).WithName("CommerceAdminUpdateCompany").WithSummary("Change a company's settings (super admin)");

        app.MapCommerceGroup("/currencies", "Commerce catalogue", AnyCommerceRole)
            .MapGet("", ListCurrencies).WithName("CommerceListCurrencies").WithSummary("The currencies");

        var company = app.MapCommerceGroup("/admin/companies/{companyId}", "Commerce admin", CommerceRoles.Administrators);
        company.MapGet("", GetCompany).WithName("CommerceAdminGetCompany").WithSummary("A company (its admin, super admin)");
        company.MapPost("/products", CreateProduct).WithName("CommerceAdminCreateProduct").WithSummary("Create a product with its prices (company admin, super admin)").WithIdempotency();
        company.MapGet("/products", ListAdminProducts).WithName("CommerceAdminListProducts").WithSummary("The company's products (its admin, super admin)");
        company.MapGet("/products/{productId}", GetAdminProduct).WithName("CommerceAdminGetProduct").WithSummary("A product (company admin, super admin)");
        company.MapPatch("/products/{productId}", UpdateProduct).WithName("CommerceAdminUpdateProduct").WithSummary("Change a product (company admin, super admin)");
        company.MapPost("/products/{productId}/tokens", CreateTokens).WithName("CommerceAdminCreateProductTokens").WithSummary("Add numbered tokens to a product (company admin, super admin)").WithIdempotency()
            .WithDescription("Adds 1 to 500 tokens numbered after the product's last. Send an `Idempotency-Key` so that a retried request " +
                             "does not add the tokens twice.");
        company.MapGet("/products/{productId}/tokens", ListTokens).WithName("CommerceAdminListProductTokens").WithSummary("A product's tokens (company admin, super admin)");
        company.MapPatch("/products/{productId}/tokens/{tokenId}", UpdateToken).WithName("CommerceAdminUpdateProductToken").WithSummary("Change a token's status or fixed user (company admin, super admin)");
        company.MapPut("/payment-providers", PutPaymentProviders).WithName("CommerceAdminPutPaymentProviders").WithSummary("Replace the company's payment options (company admin, super admin)");
        company.MapGet("/payment-providers", GetPaymentProviders).WithName("CommerceAdminGetPaymentProviders").WithSummary("The company's payment options (company admin, super admin)");
        company.MapPut("/gas-fees", PutGasFees).WithName("CommerceAdminPutGasFees").WithSummary("Replace the company's gas fees (company admin, super admin)");
        company.MapGet("/gas-fees", GetGasFees).WithName("CommerceAdminGetGasFees").WithSummary("The company's gas fees (company admin, super admin)");
        company.MapPost("/coupons", CreateCoupon).WithName("CommerceAdminCreateCoupon").WithSummary("Create a coupon (company admin, super admin)");
        company.MapGet("/coupons", ListCoupons).WithName("CommerceAdminListCoupons").WithSummary("The company's coupons (company admin, super admin)");
        company.MapPatch("/coupons/{code}", UpdateCoupon).WithName("CommerceAdminUpdateCoupon").WithSummary("Change a coupon (company admin, super admin)");
        company.MapPut("/webhook", PutWebhook).WithName("CommerceAdminPutWebhook").WithSummary("Set the company's webhook endpoint (company admin, super admin)").WithIdempotency(storesSecrets: true);
        company.MapGet("/webhook", GetWebhook).WithName("CommerceAdminGetWebhook").WithSummary("The company's webhook endpoint (company admin, super admin)");

        var buyer = app.MapCommerceGroup("/companies/{companyId}", "Commerce catalogue", CommerceRoles.Buyers);
        buyer.MapGet("/products", ListProducts).WithName("CommerceCatalogListProducts").WithSummary("The company's products for sale, with prices and stock");
        buyer.MapGet("/products/{productId}", GetProduct).WithName("CommerceCatalogGetProduct").WithSummary("A product for sale, with its prices and stock");
        return app;
    }

    // ---- super admin -----------------------------------------------------------------------------------------------

    public static async Task<Results<Created<CurrencyResponse>, ErrorResult>> CreateCurrency(CreateCurrencyRequest body, CatalogAdmin admin,
        CancellationToken cancellationToken)
    {
        var code = body.Code?.Trim().ToUpperInvariant();
        var problem = Check.Required(code, "code", 3)
                      ?? (Currencies.IsKnown(code!) ? null : Bad("'code' must be an ISO 4217 currency code in use, such as USD."))
                      ?? Check.Required(body.Name, "name", 100) ?? Check.Required(body.Symbol, "symbol", 10);
        if (problem is not null)
            return problem;
        var currency = await admin.CreateCurrencyAsync(code!, body.Name.Trim(), body.Symbol.Trim(), cancellationToken);
        return currency is null
            ? ApiErrors.Conflict($"A currency with code '{code}' exists already.", "currency-already-exists")
            : TypedResults.Created($"/currencies/{currency.Id}", ToResponse(currency));
    }

    public static async Task<Ok<List<CurrencyResponse>>> ListCurrencies(CommerceCatalog catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok((await catalog.CurrenciesAsync(cancellationToken)).Values.OrderBy(c => c.Code, StringComparer.Ordinal).Select(ToResponse).ToList());

    public static async Task<Results<Created<CompanyResponse>, ErrorResult>> CreateCompany(CreateCompanyRequest body, CatalogAdmin admin,
        CancellationToken cancellationToken)
    {
        int fee = 0;
        var problem = Check.Required(body.Name, "name", 200)
                      ?? (body.ClientServiceFeePercentage is { } percentage ? Percentage(percentage, "clientServiceFeePercentage", true, out fee) : null)
                      ?? WindowSeconds(body.SimilarOrderWindowSeconds);
        if (problem is not null)
            return problem;
        var company = await admin.CreateCompanyAsync(body.Name.Trim(), fee, body.SimilarOrderWindowSeconds, cancellationToken);
        return TypedResults.Created($"/admin/companies/{company.Id}", ToResponse(company));
    }

    public static async Task<Results<Ok<CompanyResponse>, ErrorResult>> UpdateCompany(string companyId, UpdateCompanyRequest body, CatalogAdmin admin,
        CancellationToken cancellationToken)
    {
        int? fee = null;
        var problem = (body.Name is null ? null : Check.Required(body.Name, "name", 200))
                      ?? (body.ClientServiceFeePercentage is { } percentage ? Percentage(percentage, "clientServiceFeePercentage", true, out var f) ?? Set(out fee, f) : null)
                      ?? WindowSeconds(body.SimilarOrderWindowSeconds);
        if (problem is not null)
            return problem;
        if (!CommerceCatalog.LooksLikeId(companyId))
            return NoCompany(companyId);
        var company = await admin.UpdateCompanyAsync(companyId.ToLowerInvariant(), body.Name?.Trim(), fee, body.SimilarOrderWindowSeconds, body.Disabled,
            cancellationToken);
        return company is null ? NoCompany(companyId) : TypedResults.Ok(ToResponse(company));
    }

    // ---- company admin ---------------------------------------------------------------------------------------------

    public static async Task<Results<Ok<CompanyResponse>, ErrorResult>> GetCompany(string companyId, CatalogAdmin admin, CancellationToken cancellationToken)
    {
        var company = CommerceCatalog.LooksLikeId(companyId) ? await admin.FindCompanyAsync(companyId.ToLowerInvariant(), cancellationToken) : null;
        return company is null ? NoCompany(companyId) : TypedResults.Ok(ToResponse(company));
    }

    public static async Task<Results<Created<AdminProductResponse>, ErrorResult>> CreateProduct(string companyId, CreateProductRequest body,
        CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        var prices = new List<ProductPrice>();
        var problem = Check.Required(body.Name, "name", 200) ?? Description(body.Description)
                      ?? Check.OneOf(body.DistributionType, "distributionType", DistributionTypes.All)
                      ?? Prices(body.Prices, currencies, out prices);
        if (problem is not null)
            return problem;
        var product = await admin.CreateProductAsync(company, body.Name.Trim(), body.Description?.Trim() ?? "", body.DistributionType, prices,
            cancellationToken);
        catalog.Forget(company);
        return TypedResults.Created($"/admin/companies/{company}/products/{product.Id}", ToAdminResponse(product, currencies));
    }

    public static async Task<Results<Ok<Page<AdminProductResponse>>, ErrorResult>> ListAdminProducts(string companyId, int? page, int? limit,
        HttpRequest request, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        if (Paging(page, limit) is { } problem)
            return problem;
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        var products = (await catalog.ProductsAsync(company, cancellationToken)).OrderBy(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(Paged(request, products, page, limit, p => ToAdminResponse(p, currencies)));
    }

    public static async Task<Results<Ok<AdminProductResponse>, ErrorResult>> GetAdminProduct(string companyId, string productId,
        CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        var product = await catalog.ProductAsync(companyId, productId, cancellationToken);
        return product is null
            ? NoProduct(productId)
            : TypedResults.Ok(ToAdminResponse(product, await catalog.CurrenciesAsync(cancellationToken)));
    }

    public static async Task<Results<Ok<AdminProductResponse>, ErrorResult>> UpdateProduct(string companyId, string productId,
        UpdateProductRequest body, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        List<ProductPrice>? prices = null;
        var problem = (body.Name is null ? null : Check.Required(body.Name, "name", 200)) ?? Description(body.Description)
                      ?? (body.DistributionType is null ? null : Check.OneOf(body.DistributionType, "distributionType", DistributionTypes.All))
                      ?? (body.Prices is null ? null : Prices(body.Prices, currencies, out var p) ?? Set(out prices, p));
        if (problem is not null)
            return problem;
        if (!CommerceCatalog.LooksLikeId(companyId) || !CommerceCatalog.LooksLikeId(productId))
            return NoProduct(productId);
        var company = companyId.ToLowerInvariant();
        var product = await admin.UpdateProductAsync(company, productId.ToLowerInvariant(), body.Name?.Trim(), body.Description?.Trim(),
            body.DistributionType, prices, cancellationToken);
        catalog.Forget(company);
        return product is null ? NoProduct(productId) : TypedResults.Ok(ToAdminResponse(product, currencies));
    }

    public static async Task<Results<Created<CreatedTokensResponse>, ErrorResult>> CreateTokens(string companyId, string productId,
        CreateTokensRequest body, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        var status = body.Status ?? TokenStatus.ForSale;
        var problem = Check.Range(body.Quantity, "quantity", 1, CatalogAdmin.MaxTokensPerRequest)
                      ?? (body.FixedUserId is null ? null : Check.Required(body.FixedUserId, "fixedUserId", 100))
                      ?? Check.OneOf(status, "status", new HashSet<string> { TokenStatus.Publishing, TokenStatus.ForSale });
        if (problem is not null)
            return problem;
        if (await catalog.ProductAsync(companyId, productId, cancellationToken) is null)
            return NoProduct(productId);
        var company = companyId.ToLowerInvariant();
        var product = productId.ToLowerInvariant();
        var tokens = await admin.AddTokensAsync(company, product, body.Quantity, body.FixedUserId?.Trim(), status, cancellationToken);
        catalog.Forget(company);
        if (tokens is null)
            return NoProduct(productId);
        return TypedResults.Created($"/admin/companies/{company}/products/{product}/tokens",
            new CreatedTokensResponse(product, tokens[0].Number, tokens[^1].Number, tokens.Select(ToResponse).ToList()));
    }

    public static async Task<Results<Ok<Page<TokenResponse>>, ErrorResult>> ListTokens(string companyId, string productId, string? status, int? page,
        int? limit, HttpRequest request, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        var problem = Paging(page, limit) ?? (status is null ? null : Check.OneOf(status, "status", TokenStatus.All));
        if (problem is not null)
            return problem;
        if (await catalog.ProductAsync(companyId, productId, cancellationToken) is null)
            return NoProduct(productId);
        var tokens = await admin.TokensAsync(companyId.ToLowerInvariant(), productId.ToLowerInvariant(), status, cancellationToken);
        return TypedResults.Ok(Paged(request, tokens, page, limit, ToResponse));
    }

    public static async Task<Results<Ok<TokenResponse>, ErrorResult>> UpdateToken(string companyId, string productId, string tokenId,
        UpdateTokenRequest body, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        var problem = (body.Status is null ? null : Check.OneOf(body.Status, "status", AdminTokenStatuses))
                      ?? (body.FixedUserId is { Length: > 100 } ? Bad("'fixedUserId' must be at most 100 characters.") : null);
        if (problem is not null)
            return problem;
        if (!CommerceCatalog.LooksLikeId(companyId) || !CommerceCatalog.LooksLikeId(productId) || !CommerceCatalog.LooksLikeId(tokenId))
            return ApiErrors.NotFound($"Product token {tokenId} not found.");
        var company = companyId.ToLowerInvariant();
        var outcome = await admin.UpdateTokenAsync(company, productId.ToLowerInvariant(), tokenId.ToLowerInvariant(), body.Status,
            body.FixedUserId?.Trim(), cancellationToken);
        catalog.Forget(company);
        return outcome.Error is { } error ? ApiErrors.Result(error) : TypedResults.Ok(ToResponse(outcome.Row!));
    }

    /// <summary>The statuses an admin may set; booking and selling are the order's.</summary>
    public static readonly IReadOnlySet<string> AdminTokenStatuses = new HashSet<string>(StringComparer.Ordinal)
        { TokenStatus.Publishing, TokenStatus.ForSale, TokenStatus.Locked, TokenStatus.Cancelled };

    public static async Task<Results<Ok<PaymentProvidersResponse>, ErrorResult>> PutPaymentProviders(string companyId, PutPaymentProvidersRequest body,
        CatalogAdmin admin, CommerceCatalog catalog, IHostEnvironment environment, CancellationToken cancellationToken)
    {
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        if (body.Providers is null)
            return Bad("'providers' is required.");
        if (body.Providers.Count > MaxSettingsRows)
            return Bad($"'providers' must have at most {MaxSettingsRows} entries.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < body.Providers.Count; i++)
        {
            var p = body.Providers[i];
            var field = $"providers[{i}]";
            if (p is null)
                return Bad($"'{field}' is required.");
            var problem = Currency(p.CurrencyId, field + ".currencyId", currencies)
                          ?? Check.OneOf(p.PaymentMethod, field + ".paymentMethod", PaymentMethods.All)
                          ?? Provider(p.Provider, field + ".provider", environment)
                          ?? Check.Range(p.ExpiryMinutes ?? DefaultExpiryMinutes, field + ".expiryMinutes", 1, MaxExpiryMinutes);
            if (problem is not null)
                return problem;
            if (!seen.Add(CompanyPaymentOption.RowKeyFor(CurrencyIdOf(p.CurrencyId, currencies), p.PaymentMethod)))
                return Bad($"'{field}' repeats the currency and payment method of another entry.");
        }
        var found = await admin.ReplaceCompanyRowsAsync(company, CompanyPaymentOption.Prefix, () => body.Providers.Select(p => new CompanyPaymentOption
        {
            PartitionKey = company, RowKey = CompanyPaymentOption.RowKeyFor(CurrencyIdOf(p.CurrencyId, currencies), p.PaymentMethod),
            CurrencyId = CurrencyIdOf(p.CurrencyId, currencies), PaymentMethod = p.PaymentMethod, Provider = p.Provider,
            ExpiryMinutes = p.ExpiryMinutes ?? DefaultExpiryMinutes,
        }).ToList(), cancellationToken);
        return found ? TypedResults.Ok(await ProvidersAsync(company, admin, cancellationToken)) : NoCompany(companyId);
    }

    public static async Task<Results<Ok<PaymentProvidersResponse>, ErrorResult>> GetPaymentProviders(string companyId, CatalogAdmin admin,
        CancellationToken cancellationToken) =>
        await AdminCompanyAsync(companyId, admin, cancellationToken) is { } company
            ? TypedResults.Ok(await ProvidersAsync(company, admin, cancellationToken))
            : NoCompany(companyId);

    public static async Task<Results<Ok<GasFeesResponse>, ErrorResult>> PutGasFees(string companyId, PutGasFeesRequest body, CatalogAdmin admin,
        CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        if (body.GasFees is null)
            return Bad("'gasFees' is required.");
        if (body.GasFees.Count > MaxSettingsRows)
            return Bad($"'gasFees' must have at most {MaxSettingsRows} entries.");
        var fees = new List<(string CurrencyId, long Minor)>();
        for (var i = 0; i < body.GasFees.Count; i++)
        {
            var fee = body.GasFees[i];
            var field = $"gasFees[{i}]";
            if (fee is null)
                return Bad($"'{field}' is required.");
            if (Currency(fee.CurrencyId, field + ".currencyId", currencies) is { } badCurrency)
                return badCurrency;
            var currency = currencies[fee.CurrencyId];
            if (!TryParseMoney(fee.Amount, currency.Code, allowZero: true, out var minor))
                return BadAmount(field + ".amount", currency.Code);
            if (fees.Any(f => f.CurrencyId == currency.Id))
                return Bad($"'{field}' repeats the currency of another entry.");
            fees.Add((currency.Id, minor));
        }
        var found = await admin.ReplaceCompanyRowsAsync(company, CompanyGasFee.Prefix, () => fees.Select(f => new CompanyGasFee
        {
            PartitionKey = company, RowKey = CompanyGasFee.RowKeyFor(f.CurrencyId), CurrencyId = f.CurrencyId, AmountMinor = f.Minor,
        }).ToList(), cancellationToken);
        return found ? TypedResults.Ok(await GasFeesAsync(company, admin, catalog, cancellationToken)) : NoCompany(companyId);
    }

    public static async Task<Results<Ok<GasFeesResponse>, ErrorResult>> GetGasFees(string companyId, CatalogAdmin admin, CommerceCatalog catalog,
        CancellationToken cancellationToken) =>
        await AdminCompanyAsync(companyId, admin, cancellationToken) is { } company
            ? TypedResults.Ok(await GasFeesAsync(company, admin, catalog, cancellationToken))
            : NoCompany(companyId);

    public static async Task<Results<Created<CouponResponse>, ErrorResult>> CreateCoupon(string companyId, CreateCouponRequest body, CatalogAdmin admin,
        CancellationToken cancellationToken)
    {
        var basisPoints = 0;
        var problem = (body.Code is not null && CouponCode().IsMatch(body.Code) ? null
                          : Bad("'code' must be 3 to 32 letters, digits, '-' or '_'."))
                      ?? Percentage(body.DiscountPercentage, "discountPercentage", false, out basisPoints);
        if (problem is not null)
            return problem;
        if (!CommerceCatalog.LooksLikeId(companyId))
            return NoCompany(companyId);
        var company = companyId.ToLowerInvariant();
        var code = body.Code!.ToUpperInvariant();
        var outcome = await admin.CreateCouponAsync(company, code, basisPoints, body.ExpiresAt, cancellationToken);
        return outcome.Error is { } error
            ? ApiErrors.Result(error)
            : TypedResults.Created($"/admin/companies/{company}/coupons/{code}", ToResponse(outcome.Row!));
    }

    public static async Task<Results<Ok<List<CouponResponse>>, ErrorResult>> ListCoupons(string companyId, CatalogAdmin admin,
        CancellationToken cancellationToken)
    {
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var coupons = await admin.CompanyRowsAsync<CompanyCoupon>(company, CompanyCoupon.Prefix, cancellationToken);
        return TypedResults.Ok(coupons.OrderBy(c => c.Code, StringComparer.Ordinal).Select(ToResponse).ToList());
    }

    public static async Task<Results<Ok<CouponResponse>, ErrorResult>> UpdateCoupon(string companyId, string code, UpdateCouponRequest body,
        CatalogAdmin admin, CancellationToken cancellationToken)
    {
        if (!CommerceCatalog.LooksLikeId(companyId) || !CouponCode().IsMatch(code))
            return ApiErrors.NotFound($"Coupon '{code}' not found.");
        var outcome = await admin.UpdateCouponAsync(companyId.ToLowerInvariant(), code.ToUpperInvariant(), body.Active, body.ExpiresAt, cancellationToken);
        return outcome.Error is { } error ? ApiErrors.Result(error) : TypedResults.Ok(ToResponse(outcome.Row!));
    }

    public static async Task<Results<Created<CompanyWebhookResponse>, Ok<CompanyWebhookResponse>, ErrorResult>> PutWebhook(string companyId,
        PutCompanyWebhookRequest body, CatalogAdmin admin, WebhookTargetGuard guard, WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (await guard.CheckAsync(body.Url, "url", cancellationToken) is { } badUrl)
            return ApiErrors.BadRequest(badUrl, "invalid_url");
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var change = await endpoints.SetAsync(WebhookOwner(company), body.Url.Trim(), body.Enabled, cancellationToken);
        var response = ToResponse(change.Endpoint, change.NewSecret);
        return change.Created ? TypedResults.Created($"/admin/companies/{company}/webhook", response) : TypedResults.Ok(response);
    }

    public static async Task<Results<Ok<CompanyWebhookResponse>, ErrorResult>> GetWebhook(string companyId, CatalogAdmin admin,
        WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (await AdminCompanyAsync(companyId, admin, cancellationToken) is not { } company)
            return NoCompany(companyId);
        var endpoint = await endpoints.FindAsync(WebhookOwner(company), cancellationToken);
        return endpoint is null ? ApiErrors.NotFound($"Company {companyId} has no webhook.") : TypedResults.Ok(ToResponse(endpoint, null));
    }

    /// <summary>The platform webhook owner of a company's notifications.</summary>
    public static string WebhookOwner(string companyId) => "company:" + companyId.ToLowerInvariant();

    // ---- buyer -----------------------------------------------------------------------------------------------------

    public static async Task<Results<Ok<Page<ProductResponse>>, ErrorResult>> ListProducts(string companyId, int? page, int? limit,
        HttpRequest request, CommerceCatalog catalog, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Paging(page, limit) is { } problem)
            return problem;
        if (await catalog.CompanyAsync(companyId, cancellationToken) is null)
            return NoCompany(companyId);
        var company = companyId.ToLowerInvariant();
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        var products = (await catalog.ProductsAsync(company, cancellationToken)).OrderBy(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
        var now = time.GetUtcNow();
        var paged = Paged(request, products, page, limit, p => p);
        var items = await Task.WhenAll(paged.Items.Select(async p =>
            ToBuyerResponse(p, currencies, await catalog.CountForSaleAsync(company, p.Id, now, cancellationToken))));
        return TypedResults.Ok(new Page<ProductResponse>([.. items], paged.Meta, paged.Links));
    }

    public static async Task<Results<Ok<ProductResponse>, ErrorResult>> GetProduct(string companyId, string productId, CommerceCatalog catalog,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (await catalog.CompanyAsync(companyId, cancellationToken) is null)
            return NoCompany(companyId);
        var product = await catalog.ProductAsync(companyId, productId, cancellationToken);
        if (product is null)
            return NoProduct(productId);
        var stock = await catalog.CountForSaleAsync(product.CompanyId, product.Id, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(ToBuyerResponse(product, await catalog.CurrenciesAsync(cancellationToken), stock));
    }

    // ---- checks ----------------------------------------------------------------------------------------------------

    private static ErrorResult Bad(string message) => ApiErrors.BadRequest(message, "validation_error");

    private static ErrorResult NoCompany(string companyId) => ApiErrors.NotFound($"Company {companyId} not found.");

    private static ErrorResult NoProduct(string productId) => ApiErrors.NotFound($"Product {productId} not found.");

    private static ErrorResult? Set<T>(out T target, T value)
    {
        target = value;
        return null;
    }

    /// <summary>The company's partition key when the company exists (disabled or not): admins still manage a disabled company.</summary>
    private static async Task<string?> AdminCompanyAsync(string companyId, CatalogAdmin admin, CancellationToken cancellationToken) =>
        CommerceCatalog.LooksLikeId(companyId) && await admin.FindCompanyAsync(companyId.ToLowerInvariant(), cancellationToken) is { } company
            ? company.Id
            : null;

    private static ErrorResult? Description(string? description) =>
        description is { Length: > 4000 } ? Bad("'description' must be at most 4000 characters.") : null;

    private static ErrorResult? WindowSeconds(int? seconds) =>
        seconds is { } s ? Check.Range(s, "similarOrderWindowSeconds", 0, 86_400) : null;

    private static ErrorResult? Paging(int? page, int? limit) =>
        Check.Range(page ?? 1, "page", 1, 1_000_000) ?? Check.Range(limit ?? DefaultLimit, "limit", 1, MaxLimit);

    /// <summary>A percentage with up to 2 decimals, as basis points: 0 to 100 (or above 0 when zero is not allowed).</summary>
    private static ErrorResult? Percentage(decimal value, string field, bool allowZero, out int basisPoints)
    {
        basisPoints = 0;
        // The range first: scaling a huge value would overflow.
        if (value > 100 || value < 0 || (!allowZero && value == 0) || value * 100 != decimal.Truncate(value * 100))
            return Bad($"'{field}' must be a number {(allowZero ? "from 0" : "above 0")} to 100 with at most 2 decimals.");
        basisPoints = (int)(value * 100);
        return null;
    }

    private static ErrorResult? Currency(string? currencyId, string field, IReadOnlyDictionary<string, CommerceCurrency> currencies) =>
        Check.Required(currencyId, field, 36) ?? (currencies.ContainsKey(currencyId!) ? null : Bad($"'{field}' names no currency: {currencyId}."));

    private static string CurrencyIdOf(string currencyId, IReadOnlyDictionary<string, CommerceCurrency> currencies) => currencies[currencyId].Id;

    private static ErrorResult? Provider(string? provider, string field, IHostEnvironment environment)
    {
        if (provider == CommerceProviders.Sandbox)
            return environment.IsProduction() ? Bad($"'{field}': the sandbox provider is not available in production.") : null;
        if (provider is null || !CommerceProviders.Documented.Contains(provider))
            return Check.OneOf(provider, field, CommerceProviders.Documented);
        return CommerceProviders.Supported.Contains(provider)
            ? null
            : Bad($"Payment provider '{provider}' is not available on this service");
    }

    private static ErrorResult? Prices(List<PriceBody>? body, IReadOnlyDictionary<string, CommerceCurrency> currencies, out List<ProductPrice> prices)
    {
        prices = [];
        if (body is null || body.Count == 0)
            return Bad("'prices' must have at least one price.");
        if (body.Count > MaxPrices)
            return Bad($"'prices' must have at most {MaxPrices} prices.");
        for (var i = 0; i < body.Count; i++)
        {
            var field = $"prices[{i}]";
            if (body[i] is not { } price)
                return Bad($"'{field}' is required.");
            if (Currency(price.CurrencyId, field + ".currencyId", currencies) is { } badCurrency)
                return badCurrency;
            var currency = currencies[price.CurrencyId];
            if (prices.Any(p => p.CurrencyId == currency.Id))
                return Bad($"'{field}.currencyId' repeats the currency of another price.");
            if (!TryParseMoney(price.Amount, currency.Code, allowZero: false, out var minor))
                return BadAmount(field + ".amount", currency.Code);
            prices.Add(new ProductPrice(currency.Id, minor));
        }
        return null;
    }

    private static ErrorResult BadAmount(string field, string code)
    {
        var example = Currencies.FromMinor(1000 * (long)Math.Pow(10, Currencies.MinorDigits(code)), code).ToString(CultureInfo.InvariantCulture);
        return Bad($"'{field}' must be a positive amount in {code} written as a string with at most {Currencies.MinorDigits(code)} decimals, such as \"{example}\".");
    }

    /// <summary>A decimal string ("10.00", "10") in minor units of <paramref name="code"/>; never rounded.</summary>
    public static bool TryParseMoney(string? text, string code, bool allowZero, out long minor)
    {
        minor = 0;
        if (text is null || !MoneyText().IsMatch(text)
            || !decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            return false;
        if (amount == 0)
            return allowZero;
        return Currencies.TryToMinor(amount, code, out minor);
    }

    public static string Money(long minor, string code) => Currencies.FromMinor(minor, code).ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^[0-9]{1,15}(\.[0-9]{1,4})?$")]
    private static partial Regex MoneyText();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{3,32}$")]
    private static partial Regex CouponCode();

    // ---- responses -------------------------------------------------------------------------------------------------

    /// <summary>One page of <paramref name="all"/>, mapped.</summary>
    public static Page<TOut> Paged<TIn, TOut>(HttpRequest request, IReadOnlyList<TIn> all, int? page, int? limit, Func<TIn, TOut> map)
    {
        var current = page ?? 1;
        var size = limit ?? DefaultLimit;
        var items = all.Skip((int)Math.Min((long)(current - 1) * size, int.MaxValue)).Take(size).Select(map).ToList();
        return CommercePaging.Of(items, all.Count, current, size, request);
    }

    private static CurrencyResponse ToResponse(CommerceCurrency c) => new(c.Id, c.Code, c.Name, c.Symbol);

    private static CompanyResponse ToResponse(CommerceCompany c) =>
        new(c.Id, c.Name, c.ClientServiceFeeBasisPoints / 100m, c.SimilarOrderWindowSeconds, c.Disabled, c.CreatedAt);

    private static CouponResponse ToResponse(CompanyCoupon c) => new(c.Code, c.DiscountBasisPoints / 100m, c.ExpiresAt, c.Active);

    private static TokenResponse ToResponse(ProductToken t) =>
        new(t.Id, t.ProductId, t.CompanyId, t.Number, t.Status, t.FixedUserId, t.OrderId, t.OwnerUserId, t.WalletAddress, t.CreatedAt, t.UpdatedAt);

    private static CompanyWebhookResponse ToResponse(WebhookEndpoint e, string? secret) =>
        new(e.Url, e.Enabled, e.DisabledReason, e.CreatedAt, e.UpdatedAt, secret);

    private static List<PriceResponse> PricesOf(CommerceProduct product, IReadOnlyDictionary<string, CommerceCurrency> currencies) =>
        product.Prices().Select(p => currencies.GetValueOrDefault(p.CurrencyId) is { } c
            ? new PriceResponse(c.Id, new PriceCurrency(c.Id, c.Code, c.Symbol), Money(p.AmountMinor, c.Code))
            : new PriceResponse(p.CurrencyId, null, p.AmountMinor.ToString(CultureInfo.InvariantCulture))).ToList();

    private static AdminProductResponse ToAdminResponse(CommerceProduct p, IReadOnlyDictionary<string, CommerceCurrency> currencies) =>
        new(p.Id, p.CompanyId, p.Name, p.Description, p.DistributionType, PricesOf(p, currencies), p.TokenCount, p.CreatedAt, p.UpdatedAt);

    private static ProductResponse ToBuyerResponse(CommerceProduct p, IReadOnlyDictionary<string, CommerceCurrency> currencies, int stock) =>
        new(p.Id, p.Name, p.Description, p.DistributionType, PricesOf(p, currencies), stock, p.CompanyId);

    private static async Task<PaymentProvidersResponse> ProvidersAsync(string company, CatalogAdmin admin, CancellationToken cancellationToken) =>
        new((await admin.CompanyRowsAsync<CompanyPaymentOption>(company, CompanyPaymentOption.Prefix, cancellationToken))
            .Select(o => new PaymentProviderResponse(o.CurrencyId, o.PaymentMethod, o.Provider, o.ExpiryMinutes)).ToList());

    private static async Task<GasFeesResponse> GasFeesAsync(string company, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
    {
        var currencies = await catalog.CurrenciesAsync(cancellationToken);
        return new((await admin.CompanyRowsAsync<CompanyGasFee>(company, CompanyGasFee.Prefix, cancellationToken))
            .Select(g => currencies.GetValueOrDefault(g.CurrencyId) is { } c
                ? new GasFeeResponse(c.Id, new PriceCurrency(c.Id, c.Code, c.Symbol), Money(g.AmountMinor, c.Code))
                : new GasFeeResponse(g.CurrencyId, null, g.AmountMinor.ToString(CultureInfo.InvariantCulture))).ToList());
    }
}
