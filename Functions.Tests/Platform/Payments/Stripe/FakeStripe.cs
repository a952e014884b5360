using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using EventUtility = Stripe.EventUtility;
using StripeConfiguration = Stripe.StripeConfiguration;

namespace Serverless.Tests.Platform.Payments.Stripe;

/// <summary>One request the fake Stripe received; <see cref="Replayed"/> when answered from an idempotency record.</summary>
public sealed record StripeCall(string Method, string Path, string? IdempotencyKey, IReadOnlyDictionary<string, string> Parameters, bool Replayed);

/// <summary>
/// A fault in front of Stripe's API for one request (a load balancer's answer: it never reaches the idempotency
/// layer), except <see cref="AnswerLost"/>, which lets Stripe do the work and then never answers.
/// </summary>
public sealed record StripeFault(int Status, string? Body = null, bool Abort = false, bool LoseAnswer = false)
{
    public static readonly StripeFault ServerError =
        new(500, FakeStripe.Error("api_error", "An unknown error occurred.", null));

    public static readonly StripeFault TooManyRequests =
        new(429, FakeStripe.Error("invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit"));

    /// <summary>The connection drops before Stripe sees the request.</summary>
    public static readonly StripeFault DroppedConnection = new(0, Abort: true);

    /// <summary>Stripe does the work and records it under the idempotency key; the answer never arrives (the client times out).</summary>
    public static readonly StripeFault AnswerLost = new(0, LoseAnswer: true);
}

/// <summary>A snapshot of a Checkout Session the fake holds.</summary>
public sealed record FakeStripeSession(
    string Id,
    string Status,
    string PaymentStatus,
    long AmountTotal,
    string Currency,
    string ProductName,
    DateTimeOffset ExpiresAt,
    string? ClientReferenceId,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyDictionary<string, string> PaymentIntentMetadata,
    string? SuccessUrl,
    string? CancelUrl,
    string? CustomerEmail,
    string? PaymentIntentId);

/// <summary>
/// Stripe's API on 127.0.0.1 over real HTTP, as Stripe.net speaks it: form-encoded requests with bracketed keys,
/// Bearer auth, <c>Idempotency-Key</c> (same key and parameters: the first answer replayed with
/// <c>Idempotent-Replayed: true</c>; different parameters: 400 <c>idempotency_error</c>; a key in flight waits for
/// the first request instead of Stripe's 409), Stripe's JSON objects and error shape. Serves
/// <c>POST /v1/checkout/sessions</c>, <c>GET /v1/checkout/sessions/{id}</c> (expand <c>payment_intent</c> and
/// <c>payment_intent.payment_method</c>), <c>POST /v1/checkout/sessions/{id}/expire</c>, <c>POST /v1/refunds</c>,
/// <c>GET /v1/refunds/{id}</c>. Sessions expire at their <c>expires_at</c> by the given clock.
/// Tests play the customer (<see cref="Complete"/>, <see cref="FailPaymentAttempt"/>…) and Stripe's webhooks
/// (<see cref="Event"/>, signed by Stripe.net's own <c>EventUtility.GenerateSignatureHeader</c>).
/// </summary>
public sealed class FakeStripe(TimeProvider? clock = null) : IAsyncDisposable
{
    private static readonly TimeSpan ShortestSession = TimeSpan.FromMinutes(30), LongestSession = TimeSpan.FromHours(24);
    private static readonly string[] RefundReasons = ["duplicate", "fraudulent", "requested_by_customer"];

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly object _gate = new();
    private readonly Dictionary<string, StoredSession> _sessions = [];
    private readonly Dictionary<string, StoredIntent> _intents = [];
    private readonly Dictionary<string, StoredRefund> _refunds = [];
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _keyLocks = new();
    private readonly ConcurrentDictionary<string, Recorded> _idempotency = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<StripeFault>> _faults = new();
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    public string SecretKey { get; } = "sk_test_" + Random(24);

    public string WebhookSecret { get; } = "whsec_" + Random(32);

    public string Url { get; private set; } = "";

    /// <summary>The app's settings that make it pay through this fake (once started).</summary>
    public IEnumerable<(string Key, string Value)> Settings =>
    [
        ("Payments:Gateway", "stripe"), ("Payments:Stripe:SecretKey", SecretKey), ("Payments:Stripe:WebhookSecret", WebhookSecret),
        ("Payments:Stripe:BaseUrl", Url),
    ];

