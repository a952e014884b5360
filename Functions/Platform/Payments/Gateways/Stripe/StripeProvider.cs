using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Serverless.Platform.Payments;

/// <summary>
/// Stripe through Stripe.net: one Checkout Session (mode <c>payment</c>) per intent, refunds on its payment intent,
/// and <c>Stripe-Signature</c> verified by the library itself. Stripe.net retries network failures, 409 and 5xx a
/// few times, resending the same <c>Idempotency-Key</c>, so a create whose answer was lost is answered from
/// Stripe's idempotency record rather than made twice.
/// </summary>
public sealed class StripeProvider(IHttpClientFactory clients, IOptions<StripeOptions> options, TimeProvider time) : IPaymentProvider
{
    public const string HttpClientName = "stripe";

    /// <summary>Stripe.net's own retries (it sleeps 0.5 s, then 1 s); the platform retries later for longer outages.</summary>
    public const int MaxNetworkRetries = 2;

    public const string IntentIdKey = "intent_id";
    public const string RefundIdKey = "refund_id";

    /// <summary>Stripe's window for <c>expires_at</c>: 30 minutes to 24 hours after the session is created.</summary>
    public static readonly TimeSpan ShortestSession = TimeSpan.FromMinutes(30), LongestSession = TimeSpan.FromHours(24);

    // Keeps a clamped expires_at inside Stripe's window despite clock skew and the time the request takes.
    private static readonly TimeSpan ClockMargin = TimeSpan.FromMinutes(1);

    // A clamped expires_at is rounded to this grid, so the platform's own retry minutes later still sends the same
    // parameters under the same idempotency key (Stripe refuses a key reused with different parameters).
    private static readonly TimeSpan ExpiryGrid = TimeSpan.FromMinutes(10);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public string Name => "stripe";

