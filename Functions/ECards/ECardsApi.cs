using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.ECards;

/// <summary>
/// The e-card orders API for partners ("Vektor"): a client-credentials token, the catalogue, the prepaid balance,
/// orders paid from it and fulfilled with certificate codes from stock; the platform admin manages the catalogue,
/// stock, partners, balances and cancellations.
/// </summary>
public static partial class ECardsApi
{
    public const string PartnerPolicy = "ecards-partner";
    public const int PageSize = 20;
    public const int MaxLines = 20;
    public const int MaxCertificatesPerOrder = 200;
    public const string Scope = "external-api";
    private const string PartnerOnly = "Needs a partner's bearer token from `POST /connect/token` (401 without a valid one).";
    private const string AdminOnly = "Platform admin only: a platform token of a user with the admin role (401 without one, 403 for another user).";

    public static void MapECards(this IEndpointRouteBuilder app)
    {
        app.MapPost("/connect/token", Token).WithName("ECardsToken").WithSummary("Get an access token with the partner's client credentials (OAuth 2.0 client_credentials)").WithTags("E-cards").WithErrorShape(OAuthErrorShape.Instance)
            .WithDescription("Anonymous. Exchanges a partner's client_id and client_secret (in the form, or in a Basic Authorization header, " +
                             "never both) with grant_type=client_credentials for a bearer token to the partner operations under `/v1`; " +
                             "`expires_in` is its lifetime in seconds. Errors are OAuth's: 400 invalid_request for a form that is not " +
                             "form-encoded or lacks a field, 400 unsupported_grant_type for another grant, 401 invalid_client for an " +
                             "unknown or disabled client, a wrong secret or a client that is not a partner, and 429 when tried too often.")
            .AllowAnonymous().RequireRateLimiting(RateLimitPolicies.Auth).DisableAntiforgery().AcceptsClientCredentials();

        var v1 = app.MapGroup("/v1").WithTags("E-cards").WithErrorShape(ECardErrorShape.Instance);
        var partner = v1.MapGroup("").RequireAuthorization(PartnerPolicy).RequireRateLimiting(RateLimitPolicies.PerCaller);
        partner.MapGet("/ecards", ListECards).WithName("ListECards").WithSummary("The e-card catalogue with its face values")
            .WithDescription("Every e-card that can be ordered, in one list: its id, name, description, currency unit and face values, " +
                             "each a name (the `faceValue` an order line names) and a price in whole currency units. " + PartnerOnly);
        partner.MapGet("/balance", GetBalance).WithName("GetECardBalance").WithSummary("The partner's prepaid balance")
            .WithDescription("The calling partner's prepaid balance in whole currency units, as a string. Orders are paid from it; " +
                             "a platform admin tops it up, and a cancelled order is refunded to it. " + PartnerOnly);
        partner.MapGet("/orders", ListOrders).WithName("ListECardOrders").WithSummary("The partner's orders, 20 a page, newest first")
            .WithDescription("The calling partner's orders, newest first, 20 a page, each as a summary (id, number, date, status, " +
                             "participant's email, total); `page` picks the page (from 1, the first when left out), and the answer " +
                             "says totalPages, currentPage and pageSize (a page past the last is empty). 400 when `page` is not a " +
                             "whole number from 1. " + PartnerOnly);
        partner.MapPost("/orders", CreateOrder).WithName("CreateECardOrder").ProducesErrors(StatusCodes.Status402PaymentRequired, StatusCodes.Status409Conflict).WithSummary("Order e-cards, paid from the prepaid balance (once per orderId)")
            .WithDescription("Places an order for 1 to 20 lines (at most 200 e-cards in all), debits its total from the partner's " +
                             "balance, then assigns codes from stock and emails them to the participant; the answer is the order's " +
                             "summary, Delivered when stock covered it, otherwise in a status that moves on as codes arrive. " +
                             "`orderId` is a UUID the client generates: the same order sent again answers the order placed first and " +
                             "charges nothing more. 400 for a missing or invalid field, an unknown e-card or face value; 402 " +
                             "insufficient_balance when the balance does not cover the total (nothing is charged); 409 " +
                             "order_id_conflict when the orderId was used for a different order. " + PartnerOnly);
        partner.MapGet("/orders/{order_id}/status", GetOrderStatus).WithName("GetECardOrderStatus").WithSummary("An order's status")
            .WithDescription("The status of one of the calling partner's orders, by the orderId the partner chose: Payed, " +
                             "AwaitingCertificateAssignment (waiting for stock), ReadyForDelivery, PartiallyDelivered, Delivered or " +
                             "Cancelled. 404 when the partner has no order with that id. " + PartnerOnly);
        partner.MapGet("/orders/{order_id}", GetOrder).WithName("GetECardOrder").WithSummary("An order with its lines and delivered certificates")
            .WithDescription("One of the calling partner's orders with its participant, its lines (e-card, face value, price, " +
                             "quantity, amount) and the certificate codes delivered so far; a code is shown once it has been emailed " +
                             "to the participant. 404 when the partner has no order with that id. " + PartnerOnly);

        var admin = v1.MapGroup("/admin").RequireAuthorization(PlatformApi.AdminPolicy);
        admin.MapPut("/ecards/{id}", PutECard).WithName("PutECard").WithSummary("Create or change a catalogue e-card (platform admin)")
            .WithDescription("Creates the e-card with this id, or replaces it whole: name, description, currency unit and 1 to 50 " +
                             "face values with distinct names and whole prices; answers the e-card as stored. Orders already placed " +
                             "keep the names and prices they were placed with. 400 when the id is not a whole number from 1, or a " +
                             "field is missing, too long or out of range, or a face value is listed twice. " + AdminOnly);
        admin.MapDelete("/ecards/{id}", DeleteECard).WithName("DeleteECard").WithSummary("Remove an e-card from the catalogue (platform admin)")
            .WithDescription("Removes the e-card from the catalogue, so it can no longer be ordered; orders already placed keep " +
                             "their lines. 204 with no body; 404 when there is no such e-card (so a repeat answers 404). " + AdminOnly);
        admin.MapPost("/ecards/{id}/codes", LoadCodes).WithName("LoadECardCodes").WithSummary("Load certificate codes for a face value (platform admin)")
            .WithDescription("Adds 1 to 1000 certificate codes to the stock of one face value of an e-card, then fulfils the orders " +
                             "waiting for codes. A code loaded before (for any e-card) or listed twice is skipped and counted in " +
                             "`duplicates`, so loading the same codes again adds nothing; `available` is this face value's stock now. " +
                             "400 unless `faceValue` is one of the e-card's face values and every code is 1 to 64 characters without " +
                             "surrounding spaces or control characters; 404 when there is no such e-card. " + AdminOnly);
        admin.MapPost("/partners", CreatePartner).WithName("CreateECardPartner").WithSummary("Create a partner; its client secret is shown this once (platform admin)").WithIdempotency(storesSecrets: true)
            .WithDescription("Creates a partner's API client and answers 201 with its client_id (generated when none is sent) and " +
                             "client_secret, which is shown only in this answer; with an `Idempotency-Key` a retry replays this " +
                             "answer instead of creating another partner. 400 for a missing name or a client_id that is not 3 to 64 " +
                             "letters, digits, '.', '_' or '-' starting with a letter or digit; 409 already_exists when the client_id " +
                             "is taken. " + AdminOnly);
        admin.MapGet("/partners/{partnerId}/balance", GetPartnerBalance).WithName("GetECardPartnerBalance").WithSummary("A partner's prepaid balance (platform admin)")
            .WithDescription("A partner's prepaid balance in whole currency units, as a string. 404 when no partner has this id. " + AdminOnly);
        admin.MapPost("/partners/{partnerId}/topups", TopUp).WithName("TopUpECardPartner").WithSummary("Credit a partner's prepaid balance, once per key (platform admin)")
            .WithDescription("Credits a partner's balance with `amount` whole currency units and answers the balance. Needs an " +
                             "idempotency key, so a retry can never credit twice: `reference` in the body or, without one, the " +
                             "`Idempotency-Key` header (400 when neither is sent, or either is blank or longer than 100 characters); " +
                             "the same key again credits nothing and answers `applied: false` with the balance. 400 for an amount " +
                             "out of range; 404 when no partner has this id. " + AdminOnly);
        admin.MapPost("/partners/{partnerId}/orders/{order_id}/cancel", CancelOrder).WithName("CancelECardOrder").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Cancel an undelivered order and refund it (platform admin)")
            .WithDescription("Cancels a partner's order from which nothing has been delivered yet: its total is refunded to the " +
                             "partner's balance, its assigned codes go back to stock, and the answer is the order, now Cancelled. " +
                             "404 when the partner has no order with that id; 409 invalid_state when codes of the order were " +
                             "delivered or it is cancelled already (so a repeat refunds nothing). " + AdminOnly);
        admin.MapPost("/fulfilment/run", RunFulfilment).WithName("RunECardFulfilment").WithSummary("Fulfil orders waiting for codes now (platform admin)")
            .WithDescription("Takes every unfinished order as far as stock allows now, as the five-minute timer does: codes are " +
                             "assigned and emailed, and cancelled orders' codes go back to stock; `orders` is how many orders it went " +
                             "through. Safe to repeat. " + AdminOnly);
    }

