using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Tests.Platform.Payments.Razorpay;

/// <summary>One request the fake Razorpay received.</summary>
public sealed record RazorpayCall(string Method, string Path, string Query, string? Authorization, string? IdempotencyKey, string Body)
{
    public string Route => $"{Method} {Path}";
}

/// <summary>How the fake answers one request instead of its usual answer.</summary>
public sealed record RazorpayReply(int Status, bool Drop = false, bool Stall = false)
{
    /// <summary>An error status before anything happens (nothing is created).</summary>
    public static RazorpayReply ServerError(int status = 500) => new(status);

    public static readonly RazorpayReply TooManyRequests = new(429);

    /// <summary>The request takes effect, then the connection drops without an answer.</summary>
    public static readonly RazorpayReply DroppedConnection = new(0, Drop: true);

    /// <summary>The request takes effect, and the answer never comes: the client's timeout ends the call.</summary>
    public static readonly RazorpayReply Stalled = new(0, Stall: true);
}

/// <summary>
/// Razorpay's REST API on 127.0.0.1 over real HTTP, state in memory: orders (looked up by receipt), payments,
/// captures, refunds (<c>X-Refund-Idempotency</c>), RazorpayX contacts, fund accounts and payouts
/// (<c>X-Payout-Idempotency</c>, required as Razorpay requires it). Basic auth is checked (401 otherwise); errors
/// have Razorpay's shape <c>{"error": {"code", "description", …}}</c>. A test scripts the next answers of a route
/// (<c>"POST /v1/orders"</c>, <c>"GET /v1/orders/order_…"</c>), and plays the customer and the bank with
/// <see cref="Pay"/>, <see cref="ProcessRefund"/>, <see cref="ProcessPayout"/> and the like.
/// </summary>
public sealed partial class FakeRazorpay : IAsyncDisposable
{
    public const string KeyId = "rzp_test_FakeKey0000001";
    public const string KeySecret = "fake_key_secret_0123456789";
    public const string WebhookSecret = "fake_webhook_secret_9876543210";
    public const string AccountId = "acc_FakeAccount0001";

    /// <summary>The RazorpayX account payouts must be made from.</summary>
    public const string PayoutAccountNumber = "7878780080316316";

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private readonly object _gate = new();
    private readonly Dictionary<string, JsonObject> _orders = [];
    private readonly Dictionary<string, JsonObject> _payments = [];
    private readonly Dictionary<string, JsonObject> _refunds = [];
    private readonly Dictionary<string, JsonObject> _contacts = [];
    private readonly Dictionary<string, JsonObject> _fundAccounts = [];
    private readonly Dictionary<string, JsonObject> _payouts = [];
    private readonly Dictionary<string, (string Body, string Id)> _refundKeys = [];
    private readonly Dictionary<string, (string Body, string Id)> _payoutKeys = [];
    private readonly ConcurrentDictionary<string, ConcurrentQueue<RazorpayReply>> _scripts = new();
    private WebApplication? _app;
    private long _clock = 1_767_225_600; // 2026-01-01T00:00:00Z; every entity one second after the last

    public ConcurrentQueue<RazorpayCall> Calls { get; } = new();

    public string Url { get; private set; } = "";

    /// <summary>The app's settings that make it pay through this fake (once started), with quick retries and a short timeout.</summary>
    public IEnumerable<(string Key, string Value)> Settings =>
    [
        ("Payments:Gateway", "razorpay"), ("Payments:Razorpay:KeyId", KeyId), ("Payments:Razorpay:KeySecret", KeySecret),
        ("Payments:Razorpay:WebhookSecret", WebhookSecret), ("Payments:Razorpay:BaseUrl", Url),
        ("Payments:Razorpay:RetryDelay", "00:00:00.001"), ("Payments:Razorpay:Timeout", "00:00:02"),
    ];

    public int CallCount(string route) => Calls.Count(c => c.Route == route);

    /// <summary>The next answers of one route (<c>"POST /v1/orders"</c>), in order; after them, the usual answers.</summary>
    public void Script(string route, params RazorpayReply[] replies) =>
        _scripts[route] = new ConcurrentQueue<RazorpayReply>(replies);

    public IReadOnlyList<JsonObject> Orders => Snapshot(_orders);

    public IReadOnlyList<JsonObject> Refunds => Snapshot(_refunds);

    public IReadOnlyList<JsonObject> Payouts => Snapshot(_payouts);