    public ConcurrentQueue<StripeCall> Calls { get; } = new();

    /// <summary>The status a new refund starts in (<c>succeeded</c> for cards; <c>pending</c> for slower methods).</summary>
    public string NewRefundStatus { get; set; } = "succeeded";

    /// <summary>What a new session offers; Checkout shows these to the customer.</summary>
    public IReadOnlyList<string> PaymentMethodTypes { get; set; } = ["card"];

    public int SessionCount { get { lock (_gate) return _sessions.Count; } }

    public int RefundCount { get { lock (_gate) return _refunds.Count; } }

    public IReadOnlyList<StripeCall> CallsTo(string method, string path) =>
        Calls.Where(c => c.Method == method && c.Path == path).ToList();

    /// <summary>The next answers to <paramref name="method"/> <paramref name="path"/>, in order; after them, Stripe's own.</summary>
    public void Script(string method, string path, params StripeFault[] faults) =>
        _faults[$"{method} {path}"] = new ConcurrentQueue<StripeFault>(faults);

    public async Task StartAsync()
    {
        (_app, Url) = await Serverless.Tests.Infrastructure.LoopbackServer.StartAsync(app => app.Map("/{**path}", HandleAsync));
    }

    // ---- The customer, and Stripe's side of a payment ----

    /// <summary>The customer pays at once (cards, wallets): the session completes, paid, with a succeeded payment intent.</summary>
    public void Complete(string sessionId, string method = "card") => Change(sessionId, s =>
    {
        var intent = IntentOf(s, method);
        intent.Status = "succeeded";
        intent.AmountReceived = s.Amount;
        intent.LastError = null;
        intent.LatestCharge = "ch_" + Random(24);
        s.Status = "complete";
        s.PaymentStatus = "paid";
    }, mustBeOpen: true);

    /// <summary>The customer pays with a delayed method: the session completes unpaid, the payment intent processing.</summary>
    public void CompleteAsync(string sessionId, string method = "us_bank_account") => Change(sessionId, s =>
    {
        var intent = IntentOf(s, method);
        intent.Status = "processing";
        intent.LastError = null;
        s.Status = "complete";
        s.PaymentStatus = "unpaid";
    }, mustBeOpen: true);

    /// <summary>The delayed payment clears (<c>checkout.session.async_payment_succeeded</c>).</summary>
    public void AsyncSucceed(string sessionId) => Change(sessionId, s =>
    {
        var intent = _intents[s.PaymentIntentId ?? throw new InvalidOperationException("No payment to clear.")];
        intent.Status = "succeeded";
        intent.AmountReceived = s.Amount;
        intent.LatestCharge = "ch_" + Random(24);
        s.PaymentStatus = "paid";
    });

    /// <summary>The delayed payment fails (<c>checkout.session.async_payment_failed</c>): the session stays complete and unpaid.</summary>
    public void AsyncFail(string sessionId, string message = "The customer's bank account could not be debited.") => Change(sessionId, s =>
    {
        var intent = _intents[s.PaymentIntentId ?? throw new InvalidOperationException("No payment to fail.")];
        intent.Status = "requires_payment_method";
        intent.LastError = ("bank_account_unusable", message);
    });

    /// <summary>An attempt is declined; the session stays open and the customer may try again.</summary>
    public void FailPaymentAttempt(string sessionId, string message) => Change(sessionId, s =>
    {
        var intent = IntentOf(s, "card");
        intent.Status = "requires_payment_method";
        intent.LastError = ("card_declined", message);
    }, mustBeOpen: true);

    /// <summary>The session expires (as at its <c>expires_at</c>, or through the API).</summary>
    public void Expire(string sessionId) => Change(sessionId, s => s.Status = "expired", mustBeOpen: true);

    /// <summary>A refund moves on (<c>refund.updated</c>, <c>refund.failed</c>).</summary>
    public void SetRefundStatus(string refundId, string status, string? failureReason = null)
    {
        lock (_gate)
        {
            var refund = _refunds[refundId];
            refund.Status = status;
            refund.FailureReason = failureReason;
        }
    }

    public FakeStripeSession Session(string sessionId)
    {
        lock (_gate)
        {
            var s = Find(sessionId) ?? throw new KeyNotFoundException(sessionId);
            return new FakeStripeSession(s.Id, s.Status, s.PaymentStatus, s.Amount, s.Currency, s.ProductName,
                DateTimeOffset.FromUnixTimeSeconds(s.ExpiresAt), s.ClientReferenceId, s.Metadata, s.PaymentIntentMetadata,
                s.SuccessUrl, s.CancelUrl, s.CustomerEmail, s.PaymentIntentId);
        }
    }