    public async Task<ProviderCheckout> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken)
    {
        var create = new SessionCreateOptions
        {
            Mode = "payment",
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = request.Currency.ToLowerInvariant(),
                        UnitAmount = request.AmountMinor,
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = request.Description },
                    },
                },
            ],
            ClientReferenceId = request.IntentId,
            Metadata = new Dictionary<string, string> { [IntentIdKey] = request.IntentId },
            PaymentIntentData = new SessionPaymentIntentDataOptions
            {
                Metadata = new Dictionary<string, string> { [IntentIdKey] = request.IntentId },
            },
            SuccessUrl = WithSessionId(request.ReturnUrl),
            CancelUrl = request.CancelUrl,
            CustomerEmail = string.IsNullOrWhiteSpace(request.CustomerEmail) ? null : request.CustomerEmail,
            ExpiresAt = SessionExpiry(request.ExpiresAt, time.GetUtcNow()).UtcDateTime,
        };
        var session = await CallAsync(client => new SessionService(client).CreateAsync(create,
            new RequestOptions { IdempotencyKey = request.IdempotencyKey }, cancellationToken), cancellationToken);
        return new ProviderCheckout(session.Id, session.Url, ToOffset(session.ExpiresAt));
    }

    /// <summary>
    /// The intent's deadline when Stripe allows it; otherwise the nearest time inside [now + 30 min, now + 24 h]
    /// (rounded to a 10-minute grid, a minute inside the window). A surface whose order ends sooner than 30 minutes
    /// expires the session itself through <see cref="CancelAsync"/> at its own deadline.
    /// </summary>
    public static DateTimeOffset SessionExpiry(DateTimeOffset intentExpiresAt, DateTimeOffset now)
    {
        var earliest = RoundUp(now + ShortestSession + ClockMargin);
        var latest = RoundDown(now + LongestSession - ClockMargin);
        var wanted = DateTimeOffset.FromUnixTimeSeconds(intentExpiresAt.ToUnixTimeSeconds());
        return wanted < earliest ? earliest : wanted > latest ? latest : wanted;

        static DateTimeOffset RoundUp(DateTimeOffset t) =>
            new(((t.UtcTicks + ExpiryGrid.Ticks - 1) / ExpiryGrid.Ticks) * ExpiryGrid.Ticks, TimeSpan.Zero);
        static DateTimeOffset RoundDown(DateTimeOffset t) => new(t.UtcTicks / ExpiryGrid.Ticks * ExpiryGrid.Ticks, TimeSpan.Zero);
    }

    public async Task<ProviderPayment> FetchAsync(string orderId, CancellationToken cancellationToken)
    {
        var session = await GetSessionAsync(orderId, cancellationToken);
        return ToPayment(session);
    }

    /// <summary>Checkout Sessions capture automatically: the answer is the session's current state.</summary>
    public Task<ProviderPayment> CaptureAsync(string orderId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken) =>
        FetchAsync(orderId, cancellationToken);

    public async Task CancelAsync(string orderId, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync(client => new SessionService(client).ExpireAsync(orderId, null, null, cancellationToken), cancellationToken);
        }
        catch (PaymentProviderException ex) when (ex is { Transient: false, Status: 400 })
        {
            // Stripe expires only open sessions. Completed or expired already is the end we wanted (a payment that
            // completed meanwhile reaches the platform through its event or a fetch).
            var session = await GetSessionAsync(orderId, cancellationToken);
            if (session.Status is not ("complete" or "expired"))
                throw;
        }
    }

    public async Task<ProviderRefund> RefundAsync(RefundRequest request, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { [RefundIdKey] = request.RefundId };
        if (!string.IsNullOrWhiteSpace(request.Reason))
            metadata["reason"] = request.Reason.Length <= 500 ? request.Reason : request.Reason[..500];
        var create = new RefundCreateOptions
        {
            PaymentIntent = request.PaymentId,
            Amount = request.AmountMinor,
            Reason = StripeRefundReason(request.Reason),
            Metadata = metadata,
        };
        var refund = await CallAsync(client => new RefundService(client).CreateAsync(create,
            new RequestOptions { IdempotencyKey = request.IdempotencyKey }, cancellationToken), cancellationToken);
        return ToRefund(refund);
    }

    public async Task<ProviderRefund> FetchRefundAsync(string providerRefundId, CancellationToken cancellationToken)
    {
        var refund = await CallAsync(client => new RefundService(client).GetAsync(providerRefundId, null, null, cancellationToken), cancellationToken);
        return ToRefund(refund);
    }

    /// <summary>Stripe's three reasons; anything else is sent without one (our text stays in metadata).</summary>
    public static string? StripeRefundReason(string? reason) => reason?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "duplicate" => "duplicate",
        "fraudulent" or "fraud" => "fraudulent",
        var r when r.Contains("customer") || r.Contains("requested") || r.Contains("cancel") => "requested_by_customer",
        _ => null,
    };

    public InboundVerification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var settings = options.Value;
        var header = headers["Stripe-Signature"].ToString();
        if (string.IsNullOrWhiteSpace(header))
            return InboundVerification.Refused("The Stripe-Signature header is missing.");

        string json;
        try
        {
            json = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return InboundVerification.Refused("The body is not UTF-8, so it cannot be a Stripe event.");
        }

        try
        {
            EventUtility.ValidateSignature(json, header, settings.WebhookSecret, (long)settings.WebhookTolerance.TotalSeconds, now.ToUnixTimeSeconds());
        }
        catch (StripeException ex)
        {
            return InboundVerification.Refused(ex.Message);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            // The library reads t= with Convert.ToInt32: a header that is not Stripe's shape ends up here.
            return InboundVerification.Refused("The Stripe-Signature header is not in Stripe's format (t=…,v1=…).");
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                && id.GetString() is { Length: > 0 } eventId)
                return InboundVerification.Ok(eventId);
        }
        catch (JsonException)
        {
        }
        return InboundVerification.Refused("The signed body is not a Stripe event (it has no id).");
    }

    public ProviderEvent Parse(string eventId, ReadOnlySpan<byte> body)
    {
        Event stripeEvent;
        try
        {
            stripeEvent = EventUtility.ParseEvent(Encoding.UTF8.GetString(body), throwOnApiVersionMismatch: false);
        }
        catch (Exception)
        {
            // Verified and stored already: a body the library cannot read is kept as an event of no interest.
            return new ProviderEvent(eventId, "", ProviderEventKind.Other);
        }

        var type = stripeEvent.Type ?? "";
        var at = ToOffset(stripeEvent.Created);
        return (type, stripeEvent.Data?.Object) switch
        {
            ("checkout.session.completed", Session s) =>
                PaymentEvent(s.PaymentStatus == "paid" ? ProviderPaymentState.Succeeded : ProviderPaymentState.Open, s),
            ("checkout.session.async_payment_succeeded", Session s) => PaymentEvent(ProviderPaymentState.Succeeded, s),
            ("checkout.session.async_payment_failed", Session s) =>
                PaymentEvent(ProviderPaymentState.Failed, s, "The customer's delayed payment failed."),
            ("checkout.session.expired", Session s) => PaymentEvent(ProviderPaymentState.Expired, s),
            ("refund.created" or "refund.updated" or "refund.failed" or "charge.refund.updated", Refund r) =>
                new ProviderEvent(eventId, type, ProviderEventKind.Refund, Refund: ToRefund(r)),
            _ => new ProviderEvent(eventId, type, ProviderEventKind.Other),
        };

        ProviderEvent PaymentEvent(ProviderPaymentState state, Session session, string? failure = null) =>
            new(eventId, type, ProviderEventKind.Payment, Payment: ToPayment(session, state, failure, at));
    }

    private async Task<Session> GetSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var get = new SessionGetOptions { Expand = ["payment_intent", "payment_intent.payment_method"] };
        return await CallAsync(client => new SessionService(client).GetAsync(sessionId, get, null, cancellationToken), cancellationToken);
    }

    /// <summary>What a fetched session says about its payment.</summary>
    private static ProviderPayment ToPayment(Session session)
    {
        var (state, failure) = session switch
        {
            { Status: "complete", PaymentStatus: "paid" } => (ProviderPaymentState.Succeeded, null),
            { Status: "expired" } => (ProviderPaymentState.Expired, null),
            // Completed with a delayed method (bank debit, some wallets) whose money did not come: async_payment_failed.
            { Status: "complete", PaymentIntent.Status: "requires_payment_method" or "canceled" } =>
                (ProviderPaymentState.Failed, session.PaymentIntent.LastPaymentError?.Message ?? "The customer's delayed payment failed."),
            // Completed with a delayed method, the money still on its way.
            { Status: "complete" } => (ProviderPaymentState.Open, null),
            { Status: "open", PaymentIntent.LastPaymentError: { } error } =>
                (ProviderPaymentState.Failed, error.Message ?? error.Code ?? "The payment attempt failed."),
            _ => (ProviderPaymentState.Open, (string?)null),
        };
        return ToPayment(session, state, failure, null);
    }

    private static ProviderPayment ToPayment(Session session, ProviderPaymentState state, string? failure, DateTimeOffset? at) => new(
        session.Id,
        state,
        PaymentId: session.PaymentIntentId,
        AmountMinor: session.AmountTotal,
        Currency: session.Currency?.ToUpperInvariant(),
        Method: session.PaymentIntent?.PaymentMethod?.Type
            ?? (session.PaymentMethodTypes is [var only] ? only : null),
        FailureReason: failure,
        At: at,
        // A completed session takes no other attempt: the customer's retry needs a new one.
        OrderClosed: state == ProviderPaymentState.Failed && session.Status == "complete",
        IntentId: session.Metadata?.GetValueOrDefault(IntentIdKey) ?? session.ClientReferenceId);

    private static ProviderRefund ToRefund(Refund refund) => new(
        refund.Id,
        refund.Status switch
        {
            "succeeded" => ProviderRefundState.Processed,
            "failed" or "canceled" => ProviderRefundState.Failed,
            _ => ProviderRefundState.Pending, // pending, requires_action
        },
        PaymentId: refund.PaymentIntentId,
        AmountMinor: refund.Amount,
        RefundId: refund.Metadata?.GetValueOrDefault(RefundIdKey),
        FailureReason: refund.Status is "failed" or "canceled" ? refund.FailureReason ?? refund.Status : null);

    /// <summary>Stripe puts the session id into a success URL that carries this template.</summary>
    private static string WithSessionId(string returnUrl) =>
        returnUrl.Contains("{CHECKOUT_SESSION_ID}", StringComparison.Ordinal) ? returnUrl
        : returnUrl + (returnUrl.Contains('?') ? "&" : "?") + "session_id={CHECKOUT_SESSION_ID}";

    private static DateTimeOffset? ToOffset(DateTime value) =>
        value == default ? null : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    /// <summary>One Stripe call with a client of its own (an HttpClient from the factory), its failures in our terms.</summary>
    private async Task<T> CallAsync<T>(Func<StripeClient, Task<T>> call, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var client = new StripeClient(new StripeClientOptions
        {
            ApiKey = settings.SecretKey,
            ApiBase = settings.BaseUrl.TrimEnd('/'),
            HttpClient = new SystemNetHttpClient(clients.CreateClient(HttpClientName), MaxNetworkRetries, enableTelemetry: false),
        });
        try
        {
            return await call(client);
        }
        catch (StripeException ex)
        {
            var status = (int)ex.HttpStatusCode;
            // 409: the same idempotency key still in flight; 429: rate or lock limits; 5xx: Stripe's side.
            var transient = status is 409 or 429 or >= 500 or 0;
            throw new PaymentProviderException(Name, ex.StripeError?.Message ?? ex.Message, transient, status == 0 ? null : status, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new PaymentProviderException(Name, $"Stripe could not be reached: {ex.Message}", transient: true, inner: ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PaymentProviderException(Name, $"Stripe did not answer within {settings.Timeout.TotalSeconds:0.#} s.", transient: true, inner: ex);
        }
    }
}