    public IReadOnlyList<JsonObject> Contacts => Snapshot(_contacts);

    public IReadOnlyList<JsonObject> FundAccounts => Snapshot(_fundAccounts);

    public JsonObject Order(string id) => Copy(_orders, id);

    public JsonObject Payment(string id) => Copy(_payments, id);

    public JsonObject Refund(string id) => Copy(_refunds, id);

    public JsonObject Payout(string id) => Copy(_payouts, id);

    public async Task StartAsync()
    {
        (_app, Url) = await Serverless.Tests.Infrastructure.LoopbackServer.StartAsync(app => app.Run(HandleAsync));
    }

    // ---- The customer, the bank and Razorpay's own processing ----

    /// <summary>The customer pays the order and the payment is captured (automatic capture).</summary>
    public string Pay(string orderId, string method = "upi") => AddPayment(orderId, "captured", method, null);

    /// <summary>The customer pays; the payment is authorised and waits for a capture.</summary>
    public string Authorize(string orderId, string method = "card") => AddPayment(orderId, "authorized", method, null);

    /// <summary>An attempt to pay the order fails.</summary>
    public string Fail(string orderId, string reason, string method = "card") => AddPayment(orderId, "failed", method, reason);

    public void ProcessRefund(string refundId) => SetRefundStatus(refundId, "processed");

    public void FailRefund(string refundId) => SetRefundStatus(refundId, "failed");

    public void ProcessPayout(string payoutId) => SetPayoutStatus(payoutId, "processed", utr: "UTR" + Digits(12), null);

    public void FailPayout(string payoutId, string reason) =>
        SetPayoutStatus(payoutId, "failed", null, new JsonObject { ["reason"] = "beneficiary_bank_failure", ["description"] = reason, ["source"] = "beneficiary_bank" });

    public void ReversePayout(string payoutId) =>
        SetPayoutStatus(payoutId, "reversed", null, new JsonObject
            { ["reason"] = "beneficiary_bank_rejected", ["description"] = "The beneficiary bank returned the payout.", ["source"] = "beneficiary_bank" });

    /// <summary>
    /// A webhook as Razorpay sends it: the event envelope holding a snapshot of each named entity (order_…, pay_…,
    /// rfnd_…, pout_…) under <c>payload.{payment|order|refund|payout}.entity</c>, signed with
    /// <see cref="WebhookSecret"/> (hex HMAC-SHA256 of the raw body), and its <c>x-razorpay-event-id</c>.
    /// </summary>
    public (byte[] Body, string Signature, string EventId) Webhook(string eventType, params string[] entityIds)
    {
        var payload = new JsonObject();
        var contains = new JsonArray();
        long createdAt;
        lock (_gate)
        {
            foreach (var id in entityIds)
            {
                var (name, store) = id.Split('_')[0] switch
                {
                    "order" => ("order", _orders),
                    "pay" => ("payment", _payments),
                    "rfnd" => ("refund", _refunds),
                    "pout" => ("payout", _payouts),
                    _ => throw new ArgumentException($"No entity kind for {id}."),
                };
                payload[name] = new JsonObject { ["entity"] = store[id].DeepClone() };
                contains.Add(name);
            }
            createdAt = ++_clock;
        }
        var envelope = new JsonObject
        {
            ["entity"] = "event",
            ["account_id"] = AccountId,
            ["event"] = eventType,
            ["contains"] = contains,
            ["payload"] = payload,
            ["created_at"] = createdAt,
        };
        var body = Encoding.UTF8.GetBytes(envelope.ToJsonString());
        return (body, Sign(body), NewId(""));
    }