    /// <summary>
    /// A webhook as Stripe sends it: an <c>event</c> whose <c>data.object</c> is the session (<c>cs_…</c>) or refund
    /// (<c>re_…</c>) as it is now, signed with <see cref="WebhookSecret"/> at <paramref name="at"/> (the fake's clock
    /// when not given) by Stripe.net's own signing helper.
    /// </summary>
    public (string Json, string SignatureHeader, string EventId) Event(string type, string sessionOrRefundId, DateTimeOffset? at = null)
    {
        var when = at ?? _clock.GetUtcNow();
        JsonObject data;
        lock (_gate)
        {
            data = sessionOrRefundId.StartsWith("re_", StringComparison.Ordinal)
                ? RefundJson(_refunds[sessionOrRefundId])
                : SessionJson(Find(sessionOrRefundId) ?? throw new KeyNotFoundException(sessionOrRefundId), []);
        }
        var eventId = "evt_" + Random(24);
        var json = new JsonObject
        {
            ["id"] = eventId,
            ["object"] = "event",
            ["api_version"] = StripeConfiguration.ApiVersion,
            ["created"] = when.ToUnixTimeSeconds(),
            ["data"] = new JsonObject { ["object"] = data },
            ["livemode"] = false,
            ["pending_webhooks"] = 1,
            ["request"] = new JsonObject { ["id"] = null, ["idempotency_key"] = null },
            ["type"] = type,
        }.ToJsonString();
        return (json, EventUtility.GenerateSignatureHeader(json, WebhookSecret, when.ToUnixTimeSeconds()), eventId);
    }

    // ---- HTTP ----

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var parameters = request.HasFormContentType
            ? (await request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString())
            : request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        var key = request.Headers["Idempotency-Key"].FirstOrDefault();
        var fault = _faults.TryGetValue($"{request.Method} {path}", out var script) && script.TryDequeue(out var next) ? next : null;

        if (request.Headers.Authorization.ToString() != "Bearer " + SecretKey)
        {
            Calls.Enqueue(new StripeCall(request.Method, path, key, parameters, false));
            await WriteAsync(context, new Answer(401, Error("invalid_request_error", "Invalid API Key provided.", null)));
            return;
        }
        if (fault is { Abort: true })
        {
            Calls.Enqueue(new StripeCall(request.Method, path, key, parameters, false));
            context.Abort();
            return;
        }
        if (fault is { LoseAnswer: false })
        {
            Calls.Enqueue(new StripeCall(request.Method, path, key, parameters, false));
            await WriteAsync(context, new Answer(fault.Status, fault.Body!));
            return;
        }

