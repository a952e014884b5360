using Microsoft.AspNetCore.Mvc;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Webhooks;

namespace Serverless.PreOrders;

/// <summary>
/// The pre-orders API ("TotalCoin"): merchants sign in, create pre-orders paid by QR code, read, list and cancel
/// them; customers pay on the public page the QR code opens; the platform admin manages merchants.
/// </summary>
public static partial class PreOrdersApi
{
    public const string MerchantPolicy = "pre-orders-merchant";

    public static void MapPreOrders(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Pre-orders").WithErrorShape(PreOrderErrorShape.Instance);
        api.MapPost("/auth/login", Login).WithName("PreOrdersLogin").ProducesErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden).WithSummary("Sign in as a merchant and get a bearer token")
            .WithDescription("Open to anyone; rate limited per client address. Signs a merchant in with the username and password of " +
            "its merchant credentials and answers a pre-orders bearer token and its lifetime in seconds. 400 " +
            "validation_error when username or password is missing or too long; 401 invalid_credentials for unknown or " +
            "wrong credentials; 403 forbidden when they are not an enabled merchant's; 429 after too many attempts for " +
            "one username.").AllowAnonymous().RequireRateLimiting(RateLimitPolicies.Auth);
        var merchant = api.MapGroup("/pre-orders").RequireAuthorization(MerchantPolicy).RequireRateLimiting(RateLimitPolicies.PerCaller);
        merchant.MapPost("/", Create).WithName("CreatePreOrder").WithSummary("Create a pre-order paid by QR code")
            .WithDescription("Needs a merchant's pre-orders bearer token (from POST /api/auth/login). Creates a pending pre-order for " +
            "an amount in a currency, with a description and the customer's name, email and phone, that expires at " +
            "expiration_date; answers 201 with its id, a QR code (a PNG data URI) and the payment page URL the code " +
            "opens. 400 validation_error when a field breaks its rule: a required field blank or too long, amount not positive or with more decimals than " +
            "the currency has, currency not an ISO 4217 code, expiration_date not a date-time with a zone, not in the " +
            "future or more than a year away, or a customer email or phone that is not valid.").WithIdempotency();
        merchant.MapGet("/", List).WithName("ListPreOrders").WithSummary("The merchant's pre-orders, newest first")
            .WithDescription("Needs a merchant's pre-orders bearer token (from POST /api/auth/login). Lists the merchant's pre-orders, " +
            "newest first, optionally only those of one status (pending, paid, expired or cancelled; a pending " +
            "pre-order past its expiry counts as expired). Paged by limit (1 to 100, default 20) and offset (0 to " +
            "10000); has_more says whether more follow. 400 validation_error for an unknown status or a limit or " +
            "offset out of range.")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The status filter takes exactly these values (a query parameter's schema does not read [AllowedValues]).
                if (operation.Parameters?.FirstOrDefault(p => p.Name == "status")?.Schema is Microsoft.OpenApi.OpenApiSchema status)
                    status.Enum = [PreOrderStatus.Pending, PreOrderStatus.Paid, PreOrderStatus.Expired, PreOrderStatus.Cancelled];
                return Task.CompletedTask;
            });
        merchant.MapGet("/{id}", Get).WithName("GetPreOrder").WithSummary("One of the merchant's pre-orders")
            .WithDescription("Needs a merchant's pre-orders bearer token (from POST /api/auth/login). One of the merchant's pre-orders, " +
            "with payment_details once it is paid; a pending pre-order past its expiry shows as expired. 404 when " +
            "there is no such pre-order or it is another merchant's.");
        merchant.MapPost("/{id}/cancel", Cancel).WithName("CancelPreOrder").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Cancel a pending pre-order")
            .WithDescription("Needs a merchant's pre-orders bearer token (from POST /api/auth/login). Cancels a pending pre-order, " +
            "publishes its pre_order.cancelled webhook event and answers the cancelled pre-order; it can no longer be paid, and " +
            "a payment that still succeeds is refunded. 404 when there is no such pre-order or it is another " +
            "merchant's; 409 invalid_state when it is paid, expired or already cancelled.");

        var admin = api.MapGroup("/admin/merchants").RequireAuthorization(PlatformApi.AdminPolicy);
        admin.MapPost("/", CreateMerchant).WithName("CreatePreOrderMerchant").WithSummary("Create a merchant (platform admin)")
            .WithDescription("Platform admin only. Creates merchant credentials: the username (3 to 64 letters, digits, '.', '_' or " +
            "'-', starting with a letter or digit) signs in at POST /api/auth/login with the password (12 to 128 " +
            "characters, not one of the most common passwords); name is shown as the merchant's name (the username " +
            "when omitted). Answers 201 with the username, name and creation time. 400 validation_error when a field " +
            "breaks these rules; 409 already_exists when the username is taken.").WithIdempotency();
        admin.MapPut("/{username}/webhook", SetWebhook).WithName("SetPreOrderMerchantWebhook").WithSummary("Set where a merchant's webhooks go (platform admin)")
            .WithDescription("Platform admin only. Sets the URL, and when given the enabled flag, of the endpoint the merchant's " +
            "pre-order webhooks go to, and answers 200 with the endpoint; its signing secret is in the answer only " +
            "when this call created the endpoint. 404 when no merchant has that username; 400 invalid_webhook_url when " +
            "the URL is missing, longer than 2000 characters, not absolute https:// (http:// only where the platform " +
            "allows it), carries a user name or password, or does not resolve to public addresses only (unless private " +
            "targets are allowed).").WithIdempotency(storesSecrets: true);
        admin.MapGet("/{username}/webhook/deliveries", ListDeliveries).WithName("ListPreOrderMerchantDeliveries").WithSummary("A merchant's webhook deliveries with their attempts (platform admin)")
            .WithDescription("Platform admin only. The merchant's latest webhook deliveries, newest first, each with its state and " +
            "every attempt; limit is 1 to 200 (default 50). A username with no deliveries, or no merchant, lists none. " +
            "400 validation_error when limit is out of range.");
        admin.MapPost("/{username}/webhook/deliveries/{deliveryId}/redeliver", Redeliver).WithName("RedeliverPreOrderMerchantDelivery").WithSummary("Send a merchant's webhook again (platform admin)")
            .WithDescription("Platform admin only. Sends a delivered or failed delivery's event again, with the same webhook-id, as a " +
            "new delivery linked to the original, and answers 202 with it. 404 when the merchant has no such delivery; " +
            "409 delivery_in_progress while it is still pending or sending, endpoint_disabled when the merchant's " +
            "endpoint is disabled or gone.");

        var pay = app.MapGroup("/pay").WithTags("Pre-order payment page").WithErrorShape(PreOrderErrorShape.Instance).AllowAnonymous()
            .RequireRateLimiting(RateLimitPolicies.PerCaller);
        pay.MapGet("/{id}", PayPage.Render).WithName("PreOrderPayPage").WithSummary("The payment page a pre-order's QR code opens (HTML)")
            .WithDescription("Open to anyone with the link: the page a pre-order's QR code opens. Shows the amount, description, status " +
            "and a countdown to expiry, the QR code while the pre-order is pending, and a Pay button where online " +
            "payment is available; the page polls the pre-order's status and changes by itself once it is paid, " +
            "expires or is cancelled. 404 with an HTML page for an unknown link.").ProducesHtml();
        pay.MapGet("/{id}/status", PayStatus).WithName("PreOrderPayStatus").WithSummary("A pre-order's status as its payment page shows it")
            .WithDescription("Open to anyone with the link; what the payment page polls. Answers the pre-order's id, status (a pending " +
            "pre-order past its expiry is expired), expiry and, once paid, when it was paid; never cached. 404 for an " +
            "unknown pre-order.");
        pay.MapPost("/{id}/checkout", Checkout).WithName("PreOrderPayCheckout").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Open (or join) the pre-order's payment and get where the customer pays it")
            .WithDescription("Open to anyone with the link: the payment page's Pay button. Opens the pre-order's payment, or joins the " +
            "one already open, and answers where the customer pays it (this app's sandbox or Razorpay page, or the " +
            "provider's checkout URL); concurrent clicks share one payment intent and one provider order, and the " +
            "pre-order becomes paid only when the provider confirms the payment. 404 for an unknown pre-order; 409 " +
            "not_payable unless it is pending; 503 payments_unavailable without a configured provider; 502/503 " +
            "payment_provider_unavailable (with Retry-After) when the provider does not answer.");
    }

    public static async Task<Results<Ok<LoginResponse>, ErrorResult>> Login(
        LoginRequest body, ApiClientDirectory clients, TokenService tokens, IdentifierThrottle throttle, HttpContext context)
    {
        var problem = Check.Required(body.Username, "username", 64) ?? Check.Required(body.Password, "password", 256);
        if (problem is not null)
            return problem;
        if (!throttle.TryAcquire("pre-orders-login", body.Username))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        var client = await clients.FindAsync(body.Username, context.RequestAborted);
        if (!Secrets.Verify(client?.SecretHash, body.Password))
            return ApiErrors.Result(new ApiError(401, "invalid_credentials", "Invalid or non-existent credentials."));
        if (client!.Kind != ClientKinds.Merchant || client.Disabled)
            return ApiErrors.Result(new ApiError(403, "forbidden", "These credentials have no access to the pre-orders API."));
        var token = tokens.IssueForClient(TokenAudiences.PreOrders, client.ClientId, client.Name, ClientKinds.Merchant);
        return TypedResults.Ok(new LoginResponse(token.Token, token.ExpiresIn));
    }

    public static async Task<Results<Created<CreatePreOrderResponse>, ErrorResult>> Create(
        CreatePreOrderRequest body, [AsParameters] PreOrderServices services)
    {
        var (merchant, orders, settings, time, cancellationToken) = services;
        var currency = body.Currency?.Trim().ToUpperInvariant() ?? "";
        var problem = Check.Required(body.Currency, "currency", 3)
                      ?? (Currencies.IsKnown(currency) ? null : ApiErrors.BadRequest($"'currency' must be an ISO 4217 code such as USD or EUR; '{body.Currency}' is not one.", "validation_error"))
                      ?? Check.Required(body.Description, "description", 500)
                      ?? Check.Required(body.Customer.Name, "customer.name", 200)
                      ?? Check.Required(body.Customer.Email, "customer.email", 254)
                      ?? Check.Email(body.Customer.Email, "customer.email")
                      ?? Check.Required(body.Customer.Phone, "customer.phone", 32)
                      ?? Check.Phone(body.Customer.Phone, "customer.phone", "+1234567890");
        if (problem is not null)
            return problem;
        if (!Currencies.TryToMinor(body.Amount, currency, out var minor))
            return ApiErrors.BadRequest(body.Amount <= 0
                ? "'amount' must be greater than 0."
                : $"'amount' must have at most {Currencies.MinorDigits(currency)} decimal places for {currency} and be below 1,000,000,000,000.", "validation_error");
        var now = time.GetUtcNow();
        if (!TryParseInstant(body.ExpirationDate, out var expiresAt))
            return ApiErrors.BadRequest("'expiration_date' must be an ISO 8601 date-time with a time zone, such as 2024-04-26T23:59:59Z.", "validation_error");
        if (expiresAt <= now)
            return ApiErrors.BadRequest("'expiration_date' must be in the future.", "validation_error");
        if (expiresAt > now.AddYears(1))
            return ApiErrors.BadRequest("'expiration_date' must be at most one year away.", "validation_error");

        var order = await orders.CreateAsync(merchant.Id!, minor, currency, body.Description.Trim(), expiresAt,
            new CustomerInfo(body.Customer.Name.Trim(), body.Customer.Email.Trim(), body.Customer.Phone.Trim()), cancellationToken);
        var paymentUrl = settings.PaymentUrl(order.Id);
        return TypedResults.Created($"/api/pre-orders/{order.Id}", new CreatePreOrderResponse(order.Id, order.EffectiveStatus(now),
            QrCodes.DataUri(paymentUrl), paymentUrl, PreOrderViews.Time(order.CreatedAt), PreOrderViews.Time(order.ExpiresAt)));
    }

    public static async Task<Results<Ok<PreOrderResponse>, ErrorResult>> Get(string id, [AsParameters] PreOrderServices services)
    {
        var (merchant, orders, _, time, cancellationToken) = services;
        var order = await orders.GetAsync(merchant.Id!, id, cancellationToken);
        return order is null ? NotFound(id) : TypedResults.Ok(PreOrderViews.Response(order, time.GetUtcNow()));
    }

    public static async Task<Results<Ok<PreOrderListResponse>, ErrorResult>> List(
        [AsParameters] PreOrderServices services,
        string? status = null,
        [Range(1, 100)] int limit = 20, [Range(0, 10_000)] int offset = 0)
    {
        var (merchant, orders, _, time, cancellationToken) = services;
        var problem = (status is null ? null : Check.OneOf(status, "status", PreOrderStatus.All))
                      ?? Check.Range(limit, "limit", 1, 100) ?? Check.Range(offset, "offset", 0, 10_000);
        if (problem is not null)
            return problem;
        var (page, hasMore) = await orders.ListAsync(merchant.Id!, status, limit, offset, cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new PreOrderListResponse(page.Select(o => PreOrderViews.Response(o, now)).ToList(), limit, offset, hasMore));
    }

    public static async Task<Results<Ok<PreOrderResponse>, ErrorResult>> Cancel(string id, [AsParameters] PreOrderServices services)
    {
        var (merchant, orders, _, time, cancellationToken) = services;
        var result = await orders.CancelAsync(merchant.Id!, id, cancellationToken);
        if (result is not { } cancelled)
            return NotFound(id);
        var now = time.GetUtcNow();
        if (!cancelled.Changed)
            return ApiErrors.Conflict($"Pre-order {id} is {cancelled.Order.EffectiveStatus(now)}; only a pending pre-order can be cancelled.", "invalid_state");
        return TypedResults.Ok(PreOrderViews.Response(cancelled.Order, now));
    }

    public static async Task<Results<Ok<PayPageStatus>, ErrorResult>> PayStatus(
        string id, PreOrderService orders, TimeProvider time, HttpContext context)
    {
        var order = await orders.FindPublicAsync(id, context.RequestAborted);
        if (order is null)
            return NotFound(id);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new PayPageStatus(order.Id, order.EffectiveStatus(time.GetUtcNow()), PreOrderViews.Time(order.ExpiresAt),
            order.PaidAt is { } paidAt ? PreOrderViews.Time(paidAt) : null));
    }

    /// <summary>
    /// The page's "Pay" button: opens (or joins) the pre-order's payment intent and answers where the customer pays
    /// it (the sandbox page, Razorpay Checkout or Stripe Checkout). Concurrent clicks share one intent and one
    /// provider order; the pre-order becomes paid only when the provider confirms the payment.
    /// </summary>
    public static async Task<Results<Ok<PayCheckoutResponse>, ErrorResult>> Checkout(string id, [AsParameters] PayPageServices services)
    {
        var (orders, settings, intents, time, context) = services;
        var order = await orders.FindPublicAsync(id, context.RequestAborted);
        if (order is null)
            return NotFound(id);
        if (!intents.Available)
            return ApiErrors.Result(new ApiError(503, "payments_unavailable", "Online payment is not available for this pre-order yet."));
        if (!order.IsOpen(time.GetUtcNow()))
            return NotPayable(order, time.GetUtcNow());
        // A provider that does not answer is 502/503 payment_provider_unavailable with Retry-After (the platform's error handling).
        var checkout = await orders.CheckoutAsync(order, settings.PaymentUrl(order.Id), context.RequestAborted);
        if (checkout.CheckoutUrl is null)
            return NotPayable(await orders.FindPublicAsync(id, context.RequestAborted) ?? order, time.GetUtcNow());
        return TypedResults.Ok(new PayCheckoutResponse(order.Id, order.EffectiveStatus(time.GetUtcNow()), checkout.CheckoutUrl));
    }

    public static async Task<Results<Created<MerchantResponse>, ErrorResult>> CreateMerchant(
        CreateMerchantRequest body, ApiClientDirectory clients, CancellationToken cancellationToken)
    {
        var problem = Check.Length(body.Username, "username", 3, 64) ?? PasswordRule.Check(body.Password, minLength: 12)
                      ?? (body.Name is null ? null : Check.Required(body.Name, "name", 200));
        if (problem is not null)
            return problem;
        if (!UsernamePattern().IsMatch(body.Username))
            return ApiErrors.BadRequest("'username' may hold letters, digits, '-', '_' and '.' only.", "validation_error");
        var created = await clients.CreateAsync(ClientKinds.Merchant, body.Name?.Trim() ?? body.Username, body.Username, body.Password, cancellationToken);
        if (created is null)
            return ApiErrors.Conflict($"Username '{body.Username}' is already in use.", "already_exists");
        return TypedResults.Created($"/api/admin/merchants/{body.Username}",
            new MerchantResponse(created.Client.ClientId, created.Client.Name, PreOrderViews.Time(created.Client.CreatedAt)));
    }

    public static async Task<Results<Ok<WebhookEndpointResponse>, ErrorResult>> SetWebhook(
        string username, PutWebhookEndpointRequest body, [AsParameters] MerchantWebhookServices services)
    {
        var (clients, endpoints, guard, cancellationToken) = services;
        if (await clients.FindAsync(username, cancellationToken) is not { Kind: ClientKinds.Merchant })
            return ApiErrors.NotFound($"No merchant '{username}'.");
        if (await guard.CheckAsync(body.Url, "url", cancellationToken) is { } problem)
            return ApiErrors.BadRequest(problem, "invalid_webhook_url");
        var change = await endpoints.SetAsync(PreOrderService.WebhookOwner(username), body.Url.Trim(), body.Enabled, cancellationToken);
        return TypedResults.Ok(WebhookEndpointResponse.From(change.Endpoint, change.NewSecret));
    }

    public static async Task<Results<Ok<List<WebhookDeliveryResponse>>, ErrorResult>> ListDeliveries(
        string username, WebhookPublisher webhooks, CancellationToken cancellationToken, [Range(1, 200)] int limit = 50)
    {
        if (Check.Range(limit, "limit", 1, 200) is { } problem)
            return problem;
        var deliveries = await webhooks.ListDeliveriesAsync(PreOrderService.WebhookOwner(username), limit, cancellationToken);
        return TypedResults.Ok(deliveries.Select(WebhookDeliveryResponse.From).ToList());
    }

    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ErrorResult>> Redeliver(
        string username, string deliveryId, WebhookPublisher webhooks, CancellationToken cancellationToken)
    {
        var delivery = await webhooks.RedeliverAsync(PreOrderService.WebhookOwner(username), deliveryId, cancellationToken);
        return delivery is null
            ? ApiErrors.NotFound($"No delivery '{deliveryId}' for merchant '{username}'.")
            : TypedResults.Accepted((string?)null, WebhookDeliveryResponse.From(delivery));
    }

    private static ErrorResult NotFound(string id) => ApiErrors.NotFound($"Pre-order '{id}' not found.");

    private static ErrorResult NotPayable(PreOrder order, DateTimeOffset now) =>
        ApiErrors.Conflict($"Pre-order {order.Id} is {order.EffectiveStatus(now)} and cannot be paid.", "not_payable");

    /// <summary>ISO 8601 with an explicit zone (Z or ±hh:mm): a deadline must not depend on the server's zone.</summary>
    public static bool TryParseInstant(string? value, out DateTimeOffset instant)
    {
        instant = default;
        if (string.IsNullOrWhiteSpace(value) || value.Length > 40 || !ZonePattern().IsMatch(value))
            return false;
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out instant);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex ZonePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")]
    private static partial Regex UsernamePattern();
}

