using System.ComponentModel.DataAnnotations;
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

    /// <summary>Who may call each route group, and what the group answers anyone else.</summary>
    private const string SuperAdminCaller = "For a commerce token of a super admin; 401 without a commerce token, 403 without the role. ";

    private const string CompanyAdminCaller =
        "For a commerce token of the company's admin (companyAdmin) or a super admin; 401 without a commerce token, 403 without either " +
        "role, 404 when a company admin's token belongs to another company. ";

    private const string BuyerCaller =
        "For a commerce token of a user, an integration or a super admin of the company; 401 without a commerce token, 403 without " +
        "one of those roles, 404 when the token belongs to another company. ";

    public static IEndpointRouteBuilder MapCommerceCatalog(this IEndpointRouteBuilder app)
    {
        var superAdmin = app.MapCommerceGroup("/admin", "Commerce admin", [CommerceRoles.SuperAdmin]);
        superAdmin.MapPost("/currencies", CreateCurrency).WithName("CommerceAdminCreateCurrency").WithSummary("Add a currency (super admin)")
            .WithDescription("Adds a currency by its ISO 4217 code (blanks and case do not matter; stored upper-case), name and symbol, and returns it " +
                             "with 201 and its new id. " + SuperAdminCaller + "400 when the code is not an ISO 4217 code in use, or the name (up to " +
                             "100 characters) or symbol (up to 10) is blank or too long; 409 currency-already-exists when a currency has this code.").WithIdempotency();
        superAdmin.MapPost("/companies", CreateCompany).WithName("CommerceAdminCreateCompany").WithSummary("Create a company (super admin)")
            .WithDescription("Creates a company with a name, a client service fee (a percentage from 0 to 100 with at most 2 decimals, 0 when absent) " +
                             "and the window in which a buyer's similar order is refused (0 to 86400 seconds, 300 when absent); returns it with 201 " +
                             "and its new id. " + SuperAdminCaller + "400 when the name is blank or longer than 200 characters, or the fee or window " +
                             "is out of range.").WithIdempotency();
        superAdmin.MapPatch("/companies/{companyId}", UpdateCompany).WithName("CommerceAdminUpdateCompany").WithSummary("Change a company's settings (super admin)")
            .WithDescription("Changes the fields given (name, client service fee, similar-order window, disabled) and keeps the others; returns the " +
                             "company. A disabled company's catalogue is closed to buyers and it takes no new orders; its admins still manage it. " +
                             SuperAdminCaller + "400 when a given field is blank or out of range (as at creation); 404 when there is no such company.");

        app.MapCommerceGroup("/currencies", "Commerce catalogue", AnyCommerceRole)
            .MapGet("", ListCurrencies).WithName("CommerceListCurrencies").WithSummary("The currencies")
            .WithDescription("All the currencies, in code order, with their ids (which prices, payment options and orders name). For any commerce " +
                             "token (user, integration, companyAdmin or superAdmin); 401 without one.");

        var company = app.MapCommerceGroup("/admin/companies/{companyId}", "Commerce admin", CommerceRoles.Administrators);
        company.MapGet("", GetCompany).WithName("CommerceAdminGetCompany").WithSummary("A company (its admin, super admin)")
            .WithDescription("The company with its client service fee, similar-order window and whether it is disabled. " + CompanyAdminCaller +
                             "404 when there is no such company.");
        company.MapPost("/products", CreateProduct).WithName("CommerceAdminCreateProduct").WithSummary("Create a product with its prices (company admin, super admin)")
            .WithDescription("Creates a product of the company with its distribution (random: any token; fixed: the buyer names the token; sequential: " +
                             "the lowest number first) and 1 to 20 prices, one per currency, each a positive amount with at most the currency's minor " +
                             "digits (\"10.00\"); returns it with 201, without tokens yet. " + CompanyAdminCaller + "404 when there is no such company; " +
                             "400 when the name is blank or longer than 200 characters, the description is longer than 4000, the distribution is " +
                             "unknown, or a price names no currency, repeats one, or has a bad amount.").WithIdempotency();
        company.MapGet("/products", ListAdminProducts).WithName("CommerceAdminListProducts").WithSummary("The company's products (its admin, super admin)")
            .WithDescription("The company's products, oldest first, with their prices and how many tokens they have, a page at a time: page (1 to " +
                             "1000000) and limit (1 to 100, 10 when absent). " + CompanyAdminCaller + "400 when page or limit is out of range; 404 " +
                             "when there is no such company.");
        company.MapGet("/products/{productId}", GetAdminProduct).WithName("CommerceAdminGetProduct").WithSummary("A product (company admin, super admin)")
            .WithDescription("The product with its prices and how many tokens it has. " + CompanyAdminCaller + "404 when the company has no such product.");
        company.MapPatch("/products/{productId}", UpdateProduct).WithName("CommerceAdminUpdateProduct").WithSummary("Change a product (company admin, super admin)")
            .WithDescription("Changes the fields given (name, description, distribution, prices; prices replace the whole list) and keeps the others; " +
                             "returns the product. Orders already placed keep the prices they were placed at. " + CompanyAdminCaller + "400 when a " +
                             "given field breaks the rules of creation; 404 when the company has no such product.");
        company.MapPost("/products/{productId}/tokens", CreateTokens).WithName("CommerceAdminCreateProductTokens").WithSummary("Add numbered tokens to a product (company admin, super admin)").WithIdempotency()
            .WithDescription("Adds 1 to 500 tokens numbered after the product's last, for sale (or publishing, when status says so), optionally reserved " +
                             "for one buyer (fixedUserId), and returns 201 with the numbers and the tokens. " + CompanyAdminCaller + "Send an " +
                             "Idempotency-Key so that a retried request does not add the tokens twice. 400 when quantity is out of range, fixedUserId " +
                             "is blank or longer than 100 characters, or status is not publishing or for_sale; 404 when the company has no such product.");
        company.MapGet("/products/{productId}/tokens", ListTokens).WithName("CommerceAdminListProductTokens").WithSummary("A product's tokens (company admin, super admin)")
            .WithDescription("The product's tokens in number order, with their status, fixed user and the order that booked or bought each, a page at " +
                             "a time: status (publishing, for_sale, sold, locked, locked_by_booking or cancelled) filters them; page (1 to 1000000) " +
                             "and limit (1 to 100, 10 when absent). " + CompanyAdminCaller + "400 when status, page or limit is not one of those; 404 " +
                             "when the company has no such product.");
        company.MapPatch("/products/{productId}/tokens/{tokenId}", UpdateToken).WithName("CommerceAdminUpdateProductToken").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Change a token's status or fixed user (company admin, super admin)")
            .WithDescription("Moves a token between publishing, for_sale, locked and cancelled, and sets the buyer it is reserved for (an empty " +
                             "fixedUserId frees it); returns the token. " + CompanyAdminCaller + "400 when status is not one of those four or " +
                             "fixedUserId is longer than 100 characters; 404 when there is no such token; 409 when an order booked or bought the " +
                             "token, or the move is not allowed (a cancelled token stays cancelled; a locked one goes back on sale or is cancelled).");
        company.MapPut("/payment-providers", PutPaymentProviders).WithName("CommerceAdminPutPaymentProviders").WithSummary("Replace the company's payment options (company admin, super admin)")
            .WithDescription("Replaces all the company's payment options at once (up to 40; an empty list removes them): for each currency and method " +
                             "(credit_card, pix, crypto, transfer, boleto, debit_card), the provider that takes the money (stripe, transfer, free, or " +
                             "sandbox outside production) and how many minutes an unpaid order waits (1 to 10080, 9 when absent); returns the options. " +
                             CompanyAdminCaller + "404 when there is no such company; 400 when an entry names no currency, an unknown method or a " +
                             "provider this service cannot use, repeats a currency and method, or its minutes are out of range.");
        company.MapGet("/payment-providers", GetPaymentProviders).WithName("CommerceAdminGetPaymentProviders").WithSummary("The company's payment options (company admin, super admin)")
            .WithDescription("The company's payment options: currency, method, provider and the minutes an unpaid order waits. " + CompanyAdminCaller +
                             "404 when there is no such company.");
        company.MapPut("/gas-fees", PutGasFees).WithName("CommerceAdminPutGasFees").WithSummary("Replace the company's gas fees (company admin, super admin)")
            .WithDescription("Replaces all the company's gas fees at once (up to 40, one per currency; an empty list removes them): the amount, zero or " +
                             "more with at most the currency's minor digits, added to each order in that currency; returns the fees. " +
                             CompanyAdminCaller + "404 when there is no such company; 400 when an entry names no currency, repeats one, or has a " +
                             "bad amount.");
        company.MapGet("/gas-fees", GetGasFees).WithName("CommerceAdminGetGasFees").WithSummary("The company's gas fees (company admin, super admin)")
            .WithDescription("The company's gas fees, one per currency, with the currency's code and symbol. " + CompanyAdminCaller + "404 when there is " +
                             "no such company.");
        company.MapPost("/coupons", CreateCoupon).WithName("CommerceAdminCreateCoupon").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Create a coupon (company admin, super admin)")
            .WithDescription("Creates a coupon: a code of 3 to 32 letters, digits, '-' or '_' (stored upper-case), a discount above 0 and up to 100 " +
                             "percent with at most 2 decimals, and an optional expiry; returns it with 201. " + CompanyAdminCaller + "400 when the " +
                             "code or discount breaks those rules; 404 when there is no such company; 409 coupon-already-exists when the company has " +
                             "a coupon with this code.");
        company.MapGet("/coupons", ListCoupons).WithName("CommerceAdminListCoupons").WithSummary("The company's coupons (company admin, super admin)")
            .WithDescription("The company's coupons in code order, with their discount, expiry and whether they are active. " + CompanyAdminCaller +
                             "404 when there is no such company.");
        company.MapPatch("/coupons/{code}", UpdateCoupon).WithName("CommerceAdminUpdateCoupon").WithSummary("Change a coupon (company admin, super admin)")
            .WithDescription("Activates or deactivates a coupon and sets its expiry (the code in the path is not case-sensitive); fields left out keep " +
                             "their value, so an expiry cannot be removed. Returns the coupon. " + CompanyAdminCaller + "404 when the company has no " +
                             "such coupon.");
        company.MapPut("/webhook", PutWebhook).WithName("CommerceAdminPutWebhook").WithSummary("Set the company's webhook endpoint (company admin, super admin)").WithIdempotency(storesSecrets: true)
            .WithDescription("Sets the URL the company's order webhooks are sent to, and whether they are sent (enabled, unchanged when absent; true for " +
                             "a new endpoint). The first time it answers 201 with the signing secret, shown only then; after that 200, without it. " +
                             CompanyAdminCaller + "400 invalid_url when the URL is not an absolute https URL of at most 2000 characters, carries a " +
                             "user name or password, or does not resolve to public addresses only; 404 when there is no such company.");
        company.MapGet("/webhook", GetWebhook).WithName("CommerceAdminGetWebhook").WithSummary("The company's webhook endpoint (company admin, super admin)")
            .WithDescription("The company's webhook endpoint: its URL, whether it is enabled and why it was disabled; never its secret. " +
                             CompanyAdminCaller + "404 when there is no such company or it has no webhook.");

        var buyer = app.MapCommerceGroup("/companies/{companyId}", "Commerce catalogue", CommerceRoles.Buyers);
        buyer.MapGet("/products", ListProducts).WithName("CommerceCatalogListProducts").WithSummary("The company's products for sale, with prices and stock")
            .WithDescription("The company's products, oldest first, with their prices and stockAmount (the tokens a buyer could take now), a page at a " +
                             "time: page (1 to 1000000) and limit (1 to 100, 10 when absent). " + BuyerCaller + "400 when page or limit is out of " +
                             "range; 404 when there is no such company or it is disabled.");
        buyer.MapGet("/products/{productId}", GetProduct).WithName("CommerceCatalogGetProduct").WithSummary("A product for sale, with its prices and stock")
            .WithDescription("The product with its prices and stockAmount (the tokens a buyer could take now). " + BuyerCaller + "404 when there is no " +
                             "such company, it is disabled, or it has no such product.");
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

    public static async Task<Results<Ok<Page<AdminProductResponse>>, ErrorResult>> ListAdminProducts(string companyId, [Range(1, 1_000_000)] int? page, [Range(1, MaxLimit)] int? limit,
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

    public static async Task<Results<Ok<Page<TokenResponse>>, ErrorResult>> ListTokens(string companyId, string productId, string? status, [Range(1, 1_000_000)] int? page,
        [Range(1, MaxLimit)] int? limit, HttpRequest request, CatalogAdmin admin, CommerceCatalog catalog, CancellationToken cancellationToken)
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

    public static async Task<Results<Ok<Page<ProductResponse>>, ErrorResult>> ListProducts(string companyId, [Range(1, 1_000_000)] int? page, [Range(1, MaxLimit)] int? limit,
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