    /// <summary>OAuth 2.0 client credentials (RFC 6749 §4.4), form-encoded; errors in the OAuth shape.</summary>
    public static async Task<Results<Ok<AccessTokenResponse>, ErrorResult>> Token(
        HttpContext context, ApiClientDirectory clients, TokenService tokens, IdentifierThrottle throttle)
    {
        var (credentials, error) = await ClientCredentials.ReadAsync(context.Request);
        if (credentials is not { ClientId: var clientId, Secret: var secret })
            return error!;
        if (!throttle.TryAcquire("ecards-token", clientId))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        var client = await clients.AuthenticateAsync(clientId, secret, context.RequestAborted);
        if (client is not { Kind: ClientKinds.Partner })
            return ClientCredentials.InvalidClient();
        var token = tokens.IssueForClient(TokenAudiences.ECards, client.ClientId, client.Name, ClientKinds.Partner);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new AccessTokenResponse(token.Token, token.ExpiresIn, "Bearer", Scope));
    }

    public static async Task<Ok<List<ECardResponse>>> ListECards(ECardCatalog catalog, CancellationToken cancellationToken)
    {
        var cards = await catalog.ListAsync(cancellationToken);
        return TypedResults.Ok(cards.Select(c => new ECardResponse(c.Id, c.Name, c.Description, c.Unit, c.FaceValues())).ToList());
    }

    public static async Task<Ok<BalanceResponse>> GetBalance(CurrentUser partner, PartnerAccounts accounts, CancellationToken cancellationToken) =>
        TypedResults.Ok(new BalanceResponse(Money(await accounts.BalanceAsync(partner.Id!, cancellationToken))));

    public static async Task<Results<Ok<OrderPageResponse>, ErrorResult>> ListOrders(
        CurrentUser partner, PartnerAccounts accounts, CancellationToken cancellationToken, string? page = null)
    {
        var number = 1;
        if (page is not null && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number < 1))
            return ApiErrors.BadRequest("'page' must be a whole number from 1.", "validation_error");
        var (rows, count) = await accounts.ListAsync(partner.Id!, number, PageSize, cancellationToken);
        var totalPages = (int)((count + PageSize - 1) / PageSize);
        return TypedResults.Ok(new OrderPageResponse(rows.Select(Summary).ToList(), totalPages, number, PageSize));
    }

    public static async Task<Results<Ok<OrderSummaryResponse>, ErrorResult>> CreateOrder(
        CreateOrderRequest body, CurrentUser partner, [AsParameters] ECardServices services)
    {
        var (catalog, _, accounts, fulfilment, cancellationToken) = services;
        var (draft, problem) = await ValidateAsync(body, catalog, cancellationToken);
        if (problem is not null)
            return problem;
        var partnerId = partner.Id!;
        await fulfilment.MarkPendingAsync(partnerId, draft!.OrderId, cancellationToken);
        var placed = await accounts.PlaceAsync(partnerId, draft, cancellationToken);
        switch (placed.Outcome)
        {
            case PlaceOutcome.InsufficientBalance:
                return ApiErrors.Result(new ApiError(402, "insufficient_balance",
                    $"The order costs {Money(draft.Total)} and the balance is {Money(placed.Balance)}; nothing was charged."));
            case PlaceOutcome.DifferentBody:
                return ApiErrors.Conflict($"Order '{draft.OrderId}' was already placed with a different body.", "order_id_conflict");
        }
        var order = placed.Order!;
        // Paid and recorded: when fulfilment stops, the order stays pending and the next run or retry carries it on.
        if (!ECardOrderStatus.IsFinal(order.Status))
            order = await fulfilment.TryFulfilAsync(order, cancellationToken) ?? order;
        return TypedResults.Ok(Summary(order));
    }

    public static async Task<Results<Ok<OrderStatusResponse>, ErrorResult>> GetOrderStatus(
        [FromRoute(Name = "order_id")] string orderId, CurrentUser partner, PartnerAccounts accounts, CancellationToken cancellationToken)
    {
        var order = await FindAsync(accounts, partner.Id!, orderId, cancellationToken);
        return order is null ? OrderNotFound(orderId) : TypedResults.Ok(new OrderStatusResponse(order.Status));
    }

    public static async Task<Results<Ok<OrderDetailsResponse>, ErrorResult>> GetOrder(
        [FromRoute(Name = "order_id")] string orderId, CurrentUser partner, PartnerAccounts accounts, CancellationToken cancellationToken)
    {
        var order = await FindAsync(accounts, partner.Id!, orderId, cancellationToken);
        return order is null ? OrderNotFound(orderId) : TypedResults.Ok(Details(order));
    }

    public static async Task<Results<Ok<ECardResponse>, ErrorResult>> PutECard(
        string id, PutECardRequest body, ECardCatalog catalog, CancellationToken cancellationToken)
    {
        if (ParseECardId(id) is not { } ecardId)
            return ApiErrors.BadRequest("The e-card id must be a whole number from 1.", "validation_error");
        var problem = Check.Required(body.Name, "name", 200) ?? Check.Required(body.Unit, "unit", 32)
                      ?? (body.Description is { Length: > 2000 } ? ApiErrors.BadRequest("'description' must be at most 2000 characters.", "validation_error") : null);
        if (problem is not null)
            return problem;
        if (body.FaceValues is not { Count: >= 1 and <= 50 } faceValues)
            return ApiErrors.BadRequest("'faceValues' must list 1 to 50 face values.", "validation_error");
        var values = new List<FaceValue>();
        foreach (var value in faceValues)
        {
            if (value is null || Check.Required(value.Name, "faceValues[].name", 64) is not null)
                return ApiErrors.BadRequest("Every face value needs a 'name' of 1 to 64 characters.", "validation_error");
            if (value.Price is not (>= 1 and <= 1_000_000_000))
                return ApiErrors.BadRequest("Every face value needs a whole 'price' from 1 to 1000000000.", "validation_error");
            if (values.Any(v => v.Name == value.Name!.Trim()))
                return ApiErrors.BadRequest($"Face value '{value.Name}' is listed twice.", "validation_error");
            values.Add(new FaceValue(value.Name!.Trim(), value.Price.Value));
        }
        var row = await catalog.PutAsync(ecardId, body.Name!.Trim(), body.Description?.Trim() ?? "", body.Unit!.Trim(), values, cancellationToken);
        return TypedResults.Ok(new ECardResponse(row.Id, row.Name, row.Description, row.Unit, values));
    }

    public static async Task<Results<NoContent, ErrorResult>> DeleteECard(string id, ECardCatalog catalog, CancellationToken cancellationToken)
    {
        if (ParseECardId(id) is not { } ecardId || !await catalog.DeleteAsync(ecardId, cancellationToken))
            return ApiErrors.NotFound($"No e-card '{id}'.");
        return TypedResults.NoContent();
    }

    /// <summary>Loads codes into stock for one face value, then carries on orders waiting for codes.</summary>
    public static async Task<Results<Ok<LoadCodesResponse>, ErrorResult>> LoadCodes(
        string id, LoadCodesRequest body, [AsParameters] ECardServices services)
    {
        var (catalog, stock, _, fulfilment, cancellationToken) = services;
        var card = ParseECardId(id) is { } ecardId ? await catalog.FindAsync(ecardId, cancellationToken) : null;
        if (card is null)
            return ApiErrors.NotFound($"No e-card '{id}'.");
        if (body.FaceValue is null || card.FaceValues().All(f => f.Name != body.FaceValue))
            return ApiErrors.BadRequest($"'faceValue' must be one of the e-card's face values: {string.Join(", ", card.FaceValues().Select(f => f.Name))}.", "validation_error");
        if (body.Codes is not { Count: >= 1 and <= 1000 } codes)
            return ApiErrors.BadRequest("'codes' must list 1 to 1000 codes.", "validation_error");
        if (codes.Any(c => c is null || c.Length is 0 or > 64 || c.Any(char.IsControl) || c.Trim() != c))
            return ApiErrors.BadRequest("Every code must be 1 to 64 characters without surrounding spaces or control characters.", "validation_error");
        var (added, duplicates) = await stock.LoadAsync(card.Id, body.FaceValue, codes!, cancellationToken);
        await fulfilment.RunPendingAsync(cancellationToken);
        return TypedResults.Ok(new LoadCodesResponse(added, duplicates, await stock.CountAvailableAsync(card.Id, body.FaceValue, cancellationToken)));
    }

    public static async Task<Results<Created<CreatedPartnerResponse>, ErrorResult>> CreatePartner(
        CreatePartnerRequest body, ApiClientDirectory clients, CancellationToken cancellationToken)
    {
        var problem = Check.Required(body.Name, "name", 200)
                      ?? (body.ClientId is null || ClientIdPattern().IsMatch(body.ClientId) ? null
                          : ApiErrors.BadRequest("'client_id' must be 3 to 64 letters, digits, '-', '_' or '.'.", "validation_error"));
        if (problem is not null)
            return problem;
        var created = await clients.CreateAsync(ClientKinds.Partner, body.Name!.Trim(), body.ClientId, cancellationToken: cancellationToken);
        if (created is null)
            return ApiErrors.Conflict($"Client id '{body.ClientId}' is already in use.", "already_exists");
        return TypedResults.Created($"/v1/admin/partners/{created.Client.ClientId}/balance",
            new CreatedPartnerResponse(created.Client.ClientId, created.Secret, created.Client.Name));
    }

    public static async Task<Results<Ok<BalanceResponse>, ErrorResult>> GetPartnerBalance(
        string partnerId, ApiClientDirectory clients, PartnerAccounts accounts, CancellationToken cancellationToken)
    {
        if (await clients.FindAsync(partnerId, cancellationToken) is not { Kind: ClientKinds.Partner })
            return ApiErrors.NotFound($"No partner '{partnerId}'.");
        return TypedResults.Ok(new BalanceResponse(Money(await accounts.BalanceAsync(partnerId, cancellationToken))));
    }

    /// <summary>
    /// Credits a partner's balance under an idempotency key, the <c>reference</c> or else the <c>Idempotency-Key</c>
    /// header: the same key again is one credit. Without a key a client's retry would credit twice, so none is a 400.
    /// </summary>
    public static async Task<Results<Ok<TopUpResponse>, ErrorResult>> TopUp(
        string partnerId, TopUpRequest body, ApiClientDirectory clients, PartnerAccounts accounts, CancellationToken cancellationToken,
        [FromHeader(Name = IdempotencyMiddleware.HeaderName)] string? idempotencyKey = null)
    {
        if (body.Amount is not (>= 1 and <= 1_000_000_000_000))
            return ApiErrors.BadRequest("'amount' must be a whole number from 1 to 1000000000000.", "validation_error");
        if (body.Reference is not null && Check.Required(body.Reference, "reference", 100) is { } problem)
            return problem;
        if (body.Reference is null && idempotencyKey is not null && (Check.Required(idempotencyKey, IdempotencyMiddleware.HeaderName, 100) is not null
                                                                     || idempotencyKey.Any(char.IsControl)))
            return ApiErrors.BadRequest($"The {IdempotencyMiddleware.HeaderName} header must be 1 to 100 printable characters.", "validation_error");
        if (await clients.FindAsync(partnerId, cancellationToken) is not { Kind: ClientKinds.Partner })
            return ApiErrors.NotFound($"No partner '{partnerId}'.");
        if ((body.Reference ?? idempotencyKey) is not { } key)
            return ApiErrors.BadRequest(
                $"A top-up needs an idempotency key, so that a retry cannot credit it twice: send 'reference' in the body or an {IdempotencyMiddleware.HeaderName} header.",
                "validation_error");
        var (balance, applied) = await accounts.TopUpAsync(partnerId, body.Amount.Value, key, cancellationToken);
        return TypedResults.Ok(new TopUpResponse(Money(balance), applied));
    }

    /// <summary>
    /// Cancels an order before delivery: refunds its total, and fulfilment returns its undelivered codes to stock
    /// (here, or in the next pending run when this request stops after the cancel).
    /// </summary>
    public static async Task<Results<Ok<OrderDetailsResponse>, ErrorResult>> CancelOrder(
        string partnerId, [FromRoute(Name = "order_id")] string orderId, PartnerAccounts accounts, ECardFulfilment fulfilment,
        CancellationToken cancellationToken)
    {
        if (NormalizeOrderId(orderId) is not { } id)
            return OrderNotFound(orderId);
        var (outcome, order) = await accounts.CancelAsync(partnerId, id, cancellationToken);
        switch (outcome)
        {
            case CancelOutcome.NotFound:
                return OrderNotFound(orderId);
            case CancelOutcome.NotCancellable:
                return ApiErrors.Conflict($"Order '{id}' is {order!.Status}; only an order not yet delivered can be cancelled.", "invalid_state");
        }
        // Cancelled and refunded: when fulfilment stops before returning the codes, the next run returns them.
        await fulfilment.TryFulfilAsync(order!, cancellationToken);
        return TypedResults.Ok(Details(order!));
    }

    public static async Task<Ok<FulfilmentRunResponse>> RunFulfilment(ECardFulfilment fulfilment, CancellationToken cancellationToken) =>
        TypedResults.Ok(new FulfilmentRunResponse(await fulfilment.RunPendingAsync(cancellationToken)));

    /// <summary>Checks every field and prices the order from the catalogue; the fingerprint tells a retry from a different order.</summary>
    public static async Task<(OrderDraft? Draft, ErrorResult? Problem)> ValidateAsync(CreateOrderRequest body, ECardCatalog catalog,
        CancellationToken cancellationToken)
    {
        if (NormalizeOrderId(body.OrderId) is not { } orderId)
            return (null, ApiErrors.BadRequest("'orderId' is required and must be a UUID generated by the client.", "validation_error"));
        if (body.Participant is not { } participant)
            return (null, ApiErrors.BadRequest("'participant' is required.", "validation_error"));
        var problem = Check.Required(participant.Email, "participant.email", 254) ?? Check.Email(participant.Email, "participant.email")
                      ?? Check.Required(participant.Name, "participant.name", 200)
                      ?? Check.Required(participant.Phone, "participant.phone", 32)
                      ?? Check.Phone(participant.Phone, "participant.phone", "79251153242");
        if (problem is not null)
            return (null, problem);
        if (body.ECards is not { Count: >= 1 } ecards)
            return (null, ApiErrors.BadRequest("'ecards' must list at least one e-card.", "validation_error"));
        if (ecards.Count > MaxLines)
            return (null, ApiErrors.BadRequest($"'ecards' may list at most {MaxLines} lines.", "validation_error"));
        var cards = (await catalog.ListAsync(cancellationToken)).ToDictionary(c => c.Id);
        var lines = new List<OrderLine>();
        for (var i = 0; i < ecards.Count; i++)
        {
            var field = $"ecards[{i}]";
            if (ecards[i] is not { } line)
                return (null, ApiErrors.BadRequest($"'{field}' must be an object.", "validation_error"));
            if (ParseECardId(line.Id) is not { } ecardId)
                return (null, ApiErrors.BadRequest($"'{field}.id' is required and must be an e-card id.", "validation_error"));
            if (line.Quantity is not (>= 1 and <= 100))
                return (null, ApiErrors.BadRequest($"'{field}.quantity' must be a whole number from 1 to 100.", "validation_error"));
            if (Check.Required(line.FaceValue, $"{field}.faceValue", 64) is { } missing)
                return (null, missing);
            if (!cards.TryGetValue(ecardId, out var card))
                return (null, ApiErrors.BadRequest($"'{field}.id': there is no e-card {ecardId}.", "unknown_ecard"));
            if (card.FaceValues().FirstOrDefault(f => f.Name == line.FaceValue!.Trim()) is not { } faceValue)
                return (null, ApiErrors.BadRequest(
                    $"'{field}.faceValue': e-card {ecardId} has no face value '{line.FaceValue}'; it has {string.Join(", ", card.FaceValues().Select(f => f.Name))}.",
                    "unknown_face_value"));
            lines.Add(new OrderLine(ecardId, card.Name, faceValue.Name, faceValue.Price, line.Quantity.Value));
        }
        if (lines.Sum(l => l.Quantity) > MaxCertificatesPerOrder)
            return (null, ApiErrors.BadRequest($"An order may hold at most {MaxCertificatesPerOrder} e-cards in all.", "validation_error"));
        var email = participant.Email!.Trim();
        var name = participant.Name!.Trim();
        var phone = participant.Phone!.Trim();
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new
        {
            email, name, phone, lines = lines.Select(l => new { l.ECardId, l.FaceValue, l.Quantity }),
        })));
        return (new OrderDraft(orderId, fingerprint, email, name, phone, lines), null);
    }

    public static OrderSummaryResponse Summary(ECardOrderRow order) =>
        new(order.OrderId, order.Number, Time(order.CreatedAt), order.Status, order.ParticipantEmail, order.Total);

    public static OrderDetailsResponse Details(ECardOrderRow order) => new(
        order.OrderId, order.Number, Time(order.CreatedAt), order.Status, order.ParticipantEmail, order.Total,
        new ParticipantBody(order.ParticipantEmail, order.ParticipantName, order.ParticipantPhone),
        order.Lines().Select(l => new OrderLineResponse(l.ECardId, l.Name, l.FaceValue, l.Price, l.Quantity, l.Price * l.Quantity)).ToList(),
        // Only codes already emailed to the participant: a code is shown once it is delivered.
        order.Certificates().Where(c => c.Batch > 0).Select(c => new CertificateResponse(c.ECardId, c.FaceValue, c.Code)).ToList());

    /// <summary>UTC, shaped as the document shows dates ("2020-01-11T16:13:56.814239").</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);

    /// <summary>Balances and prices are whole currency units; the balance is a string, as documented.</summary>
    public static string Money(long amount) => amount.ToString(CultureInfo.InvariantCulture);

    public static string? NormalizeOrderId(string? orderId) =>
        orderId is { Length: <= 64 } && Guid.TryParse(orderId, out var guid) ? guid.ToString("D") : null;

    private static int? ParseECardId(string id) =>
        id.Length <= 10 && int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 ? value : null;

    private static int? ParseECardId(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.Number when id.TryGetInt32(out var value) && value >= 1 => value,
        JsonValueKind.String => ParseECardId(id.GetString()!),
        _ => null,
    };

    private static Task<ECardOrderRow?> FindAsync(PartnerAccounts accounts, string partnerId, string orderId, CancellationToken cancellationToken) =>
        NormalizeOrderId(orderId) is { } id ? accounts.FindAsync(partnerId, id, cancellationToken) : Task.FromResult<ECardOrderRow?>(null);

    private static ErrorResult OrderNotFound(string orderId) => ApiErrors.NotFound($"Order '{orderId}' not found.");

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")]
    private static partial Regex ClientIdPattern();
}

public sealed record FulfilmentRunResponse([property: System.Text.Json.Serialization.JsonPropertyName("orders")] int Orders);

/// <summary>What the e-card handlers that order, fulfil or stock take (<c>[AsParameters]</c>).</summary>
public sealed record ECardServices(
    [FromServices] ECardCatalog Catalog, [FromServices] CertificateStock Stock, [FromServices] PartnerAccounts Accounts,
    [FromServices] ECardFulfilment Fulfilment, CancellationToken CancellationToken);

/// <summary>The <c>/v1</c> error body (the document shows none): <c>{"error": code, "message": text}</c>.</summary>
public sealed class ECardErrorShape : IErrorShape
{
    public static readonly ECardErrorShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = ErrorBodySchema.Object("ECardError",
        "An e-card error: a stable machine code in 'error' and a message naming the problem.", ["error", "message"]);

    public Task WriteAsync(HttpContext context, ApiError error) =>
        context.Response.WriteAsJsonAsync(new { error = error.Code, message = error.Message }, (JsonSerializerOptions?)null,
            "application/json", context.RequestAborted);
}