/// <summary>What a merchant's pre-order handlers take (<c>[AsParameters]</c>): the caller, the pre-orders, settings and the clock.</summary>
public sealed record PreOrderServices(
    [FromServices] CurrentUser Merchant, [FromServices] PreOrderService Orders, [FromServices] PreOrderSettings Settings, [FromServices] TimeProvider Time,
    CancellationToken CancellationToken);

/// <summary>What the payment page's handlers take (<c>[AsParameters]</c>).</summary>
public sealed record PayPageServices(
    [FromServices] PreOrderService Orders, [FromServices] PreOrderSettings Settings, [FromServices] PaymentIntents Intents, [FromServices] TimeProvider Time,
    HttpContext Context);

/// <summary>What setting a merchant's webhook endpoint takes (<c>[AsParameters]</c>).</summary>
public sealed record MerchantWebhookServices(
    [FromServices] ApiClientDirectory Clients, [FromServices] WebhookEndpoints Endpoints, [FromServices] WebhookTargetGuard Guard,
    CancellationToken CancellationToken);

/// <summary>The pre-orders API's error body: <c>{"error": {"code": ..., "message": ...}}</c>.</summary>
public sealed class PreOrderErrorShape : IErrorShape
{
    public static readonly PreOrderErrorShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = new("PreOrderError", "application/json", new Microsoft.OpenApi.OpenApiSchema
    {
        Type = Microsoft.OpenApi.JsonSchemaType.Object,
        Description = "A pre-order error: a stable machine code and a message naming the problem, under 'error'.",
        Required = new HashSet<string> { "error" },
        Properties = new Dictionary<string, Microsoft.OpenApi.IOpenApiSchema>
        {
            ["error"] = ErrorBodySchema.Object("", "", ["code", "message"]).Schema,
        },
    });

    public Task WriteAsync(HttpContext context, ApiError error) =>
        context.Response.WriteAsJsonAsync(new { error = new { code = error.Code, message = error.Message } }, (JsonSerializerOptions?)null,
            "application/json", context.RequestAborted);
}

/// <summary>Where payment pages live: <c>{PublicBaseUrl}/pay/{id}</c>.</summary>
public sealed class PreOrderSettings(IConfiguration configuration)
{
    public string PublicBaseUrl { get; } = (configuration["PublicBaseUrl"] is { Length: > 0 } url ? url : "http://localhost:7071").TrimEnd('/');

    public string PaymentUrl(string id) => $"{PublicBaseUrl}/pay/{id}";
}