        Answer answer;
        var replayed = false;
        if (request.Method == "POST" && !string.IsNullOrEmpty(key))
        {
            // Stripe answers 409 to a key still in flight; the fake lets it wait, so concurrent callers see the replay.
            var keyLock = _keyLocks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
            await keyLock.WaitAsync();
            try
            {
                var fingerprint = request.Method + " " + path + "?" + string.Join("&",
                    parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
                if (_idempotency.TryGetValue(key, out var recorded))
                {
                    replayed = recorded.Fingerprint == fingerprint;
                    answer = replayed ? recorded.Answer : new Answer(400, Error("idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. " +
                        $"Try using a key other than '{key}' if you meant to execute a different request.", null));
                }
                else
                {
                    answer = Serve(request.Method, path, parameters);
                    // Stripe keeps no record of a request refused before the endpoint ran (validation, missing objects).
                    if (answer.Status is < 400 or >= 500)
                        _idempotency[key] = new Recorded(fingerprint, answer);
                }
            }
            finally
            {
                keyLock.Release();
            }
        }
        else
            answer = Serve(request.Method, path, parameters);
        Calls.Enqueue(new StripeCall(request.Method, path, key, parameters, replayed));

        if (fault is { LoseAnswer: true })
        {
            // The work is done and recorded; hold the answer until the client gives up on it.
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, both.Token);
            }
            catch (OperationCanceledException)
            {
            }
            context.Abort();
            return;
        }
        if (replayed)
            context.Response.Headers["Idempotent-Replayed"] = "true";
        await WriteAsync(context, answer);
    }

    private Answer Serve(string method, string path, Dictionary<string, string> p)
    {
        var segments = path.Trim('/').Split('/');
        lock (_gate)
        {
            return (method, segments) switch
            {
                ("POST", ["v1", "checkout", "sessions"]) => CreateSession(p),
                ("GET", ["v1", "checkout", "sessions", var id]) => Find(id) is { } s
                    ? Ok(SessionJson(s, p.Where(e => e.Key.StartsWith("expand", StringComparison.Ordinal)).Select(e => e.Value).ToHashSet()))
                    : Missing("checkout.session", id, "session"),
                ("POST", ["v1", "checkout", "sessions", var id, "expire"]) => ExpireSession(id),
                ("POST", ["v1", "refunds"]) => CreateRefund(p),
                ("GET", ["v1", "refunds", var id]) => _refunds.TryGetValue(id, out var r) ? Ok(RefundJson(r)) : Missing("refund", id, "id"),
                _ => new Answer(404, Error("invalid_request_error", $"Unrecognized request URL ({method}: {path}).", null)),
            };
        }
    }

    private Answer CreateSession(Dictionary<string, string> p)
    {
        if (p.GetValueOrDefault("mode") != "payment")
            return Invalid("This fake serves Checkout in payment mode only.", "mode");
        if (!p.TryGetValue("line_items[0][price_data][currency]", out var currency) || currency != currency.ToLowerInvariant() || currency.Length != 3)
            return Invalid("Invalid currency: must be a three-letter ISO code in lower case.", "line_items[0][price_data][currency]");
        if (!long.TryParse(p.GetValueOrDefault("line_items[0][price_data][unit_amount]"), out var unitAmount) || unitAmount < 1)
            return Invalid("Invalid integer: unit_amount must be a positive integer.", "line_items[0][price_data][unit_amount]");
        if (p.GetValueOrDefault("line_items[0][price_data][product_data][name]") is not { Length: > 0 } name)
            return Invalid("Missing required param: line_items[0][price_data][product_data][name].", "line_items[0][price_data][product_data][name]");
        var quantity = long.TryParse(p.GetValueOrDefault("line_items[0][quantity]"), out var q) ? q : 0;
        if (quantity < 1)
            return Invalid("Missing required param: line_items[0][quantity].", "line_items[0][quantity]");
        if (p.Keys.Any(k => k.StartsWith("line_items[1]", StringComparison.Ordinal)))
            return Invalid("This fake serves one line item.", "line_items");

        var now = _clock.GetUtcNow();
        var expiresAt = p.TryGetValue("expires_at", out var e) && long.TryParse(e, out var at) ? at : (now + LongestSession).ToUnixTimeSeconds();
        if (expiresAt < (now + ShortestSession).ToUnixTimeSeconds())
            return Invalid("The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.", "expires_at");
        if (expiresAt > (now + LongestSession).ToUnixTimeSeconds())
            return Invalid("The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.", "expires_at");

        var session = new StoredSession
        {
            Id = "cs_test_" + Random(24),
            Created = now.ToUnixTimeSeconds(),
            ExpiresAt = expiresAt,
            Amount = unitAmount * quantity,
            Currency = currency,
            ProductName = name,
            ClientReferenceId = p.GetValueOrDefault("client_reference_id"),
            CustomerEmail = p.GetValueOrDefault("customer_email"),
            SuccessUrl = p.GetValueOrDefault("success_url"),
            CancelUrl = p.GetValueOrDefault("cancel_url"),
            Metadata = Bracketed(p, "metadata"),
            PaymentIntentMetadata = Bracketed(p, "payment_intent_data[metadata]"),
            PaymentMethodTypes = [.. PaymentMethodTypes],
        };
        _sessions[session.Id] = session;
        return Ok(SessionJson(session, []));
    }

    private Answer ExpireSession(string id)
    {
        if (Find(id) is not { } session)
            return Missing("checkout.session", id, "session");
        if (session.Status != "open")
            return Invalid($"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of `{session.Status}`.", null);
        session.Status = "expired";
        return Ok(SessionJson(session, []));
    }

    private Answer CreateRefund(Dictionary<string, string> p)
    {
        if (p.GetValueOrDefault("payment_intent") is not { Length: > 0 } intentId)
            return Invalid("One of the following params should be provided for this request: payment_intent or charge.", "payment_intent");
        if (!_intents.TryGetValue(intentId, out var intent))
            return Invalid($"No such payment_intent: '{intentId}'", "payment_intent", "resource_missing");
        if (intent.Status != "succeeded")
            return Invalid($"This PaymentIntent ({intentId}) does not have a successful charge to refund.", "payment_intent", "charge_not_refundable");
        var refundable = intent.AmountReceived - _refunds.Values.Where(r => r.PaymentIntent == intentId && r.Status is not ("failed" or "canceled")).Sum(r => r.Amount);
        if (refundable <= 0)
            return Invalid($"Charge {intent.LatestCharge} has already been refunded.", null, "charge_already_refunded");
        var amount = p.TryGetValue("amount", out var a) ? long.TryParse(a, out var parsed) ? parsed : -1 : refundable;
        if (amount < 1)
            return Invalid("Invalid positive integer", "amount");
        if (amount > refundable)
            return Invalid($"Refund amount ({amount}) is greater than unrefunded amount on charge ({refundable})", "amount", "amount_too_large");
        var reason = p.GetValueOrDefault("reason");
        if (reason is not null && !RefundReasons.Contains(reason))
            return Invalid($"Invalid reason: must be one of {string.Join(", ", RefundReasons)}", "reason");

        var refund = new StoredRefund
        {
            Id = "re_" + Random(24),
            Amount = amount,
            Currency = intent.Currency,
            PaymentIntent = intentId,
            Charge = intent.LatestCharge,
            Reason = reason,
            Status = NewRefundStatus,
            Metadata = Bracketed(p, "metadata"),
            Created = _clock.GetUtcNow().ToUnixTimeSeconds(),
        };
        _refunds[refund.Id] = refund;
        return Ok(RefundJson(refund));
    }

    // ---- Stripe's objects ----

    private StoredSession? Find(string id)
    {
        if (!_sessions.TryGetValue(id, out var session))
            return null;
        if (session.Status == "open" && _clock.GetUtcNow().ToUnixTimeSeconds() >= session.ExpiresAt)
            session.Status = "expired";
        return session;
    }

    private void Change(string sessionId, Action<StoredSession> change, bool mustBeOpen = false)
    {
        lock (_gate)
        {
            var session = Find(sessionId) ?? throw new KeyNotFoundException(sessionId);
            if (mustBeOpen && session.Status != "open")
                throw new InvalidOperationException($"Session {sessionId} is {session.Status}, not open.");
            change(session);
        }
    }

    private StoredIntent IntentOf(StoredSession session, string method)
    {
        if (session.PaymentIntentId is { } existing)
        {
            _intents[existing].MethodType = method;
            return _intents[existing];
        }
        var intent = new StoredIntent
        {
            Id = "pi_" + Random(24),
            Amount = session.Amount,
            Currency = session.Currency,
            Metadata = session.PaymentIntentMetadata,
            MethodType = method,
            PaymentMethodId = "pm_" + Random(24),
            Created = _clock.GetUtcNow().ToUnixTimeSeconds(),
        };
        _intents[intent.Id] = intent;
        session.PaymentIntentId = intent.Id;
        return intent;
    }

    private JsonObject SessionJson(StoredSession s, HashSet<string> expand) => new()
    {
        ["id"] = s.Id,
        ["object"] = "checkout.session",
        ["amount_subtotal"] = s.Amount,
        ["amount_total"] = s.Amount,
        ["cancel_url"] = s.CancelUrl,
        ["client_reference_id"] = s.ClientReferenceId,
        ["created"] = s.Created,
        ["currency"] = s.Currency,
        ["customer_email"] = s.CustomerEmail,
        ["expires_at"] = s.ExpiresAt,
        ["livemode"] = false,
        ["metadata"] = Map(s.Metadata),
        ["mode"] = "payment",
        ["payment_intent"] = s.PaymentIntentId is null ? null
            : expand.Contains("payment_intent") ? IntentJson(_intents[s.PaymentIntentId], expand.Contains("payment_intent.payment_method"))
            : JsonValue.Create(s.PaymentIntentId),
        ["payment_method_types"] = new JsonArray([.. s.PaymentMethodTypes.Select(t => JsonValue.Create(t))]),
        ["payment_status"] = s.PaymentStatus,
        ["status"] = s.Status,
        ["success_url"] = s.SuccessUrl,
        ["url"] = s.Status == "open" ? "https://checkout.stripe.com/c/pay/" + s.Id : null,
    };

    private static JsonObject IntentJson(StoredIntent i, bool expandMethod) => new()
    {
        ["id"] = i.Id,
        ["object"] = "payment_intent",
        ["amount"] = i.Amount,
        ["amount_received"] = i.AmountReceived,
        ["created"] = i.Created,
        ["currency"] = i.Currency,
        ["last_payment_error"] = i.LastError is { } error
            ? new JsonObject { ["type"] = "card_error", ["code"] = error.Code, ["message"] = error.Message }
            : null,
        ["latest_charge"] = i.LatestCharge,
        ["livemode"] = false,
        ["metadata"] = Map(i.Metadata),
        ["payment_method"] = expandMethod
            ? new JsonObject { ["id"] = i.PaymentMethodId, ["object"] = "payment_method", ["created"] = i.Created, ["livemode"] = false, ["type"] = i.MethodType }
            : JsonValue.Create(i.PaymentMethodId),
        ["payment_method_types"] = new JsonArray(JsonValue.Create(i.MethodType)),
        ["status"] = i.Status,
    };

    private static JsonObject RefundJson(StoredRefund r) => new()
    {
        ["id"] = r.Id,
        ["object"] = "refund",
        ["amount"] = r.Amount,
        ["charge"] = r.Charge,
        ["created"] = r.Created,
        ["currency"] = r.Currency,
        ["failure_reason"] = r.FailureReason,
        ["metadata"] = Map(r.Metadata),
        ["payment_intent"] = r.PaymentIntent,
        ["reason"] = r.Reason,
        ["status"] = r.Status,
    };

    private static JsonObject Map(Dictionary<string, string> values) =>
        new(values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)JsonValue.Create(v.Value))));

    /// <summary><c>metadata[intent_id]=x</c> → {intent_id: x}.</summary>
    private static Dictionary<string, string> Bracketed(Dictionary<string, string> p, string prefix) => p
        .Where(e => e.Key.StartsWith(prefix + "[", StringComparison.Ordinal) && e.Key.EndsWith(']') && e.Key.Count(c => c == '[') == prefix.Count(c => c == '[') + 1)
        .ToDictionary(e => e.Key[(prefix.Length + 1)..^1], e => e.Value);

    internal static string Error(string type, string message, string? code, string? param = null) =>
        new JsonObject { ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["code"] = code, ["param"] = param } }.ToJsonString();

    private static Answer Ok(JsonObject body) => new(200, body.ToJsonString());

    private static Answer Invalid(string message, string? param, string? code = null) =>
        new(400, Error("invalid_request_error", message, code ?? (param is null ? null : "parameter_invalid"), param));

    private static Answer Missing(string kind, string id, string param) =>
        new(404, Error("invalid_request_error", $"No such {kind}: '{id}'", "resource_missing", param));

    private static async Task WriteAsync(HttpContext context, Answer answer)
    {
        context.Response.StatusCode = answer.Status;
        context.Response.Headers["Request-Id"] = "req_" + Random(14);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.Body);
    }

    private static string Random(int length) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(length))[..length];

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_app is not null)
            await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private sealed record Answer(int Status, string Body);

    private sealed record Recorded(string Fingerprint, Answer Answer);

    private sealed class StoredSession
    {
        public required string Id { get; init; }
        public required long Created { get; init; }
        public required long ExpiresAt { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required string ProductName { get; init; }
        public string? ClientReferenceId { get; init; }
        public string? CustomerEmail { get; init; }
        public string? SuccessUrl { get; init; }
        public string? CancelUrl { get; init; }
        public required Dictionary<string, string> Metadata { get; init; }
        public required Dictionary<string, string> PaymentIntentMetadata { get; init; }
        public required List<string> PaymentMethodTypes { get; init; }
        public string Status { get; set; } = "open";
        public string PaymentStatus { get; set; } = "unpaid";
        public string? PaymentIntentId { get; set; }
    }

    private sealed class StoredIntent
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required Dictionary<string, string> Metadata { get; init; }
        public required string PaymentMethodId { get; init; }
        public required long Created { get; init; }
        public required string MethodType { get; set; }
        public string Status { get; set; } = "requires_payment_method";
        public long AmountReceived { get; set; }
        public string? LatestCharge { get; set; }
        public (string Code, string Message)? LastError { get; set; }
    }

    private sealed class StoredRefund
    {
        public required string Id { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public required string PaymentIntent { get; init; }
        public string? Charge { get; init; }
        public string? Reason { get; init; }
        public required Dictionary<string, string> Metadata { get; init; }
        public required long Created { get; init; }
        public required string Status { get; set; }
        public string? FailureReason { get; set; }
    }
}
