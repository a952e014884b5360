using Microsoft.AspNetCore.Mvc;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Checkout.Orders;
using Serverless.Checkout.Page;
using Serverless.Checkout.Rates;
using Serverless.Checkout.Stores;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Webhooks;

namespace Serverless.Checkout;

/// <summary>
/// The checkout plugin API (document 003, "Cryptum" checkout): stores create orders with their API key, customers
/// pay them on the hosted checkout page, and every status change is called back to the store, signed.
/// </summary>
public static partial class CheckoutApi
{
    public const string Policy = "checkout-store";
    private const string StoreOnly = "Needs the store's API key in `x-api-key` (401 when it is missing, unknown or its store is disabled).";
    private const string AdminOnly = "Platform admin only: a platform token of a user with the admin role (401 without one, 403 for another user).";

    public static void MapCheckout(this IEndpointRouteBuilder app)
    {
        var store = app.MapGroup("/plugins").WithTags("Checkout").WithErrorShape(CheckoutErrorShape.Instance)
            .RequireAuthorization(Policy).RequireRateLimiting(RateLimitPolicies.PerCaller)
            .WithMetadata(new ApiKeySessionCheck(), new OpenApiSecurityName(OpenApiConventions.ApiKeyScheme));
        store.MapPost("/orders/checkout", CreateOrder).WithName("CheckoutCreateOrder").ProducesErrors(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithSummary("Create an order (or find the one created before under the same ecommerceOrderId)")
            .WithDescription("Creates an order for the calling store, priced with the store's markup and discount and the current " +
                             "market rates, and answers 201 with it, its sessionToken and the hosted page's checkoutUrl; still pending or " +
                             "failed at expiresAt, it is cancelled. The same body again under the same ecommerceOrderId answers 200 with the order created " +
                             "first. 400 for a missing or invalid field (an unknown currency, a total with more decimals than the " +
                             "currency has or nothing left to pay after the discount, a callbackUrl that is not https or does not " +
                             "resolve to a public address); " +
                             "404 when `store` is not this API key's store; 409 ecommerce_order_id_in_use when the id was used with " +
                             "another body; 503 when market rates are not available yet. " + StoreOnly);
        store.MapPut("/checkout/{orderId}", UpdateOrder).WithName("CheckoutUpdateOrder").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Update an order: transaction hash, payment method, status (pending, on-hold, failed, cancelled), blockchain, converted total")
            .WithDescription("Records what is sent on one of this store's orders (a field left out stays as it is) and moves its " +
                             "status as asked; a transaction hash without a status puts a pending or failed order on hold, and only " +
                             "a payment confirms. A status change sends the order's callback once, however often it is repeated, and " +
                             "an update that changes nothing answers 200 with the order. 400 when no field is sent, a field is " +
                             "invalid or the status is confirmed; 404 for another store's order; 409 order_final for a change to a " +
                             "confirmed or cancelled order, or for an order unpaid past its expiry (which is cancelled then). " + StoreOnly);
        store.MapGet("/orders/{orderId}", GetOrder).WithName("CheckoutGetOrder").WithSummary("An order of this store, with its store and market rates")
            .WithDescription("One of this store's orders with the store, the market rates it was priced with, its payment details " +
                             "and the hosted page's checkoutUrl; an order unpaid past its expiry reads as cancelled. 404 when this " +
                             "store has no order with that id. " + StoreOnly);
        store.MapGet("/orders", ListOrders).WithName("CheckoutListOrders").ProducesErrors(StatusCodes.Status404NotFound)
            .WithSummary("This store's orders, newest first: storeId (required, this store), limit, offset, paymentStatus, startDate, endDate, withCount, withTotal")
            .WithDescription("This store's orders, newest first, each naming its store by id: `limit` 1 to 100 (100 when left out) " +
                             "from `offset` 0 to 100000, `paymentStatus` one of pending, on-hold, failed, cancelled or confirmed (an " +
                             "order unpaid past its expiry counts as cancelled), `startDate` and `endDate` a date (the whole UTC day) " +
                             "or an ISO 8601 time with a zone. `total`, how many orders match, is in the answer only with " +
                             "`withCount` or `withTotal`. 400 when storeId is missing or a parameter is out of range or malformed, or " +
                             "startDate is after endDate; 404 when storeId is not this API key's store. " + StoreOnly);
        store.MapPost("/stores/verification", VerifyStore).WithName("CheckoutVerifyStore")
            .WithSummary("Verify the API key and get the store with the webhookSecret that signs its callbacks")
            .WithDescription("Answers the store whose API key is in `x-api-key`, with the webhookSecret its callbacks are signed " +
                             "with (`x-webhook-signature`: base64 HMAC-SHA256 of the body); 401 when the key is missing, unknown or " +
                             "its store is disabled. 503 webhook_secret_unavailable when the secret cannot be read with the current " +
                             "signing key, until a platform admin rotates it.");

        var admin = app.MapGroup("/plugins/admin/stores").WithTags("Checkout admin").WithErrorShape(CheckoutErrorShape.Instance)
            .RequireAuthorization(PlatformApi.AdminPolicy);
        admin.MapPost("/", CreateStore).WithName("CheckoutCreateStore").WithIdempotency(storesSecrets: true)
            .WithSummary("Create a store; its API key is shown this once (platform admin)")
            .WithDescription("Creates a store with a generated id and answers 201 with it, its API key (shown only in this answer) " +
                             "and its webhookSecret; name and email are required here, markup and discount are 0 when left out, and " +
                             "wallets hold one address per protocol at most. With an `Idempotency-Key` a retry replays this answer " +
                             "instead of creating another store. 400 for a missing or invalid field; 409 in the rare case that the " +
                             "generated id was taken (send it again). " + AdminOnly);
        admin.MapGet("/{storeId}", GetStore).WithName("CheckoutGetStore").WithSummary("A store (platform admin)")
            .WithDescription("A store's settings and wallets, never its API key or webhook secret. 404 when there is no such store. " + AdminOnly);
        admin.MapPatch("/{storeId}", UpdateStore).WithName("CheckoutUpdateStore")
            .WithSummary("Change a store's name, contact, markup and discount percentages or wallets (platform admin)")
            .WithDescription("Changes the fields sent and leaves the others as they are (wallets, when sent, replace the whole list); " +
                             "answers the store. Orders created before keep the markup and discount they were priced with. 400 for an " +
                             "invalid field; 404 when there is no such store. " + AdminOnly);
        admin.MapPost("/{storeId}/rotate-webhook-secret", RotateWebhookSecret).WithName("CheckoutRotateWebhookSecret")
            .WithIdempotency(storesSecrets: true).WithSummary("Give a store a new callback signing secret (platform admin)")
            .WithDescription("Gives the store a new webhook secret and answers it: callbacks sent from now on are signed with it, " +
                             "and the store reads it again through its verification. Each call makes a new secret, unless an " +
                             "`Idempotency-Key` replays the first answer. 404 when there is no such store. " + AdminOnly);
        admin.MapPost("/{storeId}/disable", DisableStore).WithName("CheckoutDisableStore")
            .WithSummary("Disable a store: its API key stops working (platform admin)")
            .WithDescription("Disables the store's API key, so its calls are refused with 401 (on every instance within seconds) and " +
                             "its hosted checkout pages stop taking payments; answers `enabled: false`, also when it was disabled " +
                             "already. 404 when there is no such store. " + AdminOnly);
        admin.MapPost("/{storeId}/orders/{orderId}/confirm", ConfirmTransfer).WithName("CheckoutConfirmTransfer").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Confirm an order paid by a crypto transfer seen on the chain (platform admin)")
            .WithDescription("Confirms a store's order that is pending, on hold or failed, recording the transaction hash and " +
                             "protocol when sent, and sends the order's callback; an order confirmed already is answered as it is. " +
                             "400 for a malformed hash or an unknown protocol; 404 when there is no such store or order; 409 " +
                             "order_final when the order is cancelled. " + AdminOnly);

        app.MapCheckoutPage();
    }

    // Store API

    public static async Task<Results<Created<CheckoutOrderResponse<StoreResponse>>, Ok<CheckoutOrderResponse<StoreResponse>>, ErrorResult>> CreateOrder(
        CreateCheckoutOrderRequest body, [AsParameters] OrderServices services)
    {
        var (caller, orders, time, guard, settings, cancellationToken) = services;
        var store = caller.Store;
        if (CheckOrder(body, store) is { } problem)
            return problem;
        if (body.Store != store.Id)
            return ApiErrors.NotFound($"No store '{body.Store}' belongs to this API key.");
        if (await guard.CheckAsync(body.CallbackUrl, "callbackUrl", cancellationToken) is { } unsafeUrl)
            return ApiErrors.BadRequest(unsafeUrl, "invalid_callback_url");

        var currency = body.OrderCurrency!;
        var delivery = body.DeliveryInfo!;
        var request = new NewOrder(body.EcommerceOrderId!, body.EcommerceType!, body.OrderTotal!, TotalMinor(body.OrderTotal!, currency), currency,
            body.PaymentStatus ?? PaymentStatus.Pending, body.CallbackUrl!, body.CancelReturnUrl, body.SuccessReturnUrl,
            new DeliveryInfo(delivery.FirstName!.Trim(), delivery.LastName!.Trim(), delivery.Email!.Trim(), delivery.Country!.Trim(), delivery.City,
                delivery.Zip, delivery.Address, delivery.Complement, delivery.State),
            Fingerprint(body));
        (CreateOutcome Outcome, CheckoutOrder? Order) created;
        try
        {
            created = await orders.CreateAsync(store, request, cancellationToken);
        }
        catch (MarketRatesUnavailableException ex)
        {
            return ApiErrors.Result(new ApiError(503, "market_rates_unavailable", ex.Message));
        }
        return created switch
        {
            (CreateOutcome.Created, { } order) => TypedResults.Created($"/plugins/orders/{order.Id}", View(order, store, settings, time)),
            (CreateOutcome.Existing, { } order) => TypedResults.Ok(View(order, store, settings, time)),
            _ => ApiErrors.Conflict($"ecommerceOrderId '{body.EcommerceOrderId}' was already used by this store for an order with a different body.",
                "ecommerce_order_id_in_use"),
        };
    }

    public static async Task<Results<Ok<CheckoutOrderResponse<StoreResponse>>, ErrorResult>> UpdateOrder(
        string orderId, UpdateCheckoutOrderRequest body, [AsParameters] OrderServices services)
    {
        var (caller, orders, time, _, settings, cancellationToken) = services;
        if (CheckUpdate(body) is { } problem)
            return problem;
        var store = caller.Store;
        var (outcome, order) = await orders.UpdateAsync(store.Id, orderId,
            new OrderUpdate(body.TransactionHash, body.PaymentMethod, body.PaymentStatus, body.Blockchain, body.ConvertedTotal), cancellationToken);
        return outcome switch
        {
            UpdateOutcome.NotFound => OrderNotFound(orderId),
            UpdateOutcome.Final => ApiErrors.Conflict(
                $"Order '{orderId}' is {order!.Status}; a confirmed or cancelled order cannot change.", "order_final"),
            _ => TypedResults.Ok(View(order!, store, settings, time)),
        };
    }

    public static async Task<Results<Ok<CheckoutOrderResponse<StoreResponse>>, ErrorResult>> GetOrder(string orderId, [AsParameters] OrderServices services)
    {
        var (caller, orders, time, _, settings, cancellationToken) = services;
        var store = caller.Store;
        return await orders.FindAsync(store.Id, orderId, cancellationToken) is { } order
            ? TypedResults.Ok(View(order, store, settings, time))
            : OrderNotFound(orderId);
    }

    public static async Task<Results<Ok<CheckoutOrderListResponse>, ErrorResult>> ListOrders(
        [AsParameters] OrderServices services, [Required, StringLength(64, MinimumLength = 1)] string? storeId = null, [Range(1, 100)] int limit = 100,
        [Range(0, 100_000)] int offset = 0, string? paymentStatus = null,
        string? startDate = null, string? endDate = null, bool withCount = false, bool withTotal = false)
    {
        var (caller, orders, time, _, settings, cancellationToken) = services;
        var store = caller.Store;
        var problem = Check.Required(storeId, "storeId", 64) ?? Check.Range(limit, "limit", 1, 100) ?? Check.Range(offset, "offset", 0, 100_000)
                      ?? (paymentStatus is null ? null : Check.OneOf(paymentStatus, "paymentStatus", PaymentStatus.All));
        if (problem is not null)
            return problem;
        if (storeId != store.Id)
            return ApiErrors.NotFound($"No store '{storeId}' belongs to this API key.");
        if (!TryParseDate(startDate, endOfDay: false, out var from))
            return ApiErrors.BadRequest("'startDate' must be a date (2026-01-31) or an ISO 8601 time with a zone.", "validation_error");
        if (!TryParseDate(endDate, endOfDay: true, out var to))
            return ApiErrors.BadRequest("'endDate' must be a date (2026-01-31) or an ISO 8601 time with a zone.", "validation_error");
        if (from > to)
            return ApiErrors.BadRequest("'startDate' must not be after 'endDate'.", "validation_error");
        var (page, total) = await orders.ListAsync(store.Id, paymentStatus, from, to, limit, offset, withCount || withTotal, cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new CheckoutOrderListResponse(total, page.Select(o => View(o, o.StoreId, settings, now)).ToList()));
    }

    public static async Task<Results<Ok<StoreVerificationResponse>, ErrorResult>> VerifyStore(CheckoutCaller caller, CheckoutStores stores)
    {
        var store = caller.Store;
        if (stores.WebhookSecret(store) is not { } secret)
            return ApiErrors.Result(new ApiError(503, "webhook_secret_unavailable",
                "This store's webhook secret cannot be read with the current signing key; an admin must rotate it."));
        var s = StoreView(store);
        return TypedResults.Ok(new StoreVerificationResponse(s.Id, s.Name, s.Email, s.ApiKeyId, s.Segment, s.UserId, s.Wallets, s.StoreUrl,
            s.StoreDiscountPercentage, s.StoreMarkupPercentage, s.CreatedAt, secret));
    }

    // Platform admin

    public static async Task<Results<Created<CreatedStoreResponse>, ErrorResult>> CreateStore(
        CreateStoreRequest request, CheckoutStores stores, CancellationToken cancellationToken)
    {
        var body = request.Settings();
        var problem = Check.Required(body.Name, "name", 200) ?? Check.Required(body.Email, "email", 254) ?? Check.Email(body.Email, "email")
                      ?? CheckStoreSettings(body);
        if (problem is not null)
            return problem;
        var created = await stores.CreateAsync(null, body.Name!.Trim(), body.Email!.Trim(), Changes(body), null, cancellationToken);
        if (created is null)
            return ApiErrors.Conflict("A store was created under the same id at the same moment; try again.");
        return TypedResults.Created($"/plugins/admin/stores/{created.Store.Id}",
            new CreatedStoreResponse(StoreView(created.Store), created.ApiKey, created.WebhookSecret));
    }

    public static async Task<Results<Ok<StoreResponse>, ErrorResult>> GetStore(string storeId, CheckoutStores stores, CancellationToken cancellationToken) =>
        await stores.FindAsync(storeId, cancellationToken) is { } store ? TypedResults.Ok(StoreView(store)) : StoreNotFound(storeId);

    public static async Task<Results<Ok<StoreResponse>, ErrorResult>> UpdateStore(
        string storeId, StoreSettingsRequest body, CheckoutStores stores, CancellationToken cancellationToken)
    {
        var problem = (body.Name is null ? null : Check.Required(body.Name, "name", 200))
                      ?? (body.Email is null ? null : Check.Email(body.Email, "email")) ?? CheckStoreSettings(body);
        if (problem is not null)
            return problem;
        return await stores.UpdateAsync(storeId, Changes(body), cancellationToken) is { } store ? TypedResults.Ok(StoreView(store)) : StoreNotFound(storeId);
    }

    public static async Task<Results<Ok<RotatedWebhookSecretResponse>, ErrorResult>> RotateWebhookSecret(
        string storeId, CheckoutStores stores, CancellationToken cancellationToken) =>
        await stores.RotateWebhookSecretAsync(storeId, cancellationToken) is var (store, secret)
            ? TypedResults.Ok(new RotatedWebhookSecretResponse(store.Id, secret))
            : StoreNotFound(storeId);

    public static async Task<Results<Ok<StoreStateResponse>, ErrorResult>> DisableStore(string storeId, CheckoutStores stores,
        CancellationToken cancellationToken) =>
        await stores.DisableAsync(storeId, cancellationToken) ? TypedResults.Ok(new StoreStateResponse(storeId, false)) : StoreNotFound(storeId);

    public static async Task<Results<Ok<CheckoutOrderResponse<StoreResponse>>, ErrorResult>> ConfirmTransfer(
        string storeId, string orderId, ConfirmTransferRequest body, CheckoutStores stores, CheckoutOrders orders, CheckoutSettings settings,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var problem = (body.TransactionHash is null ? null : CheckHash(body.TransactionHash, "transactionHash"))
                      ?? (body.Protocol is null ? null : Check.OneOf(body.Protocol, "protocol", Protocols.All.Keys.ToHashSet()));
        if (problem is not null)
            return problem;
        if (await stores.FindAsync(storeId, cancellationToken) is not { } store)
            return StoreNotFound(storeId);
        var (outcome, order) = await orders.ConfirmTransferAsync(storeId, orderId, body.TransactionHash, body.Protocol, cancellationToken);
        return outcome switch
        {
            UpdateOutcome.NotFound => OrderNotFound(orderId),
            UpdateOutcome.Final => ApiErrors.Conflict($"Order '{orderId}' is cancelled and cannot be confirmed.", "order_final"),
            _ => TypedResults.Ok(View(order!, store, settings, time)),
        };
    }

    // Views

    public static StoreResponse StoreView(CheckoutStore store) => new(store.Id, store.Name, store.Email, store.Id, store.Segment, store.UserId,
        store.Wallets, store.StoreUrl, store.DiscountPercentage, store.MarkupPercentage, Time(store.CreatedAt));

    private static CheckoutOrderResponse<StoreResponse> View(CheckoutOrder order, CheckoutStore store, CheckoutSettings settings, TimeProvider time) =>
        View(order, StoreView(store), settings, time.GetUtcNow());

    private static CheckoutOrderResponse<TStore> View<TStore>(CheckoutOrder order, TStore store, CheckoutSettings settings, DateTimeOffset now) => new(
        order.Id, order.CallbackUrl, order.SessionToken, order.EcommerceOrderId, order.Ecommerce, order.OrderTotal, order.OrderCurrency,
        order.MarkupPercentage, order.DiscountPercentage, order.CancelReturnUrl, order.SuccessReturnUrl, order.Delivery, store, order.MarketRates,
        order.EffectiveStatus(now), Amount(order.PayableMinor, order.OrderCurrency), order.TransactionHash, order.PaymentMethod, order.Blockchain,
        order.ConvertedTotal, order.Transactions, settings.PageUrl(order.SessionToken), Time(order.CreatedAt), Time(order.UpdatedAt), Time(order.ExpiresAt));

    public static string Amount(long minor, string currency) => Currencies.FromMinor(minor, currency).ToString(CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    // Validation

    private static ErrorResult? CheckOrder(CreateCheckoutOrderRequest body, CheckoutStore store)
    {
        var problem = Check.Required(body.EcommerceOrderId, "ecommerceOrderId", 100)
                      ?? Check.OneOf(body.EcommerceType, "ecommerceType", EcommerceTypes)
                      ?? Check.Required(body.OrderTotal, "orderTotal", 40)
                      ?? Check.Required(body.OrderCurrency, "orderCurrency", 3)
                      ?? (body.PaymentStatus is null ? null : Check.OneOf(body.PaymentStatus, "paymentStatus", PaymentStatus.OnCreate))
                      ?? Check.Required(body.CallbackUrl, "callbackUrl", 2000)
                      ?? Check.Required(body.Store, "store", 64);
        if (problem is not null)
            return problem;
        if (body.EcommerceOrderId!.Any(char.IsControl))
            return Invalid("'ecommerceOrderId' must not contain control characters.");
        if (!Currencies.IsKnown(body.OrderCurrency!))
            return Invalid($"'orderCurrency' must be an ISO 4217 currency code such as USD or BRL; '{body.OrderCurrency}' is not one.");
        var digits = Currencies.MinorDigits(body.OrderCurrency!);
        if (!DecimalPattern().IsMatch(body.OrderTotal!) || DecimalPlaces(body.OrderTotal!) > digits
            || !decimal.TryParse(body.OrderTotal, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var total) || total <= 0
            || !Currencies.TryToMinor(total, body.OrderCurrency!, out _))
            return Invalid($"'orderTotal' must be a positive decimal string with at most {digits} decimal places for {body.OrderCurrency} (such as \"25.40\").");
        if (Pricing.Payable(TotalMinor(body.OrderTotal!, body.OrderCurrency!), body.OrderCurrency!, store.MarkupPercentage, store.DiscountPercentage) <= 0)
            return Invalid("'orderTotal' is too small: after the store's discount nothing would be left to pay.");
        problem = CheckReturnUrl(body.CancelReturnUrl, "cancelReturnUrl") ?? CheckReturnUrl(body.SuccessReturnUrl, "successReturnUrl");
        if (problem is not null)
            return problem;
        if (body.DeliveryInfo is not { } delivery)
            return Invalid("'deliveryInfo' is required: an object with firstName, lastName, email and country.");
        return Check.Required(delivery.FirstName, "deliveryInfo.firstName", 100)
               ?? Check.Required(delivery.LastName, "deliveryInfo.lastName", 100)
               ?? Check.Required(delivery.Email, "deliveryInfo.email", 254) ?? Check.Email(delivery.Email, "deliveryInfo.email")
               ?? Check.Required(delivery.Country, "deliveryInfo.country", 60)
               ?? Optional(delivery.City, "deliveryInfo.city", 100) ?? Optional(delivery.Zip, "deliveryInfo.zip", 20)
               ?? Optional(delivery.Address, "deliveryInfo.address", 200) ?? Optional(delivery.Complement, "deliveryInfo.complement", 200)
               ?? Optional(delivery.State, "deliveryInfo.state", 100);
    }

    private static ErrorResult? CheckUpdate(UpdateCheckoutOrderRequest body)
    {
        if (body is { TransactionHash: null, PaymentMethod: null, PaymentStatus: null, Blockchain: null, ConvertedTotal: null })
            return Invalid("Send at least one of transactionHash, paymentMethod, paymentStatus, blockchain and convertedTotal.");
        if (body.PaymentStatus is { } status && !PaymentStatus.OnUpdate.Contains(status))
            return Invalid(status == PaymentStatus.Confirmed
                ? "'paymentStatus' cannot be set to confirmed: an order is confirmed by its payment."
                : "'paymentStatus' must be one of: pending, on-hold, failed, cancelled.");
        return (body.TransactionHash is null ? null : CheckHash(body.TransactionHash, "transactionHash"))
               ?? CheckName(body.PaymentMethod, "paymentMethod") ?? CheckName(body.Blockchain, "blockchain")
               ?? (body.ConvertedTotal is { } converted && (!DecimalPattern().IsMatch(converted) || converted.Length > 40)
                   ? Invalid("'convertedTotal' must be a decimal string such as \"0.00123\".")
                   : null);
    }

    private static ErrorResult? CheckStoreSettings(StoreSettingsRequest body)
    {
        var problem = Optional(body.Segment, "segment", 100) ?? Optional(body.StoreUrl, "storeUrl", 2000)
                      ?? CheckPercentage(body.StoreMarkupPercentage, "storeMarkupPercentage")
                      ?? CheckPercentage(body.StoreDiscountPercentage, "storeDiscountPercentage");
        if (problem is not null)
            return problem;
        if (body.StoreUrl is { Length: > 0 } url && CheckReturnUrl(url, "storeUrl") is { } badUrl)
            return badUrl;
        if (body.Wallets is not { } wallets)
            return null;
        if (wallets.Count > Protocols.All.Count)
            return Invalid($"'wallets' holds at most one wallet per protocol ({Protocols.All.Count}).");
        foreach (var wallet in wallets)
        {
            if (wallet?.Protocol is not { } protocol || !Protocols.All.ContainsKey(protocol))
                return Invalid($"Each wallet's 'protocol' must be one of: {string.Join(", ", Protocols.All.Keys)}.");
            if (!WalletPattern(protocol).IsMatch(wallet.Address ?? ""))
                return Invalid($"The {protocol} wallet's 'address' is not a valid address for that protocol.");
        }
        return wallets.GroupBy(w => w.Protocol).Any(g => g.Count() > 1) ? Invalid("'wallets' holds at most one wallet per protocol.") : null;
    }

    private static readonly HashSet<string> EvmProtocols = ["ETHEREUM", "BSC", "CELO", "AVAXCCHAIN", "POLYGON"];

    private static Regex WalletPattern(string protocol) => EvmProtocols.Contains(protocol) ? EvmAddress() : OtherAddress();

    private static ErrorResult? CheckPercentage(string? value, string field) =>
        value is null ? null
        : PercentagePattern().IsMatch(value) && decimal.Parse(value, CultureInfo.InvariantCulture) < 100 ? null
        : Invalid($"'{field}' must be a percentage from \"0\" to below \"100\" with at most 2 decimals, as a string.");

    private static ErrorResult? CheckReturnUrl(string? url, string field) =>
        url is null ? null
        : url.Length <= 2000 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" ? null
        : Invalid($"'{field}' must be an absolute http or https URL.");

    private static ErrorResult? CheckHash(string hash, string field) =>
        HashPattern().IsMatch(hash) ? null : Invalid($"'{field}' must be a transaction hash: 8 to 200 letters and digits (0x allowed).");

    private static ErrorResult? CheckName(string? value, string field) =>
        value is null || NamePattern().IsMatch(value) ? null : Invalid($"'{field}' must be 1 to 50 letters, digits, spaces, '-' or '_'.");

    private static ErrorResult? Optional(string? value, string field, int maxLength) =>
        value is null ? null : value.Length > maxLength ? Invalid($"'{field}' must be at most {maxLength} characters.") : null;

    private static ErrorResult Invalid(string message) => ApiErrors.BadRequest(message, "validation_error");

    private static ErrorResult OrderNotFound(string orderId) => ApiErrors.NotFound($"No order '{orderId}' in this store.");

    private static ErrorResult StoreNotFound(string storeId) => ApiErrors.NotFound($"No store '{storeId}'.");

    private static readonly HashSet<string> EcommerceTypes = ["api", "wordpress"];

    private static int DecimalPlaces(string value) => value.IndexOf('.') is var dot and >= 0 ? value.Length - dot - 1 : 0;

    private static long TotalMinor(string total, string currency) =>
        Currencies.TryToMinor(decimal.Parse(total, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture), currency, out var minor) ? minor : 0;

    /// <summary>What makes two create requests the same: every field, as sent.</summary>
    private static string Fingerprint(CreateCheckoutOrderRequest body) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body))));

    private static StoreChanges Changes(StoreSettingsRequest body) => new(body.Name?.Trim(), body.Email?.Trim(), body.Segment, body.StoreUrl,
        body.StoreMarkupPercentage, body.StoreDiscountPercentage, body.Wallets);

    /// <summary>A date (a whole day, UTC) or an ISO 8601 time with a zone; absent is no bound.</summary>
    private static bool TryParseDate(string? value, bool endOfDay, out DateTimeOffset? at)
    {
        at = null;
        if (value is null)
            return true;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            at = endOfDay ? start.AddDays(1).AddTicks(-1) : start;
            return true;
        }
        if (value.Length <= 40 && ZonedTime().IsMatch(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var instant))
        {
            at = instant;
            return true;
        }
        return false;
    }

    [GeneratedRegex(@"^\d{1,15}(\.\d{1,18})?$")]
    private static partial Regex DecimalPattern();

    [GeneratedRegex(@"^\d{1,2}(\.\d{1,2})?$")]
    private static partial Regex PercentagePattern();

    [GeneratedRegex(@"^(0x)?[A-Za-z0-9]{8,200}$")]
    private static partial Regex HashPattern();

    [GeneratedRegex(@"^[A-Za-z0-9 _-]{1,50}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^0x[0-9a-fA-F]{40}$")]
    private static partial Regex EvmAddress();

    [GeneratedRegex(@"^[A-Za-z0-9:._-]{20,128}$")]
    private static partial Regex OtherAddress();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex ZonedTime();
}

/// <summary>What the store API's handlers use.</summary>
public readonly record struct OrderServices(
    [property: FromServices] CheckoutCaller Caller,
    [property: FromServices] CheckoutOrders Orders,
    [property: FromServices] TimeProvider Time,
    [property: FromServices] WebhookTargetGuard Guard,
    [property: FromServices] CheckoutSettings Settings,
    CancellationToken CancellationToken);

/// <summary>The API key handler checks the store is enabled on every request: the platform's session check need not read it again.</summary>
public sealed class ApiKeySessionCheck : ISurfaceSessionCheck;