    /// <summary>Razorpay's webhook signature: lowercase hex HMAC-SHA256 of the raw body, keyed with the webhook secret.</summary>
    public static string Sign(byte[] body, string secret = WebhookSecret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>What Razorpay Checkout hands the browser after a payment: hex HMAC-SHA256 of <c>order_id|payment_id</c> with the key secret.</summary>
    public static string CheckoutSignature(string orderId, string paymentId, string secret = KeySecret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{orderId}|{paymentId}")));

    // ---- HTTP ----

    private sealed record Answer(int Status, JsonNode Body);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync();
        var idempotencyKey = request.Headers["X-Payout-Idempotency"].FirstOrDefault() ?? request.Headers["X-Refund-Idempotency"].FirstOrDefault();
        var call = new RazorpayCall(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.Authorization.FirstOrDefault(), idempotencyKey, body);
        Calls.Enqueue(call);

        if (call.Authorization != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{KeyId}:{KeySecret}")))
        {
            await WriteAsync(context, Error(401, "Authentication failed"));
            return;
        }
        RazorpayReply? reply = _scripts.TryGetValue(call.Route, out var script) && script.TryDequeue(out var next) ? next : null;
        if (reply is { Drop: false, Stall: false })
        {
            await WriteAsync(context, reply.Status == 429
                ? Error(429, "Too many requests, please try after some time.", "BAD_REQUEST_ERROR")
                : Error(reply.Status, "The server encountered an error. The incident has been reported to admins.", "SERVER_ERROR"));
            return;
        }

        Answer answer;
        try
        {
            lock (_gate)
                answer = Route(call, request);
        }
        catch (JsonException)
        {
            answer = Error(400, "The request body is not valid JSON.");
        }

        if (reply is { Drop: true })
        {
            context.Abort();
            return;
        }
        if (reply is { Stall: true })
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        await WriteAsync(context, answer);
    }

    private Answer Route(RazorpayCall call, HttpRequest request)
    {
        var s = call.Path.Trim('/').Split('/');
        if (s.Length < 2 || s[0] != "v1")
            return NotFound();
        return (call.Method, s.Length, s[1]) switch
        {
            ("POST", 2, "orders") => CreateOrder(Json(call.Body)),
            ("GET", 2, "orders") => ListOrders(request.Query["receipt"].FirstOrDefault()),
            ("GET", 3, "orders") => Found(_orders, s[2]),
            ("GET", 4, "orders") when s[3] == "payments" => OrderPayments(s[2]),
            ("GET", 3, "payments") => Found(_payments, s[2]),
            ("POST", 4, "payments") when s[3] == "capture" => Capture(s[2], Json(call.Body)),
            ("POST", 4, "payments") when s[3] == "refund" => CreateRefund(s[2], call.Body, request.Headers["X-Refund-Idempotency"].FirstOrDefault()),
            ("GET", 3, "refunds") => Found(_refunds, s[2]),
            ("POST", 2, "contacts") => CreateContact(Json(call.Body)),
            ("POST", 2, "fund_accounts") => CreateFundAccount(Json(call.Body)),
            ("POST", 2, "payouts") => CreatePayout(call.Body, request.Headers["X-Payout-Idempotency"].FirstOrDefault()),
            ("GET", 3, "payouts") => Found(_payouts, s[2]),
            _ => NotFound(),
        };
    }

    private Answer CreateOrder(JsonObject body)
    {
        if (Long(body, "amount") is not { } amount || amount < 100)
            return Error(400, "The amount must be atleast INR 1.00", field: "amount");
        if (Str(body, "currency") is not { Length: 3 } currency)
            return Error(400, "The currency field is required.", field: "currency");
        var receipt = Str(body, "receipt");
        if (receipt is { Length: > 40 })
            return Error(400, "The receipt may not be greater than 40 characters.", field: "receipt");
        var order = new JsonObject
        {
            ["id"] = NewId("order_"),
            ["entity"] = "order",
            ["amount"] = amount,
            ["amount_paid"] = 0L,
            ["amount_due"] = amount,
            ["currency"] = currency,
            ["receipt"] = receipt,
            ["offer_id"] = null,
            ["status"] = "created",
            ["attempts"] = 0,
            ["notes"] = Notes(body),
            ["created_at"] = ++_clock,
        };
        _orders[(string)order["id"]!] = order;
        return new Answer(200, order.DeepClone());
    }

    private Answer ListOrders(string? receipt)
    {
        var items = _orders.Values.Where(o => receipt is null || (string?)o["receipt"] == receipt)
            .OrderByDescending(o => (long)o["created_at"]!).Take(10).Select(o => o.DeepClone()).ToArray();
        return Collection(items);
    }

    private Answer OrderPayments(string orderId)
    {
        if (!_orders.ContainsKey(orderId))
            return Missing();
        return Collection(_payments.Values.Where(p => (string?)p["order_id"] == orderId)
            .OrderByDescending(p => (long)p["created_at"]!).Select(p => p.DeepClone()).ToArray());
    }

    private Answer Capture(string paymentId, JsonObject body)
    {
        if (!_payments.TryGetValue(paymentId, out var payment))
            return Missing();
        var status = (string)payment["status"]!;
        if (status is "captured" or "refunded")
            return Error(400, "This payment has already been captured");
        if (status != "authorized")
            return Error(400, "Only payments which have been authorized and not yet captured can be captured");
        if (Long(body, "amount") != (long)payment["amount"]! || Str(body, "currency") != (string)payment["currency"]!)
            return Error(400, "Capture amount must be equal to the amount authorized", field: "amount");
        payment["status"] = "captured";
        payment["captured"] = true;
        MarkPaid((string)payment["order_id"]!);
        return new Answer(200, payment.DeepClone());
    }

    private Answer CreateRefund(string paymentId, string rawBody, string? idempotencyKey)
    {
        if (idempotencyKey is not null)
        {
            if (!IdempotencyKeyShape().IsMatch(idempotencyKey) || idempotencyKey.Length < 10)
                return Error(400, "The idempotency key must be at least 10 characters of letters, numbers, hyphens and underscores.");
            if (_refundKeys.TryGetValue(idempotencyKey, out var seen))
                return seen.Body == rawBody
                    ? new Answer(200, _refunds[seen.Id].DeepClone())
                    : Error(400, "Different request with the same idempotency key has already been processed.");
        }
        if (!_payments.TryGetValue(paymentId, out var payment))
            return Missing();
        if ((string)payment["status"]! is not ("captured" or "refunded"))
            return Error(400, "The payment has not been captured, so it cannot be refunded.");
        var body = Json(rawBody);
        var left = (long)payment["amount"]! - (long)payment["amount_refunded"]!;
        var amount = Long(body, "amount") ?? left;
        if (amount <= 0 || amount > left)
            return Error(400, "The refund amount provided is greater than amount captured", field: "amount");
        var refund = new JsonObject
        {
            ["id"] = NewId("rfnd_"),
            ["entity"] = "refund",
            ["amount"] = amount,
            ["currency"] = (string)payment["currency"]!,
            ["payment_id"] = paymentId,
            ["notes"] = Notes(body),
            ["receipt"] = Str(body, "receipt"),
            ["acquirer_data"] = new JsonObject { ["arn"] = null },
            ["created_at"] = ++_clock,
            ["batch_id"] = null,
            ["status"] = "pending",
            ["speed_processed"] = "normal",
            ["speed_requested"] = Str(body, "speed") ?? "normal",
        };
        var refundId = (string)refund["id"]!;
        _refunds[refundId] = refund;
        if (idempotencyKey is not null)
            _refundKeys[idempotencyKey] = (rawBody, refundId);
        var refunded = (long)payment["amount_refunded"]! + amount;
        payment["amount_refunded"] = refunded;
        payment["refund_status"] = refunded == (long)payment["amount"]! ? "full" : "partial";
        if (refunded == (long)payment["amount"]!)
            payment["status"] = "refunded";
        return new Answer(200, refund.DeepClone());
    }

    private Answer CreateContact(JsonObject body)
    {
        if (Str(body, "name") is not { Length: > 0 } name)
            return Error(400, "The name field is required.", field: "name");
        var email = Str(body, "email");
        var type = Str(body, "type");
        var reference = Str(body, "reference_id");
        // Razorpay answers the existing contact when one with the same details exists.
        var existing = _contacts.Values.FirstOrDefault(c =>
            (string?)c["name"] == name && (string?)c["email"] == email && (string?)c["type"] == type && (string?)c["reference_id"] == reference);
        if (existing is not null)
            return new Answer(200, existing.DeepClone());
        var contact = new JsonObject
        {
            ["id"] = NewId("cont_"),
            ["entity"] = "contact",
            ["name"] = name,
            ["contact"] = Str(body, "contact"),
            ["email"] = email,
            ["type"] = type,
            ["reference_id"] = reference,
            ["batch_id"] = null,
            ["active"] = true,
            ["notes"] = Notes(body),
            ["created_at"] = ++_clock,
        };
        _contacts[(string)contact["id"]!] = contact;
        return new Answer(201, contact.DeepClone());
    }

    private Answer CreateFundAccount(JsonObject body)
    {
        if (Str(body, "contact_id") is not { } contactId || !_contacts.ContainsKey(contactId))
            return Error(400, "The contact id provided does not exist", field: "contact_id");
        if (Str(body, "account_type") != "bank_account" || body["bank_account"] is not JsonObject bank)
            return Error(400, "The bank_account field is required when account type is bank_account.", field: "bank_account");
        var (name, ifsc, number) = (Str(bank, "name"), Str(bank, "ifsc"), Str(bank, "account_number"));
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(number))
            return Error(400, "The bank account name and account_number are required.", field: "bank_account");
        // Deliberately chattier than Razorpay: the description names the account, so a client must not pass it on.
        if (ifsc is null || !IfscShape().IsMatch(ifsc))
            return Error(400, $"The ifsc {ifsc} is invalid for bank account {number}.", field: "ifsc");
        var existing = _fundAccounts.Values.FirstOrDefault(f => (string?)f["contact_id"] == contactId
            && (string?)f["bank_account"]!["ifsc"] == ifsc && (string?)f["bank_account"]!["account_number"] == number);
        if (existing is not null)
            return new Answer(200, existing.DeepClone());
        var fundAccount = new JsonObject
        {
            ["id"] = NewId("fa_"),
            ["entity"] = "fund_account",
            ["contact_id"] = contactId,
            ["account_type"] = "bank_account",
            ["bank_account"] = new JsonObject
            {
                ["ifsc"] = ifsc, ["bank_name"] = "Fake Bank", ["name"] = name, ["notes"] = new JsonArray(), ["account_number"] = number,
            },
            ["batch_id"] = null,
            ["active"] = true,
            ["created_at"] = ++_clock,
        };
        _fundAccounts[(string)fundAccount["id"]!] = fundAccount;
        return new Answer(201, fundAccount.DeepClone());
    }

    private Answer CreatePayout(string rawBody, string? idempotencyKey)
    {
        if (idempotencyKey is null)
            return Error(400, "Idempotency key is missing. Include idempotency header and key in the request.", field: "X-Payout-Idempotency");
        if (idempotencyKey.Length is < 4 or > 36 || !IdempotencyKeyShape().IsMatch(idempotencyKey.Replace(' ', '_')))
            return Error(400, "The idempotency key must be 4 to 36 letters, numbers, hyphens, underscores or spaces.", field: "X-Payout-Idempotency");
        if (_payoutKeys.TryGetValue(idempotencyKey, out var seen))
            return seen.Body == rawBody
                ? new Answer(200, _payouts[seen.Id].DeepClone())
                : Error(400, "Different request with the same idempotency key has already been processed.");
        var body = Json(rawBody);
        if (Str(body, "account_number") != PayoutAccountNumber)
            return Error(400, "The account number provided is not a RazorpayX account of this merchant.", field: "account_number");
        if (Str(body, "fund_account_id") is not { } fundAccountId || !_fundAccounts.ContainsKey(fundAccountId))
            return Error(400, "The fund account id provided does not exist", field: "fund_account_id");
        if (Long(body, "amount") is not { } amount || amount < 100)
            return Error(400, "The amount must be atleast INR 1.00", field: "amount");
        var payout = new JsonObject
        {
            ["id"] = NewId("pout_"),
            ["entity"] = "payout",
            ["fund_account_id"] = fundAccountId,
            ["amount"] = amount,
            ["currency"] = Str(body, "currency"),
            ["notes"] = Notes(body),
            ["fees"] = 590,
            ["tax"] = 90,
            ["status"] = "processing",
            ["purpose"] = Str(body, "purpose"),
            ["utr"] = null,
            ["mode"] = Str(body, "mode"),
            ["reference_id"] = Str(body, "reference_id"),
            ["narration"] = Str(body, "narration"),
            ["batch_id"] = null,
            ["status_details"] = new JsonObject { ["reason"] = null, ["description"] = null, ["source"] = null },
            ["created_at"] = ++_clock,
        };
        var payoutId = (string)payout["id"]!;
        _payouts[payoutId] = payout;
        _payoutKeys[idempotencyKey] = (rawBody, payoutId);
        return new Answer(200, payout.DeepClone());
    }

    private string AddPayment(string orderId, string status, string method, string? reason)
    {
        lock (_gate)
        {
            var order = _orders[orderId];
            var payment = new JsonObject
            {
                ["id"] = NewId("pay_"),
                ["entity"] = "payment",
                ["amount"] = (long)order["amount"]!,
                ["currency"] = (string)order["currency"]!,
                ["status"] = status,
                ["order_id"] = orderId,
                ["invoice_id"] = null,
                ["international"] = false,
                ["method"] = method,
                ["amount_refunded"] = 0L,
                ["refund_status"] = null,
                ["captured"] = status == "captured",
                ["description"] = null,
                ["card_id"] = method == "card" ? NewId("card_") : null,
                ["bank"] = null,
                ["wallet"] = null,
                ["vpa"] = method == "upi" ? "success@razorpay" : null,
                ["email"] = "buyer@example.test",
                ["contact"] = "+919000090000",
                // Checkout's notes, not the order's: usually none, which Razorpay sends as [].
                ["notes"] = new JsonArray(),
                ["fee"] = status == "captured" ? 236L : null,
                ["tax"] = status == "captured" ? 36L : null,
                ["error_code"] = reason is null ? null : "BAD_REQUEST_ERROR",
                ["error_description"] = reason,
                ["error_source"] = reason is null ? null : "customer",
                ["error_step"] = reason is null ? null : "payment_authentication",
                ["error_reason"] = reason is null ? null : "payment_failed",
                ["created_at"] = ++_clock,
            };
            var id = (string)payment["id"]!;
            _payments[id] = payment;
            order["attempts"] = (int)order["attempts"]! + 1;
            if ((string)order["status"]! == "created")
                order["status"] = "attempted";
            if (status == "captured")
                MarkPaid(orderId);
            return id;
        }
    }

    private void MarkPaid(string orderId)
    {
        var order = _orders[orderId];
        order["status"] = "paid";
        order["amount_paid"] = (long)order["amount"]!;
        order["amount_due"] = 0L;
    }

    private void SetRefundStatus(string refundId, string status)
    {
        lock (_gate)
            _refunds[refundId]["status"] = status;
    }

    private void SetPayoutStatus(string payoutId, string status, string? utr, JsonObject? details)
    {
        lock (_gate)
        {
            var payout = _payouts[payoutId];
            payout["status"] = status;
            if (utr is not null)
                payout["utr"] = utr;
            if (details is not null)
                payout["status_details"] = details;
        }
    }

    // ---- Helpers ----

    private static Answer Error(int status, string description, string code = "BAD_REQUEST_ERROR", string? field = null)
    {
        var error = new JsonObject
        {
            ["code"] = status >= 500 ? "SERVER_ERROR" : code,
            ["description"] = description,
            ["source"] = "business",
            ["step"] = "payment_initiation",
            ["reason"] = "input_validation_failed",
            ["metadata"] = new JsonObject(),
        };
        if (field is not null)
            error["field"] = field;
        return new Answer(status, new JsonObject { ["error"] = error });
    }

    private static Answer Missing() => Error(400, "The id provided does not exist");

    private static Answer NotFound() => Error(404, "The requested URL was not found on the server.", "NOT_FOUND");

    private static Answer Found(Dictionary<string, JsonObject> store, string id) =>
        store.TryGetValue(id, out var entity) ? new Answer(200, entity.DeepClone()) : Missing();

    private static Answer Collection(JsonNode?[] items) =>
        new(200, new JsonObject { ["entity"] = "collection", ["count"] = items.Length, ["items"] = new JsonArray(items) });

    private static async Task WriteAsync(HttpContext context, Answer answer)
    {
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.Body.ToJsonString());
    }

    private static JsonObject Json(string body) =>
        JsonNode.Parse(body.Length == 0 ? "{}" : body) as JsonObject ?? throw new JsonException("Not an object.");

    /// <summary>Notes as sent, or [] (as Razorpay answers) when there are none.</summary>
    private static JsonNode Notes(JsonObject body) =>
        body["notes"] is JsonObject { Count: > 0 } notes ? notes.DeepClone() : new JsonArray();

    private static string? Str(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static long? Long(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;

    private IReadOnlyList<JsonObject> Snapshot(Dictionary<string, JsonObject> store)
    {
        lock (_gate)
            return store.Values.Select(e => (JsonObject)e.DeepClone()).ToList();
    }

    private JsonObject Copy(Dictionary<string, JsonObject> store, string id)
    {
        lock (_gate)
            return (JsonObject)store[id].DeepClone();
    }

    private static string NewId(string prefix) => prefix + new string(RandomNumberGenerator.GetItems<char>(Alphabet, 14));

    private static string Digits(int count) => new(RandomNumberGenerator.GetItems<char>("0123456789", count));

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex IdempotencyKeyShape();

    [GeneratedRegex("^[A-Z]{4}0[A-Z0-9]{6}$")]
    private static partial Regex IfscShape();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }
}
