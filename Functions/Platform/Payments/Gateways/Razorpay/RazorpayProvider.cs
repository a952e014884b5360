using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Serverless.Platform.Payments;

/// <summary>
/// Razorpay over its REST API (<c>/v1/orders</c>, <c>/v1/payments</c>, <c>/v1/refunds</c>, RazorpayX <c>/v1/payouts</c>),
/// Basic auth with the key id and secret. Orders take no idempotency key, so an order is looked up by its receipt
/// (the intent id) before one is created; refunds and payouts carry Razorpay's idempotency headers.
/// </summary>
public sealed partial class RazorpayProvider(IHttpClientFactory clients, IOptions<RazorpayOptions> options, ILogger<RazorpayProvider> logger)
    : IPaymentProvider, IPayoutProvider
{
    public const string ProviderName = "razorpay";
    public const string SignatureHeader = "X-Razorpay-Signature";
    public const string EventIdHeader = "x-razorpay-event-id";
    public const string PayoutIdempotencyHeader = "X-Payout-Idempotency";
    public const string RefundIdempotencyHeader = "X-Refund-Idempotency";
    public const string CheckoutPathPrefix = "/payments/razorpay/checkout/";

    public const string HttpClientName = "razorpay";

    /// <summary>Razorpay's limit on receipts (orders and refunds).</summary>
    private const int MaxReceiptLength = 40;
    private const int MaxErrorLength = 500;

    public string Name => ProviderName;

    private RazorpayOptions Settings => options.Value;

    public async Task<ProviderCheckout> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken)
    {
        var receipt = Receipt(request.IntentId);
        var order = await FindOrderAsync(receipt, request.IntentId, cancellationToken)
                    ?? await SendAsync<RazorpayOrder>(HttpMethod.Post, "v1/orders",
                        new RazorpayOrderCreate(request.AmountMinor, request.Currency, receipt,
                            new Dictionary<string, string> { ["intent_id"] = request.IntentId, ["description"] = Truncate(request.Description, 256) }),
                        null, cancellationToken);
        if (order.Amount != request.AmountMinor || !string.Equals(order.Currency, request.Currency, StringComparison.OrdinalIgnoreCase))
            throw new PaymentProviderException(Name,
                $"order {order.Id} of intent {request.IntentId} is for {order.Amount} {order.Currency}, not {request.AmountMinor} {request.Currency}.",
                transient: false);
        return new ProviderCheckout(order.Id, CheckoutPathPrefix + order.Id);
    }

    public async Task<ProviderPayment> FetchAsync(string orderId, CancellationToken cancellationToken)
    {
        var order = await SendAsync<RazorpayOrder>(HttpMethod.Get, $"v1/orders/{Escape(orderId)}", null, null, cancellationToken);
        var payments = await SendAsync<RazorpayCollection<RazorpayPayment>>(HttpMethod.Get, $"v1/orders/{Escape(orderId)}/payments", null, null, cancellationToken);
        var intentId = RazorpayJson.Note(order.Notes, "intent_id");
        var best = payments.Items
            .Where(p => Rank(p.Status) > 0)
            .OrderByDescending(p => Rank(p.Status))
            .ThenByDescending(p => p.CreatedAt)
            .FirstOrDefault();
        return best is null
            ? new ProviderPayment(order.Id, ProviderPaymentState.Open, AmountMinor: order.Amount, Currency: order.Currency, IntentId: intentId)
            : ToPayment(best, order.Id, intentId ?? RazorpayJson.Note(best.Notes, "intent_id"));
    }

    public async Task<ProviderPayment> CaptureAsync(string orderId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken)
    {
        var path = $"v1/payments/{Escape(paymentId)}";
        var payment = await SendAsync<RazorpayPayment>(HttpMethod.Get, path, null, null, cancellationToken);
        if (payment.OrderId is not null && payment.OrderId != orderId)
            throw new PaymentProviderException(Name, $"payment {paymentId} belongs to order {payment.OrderId}, not {orderId}.", transient: false);
        if (payment.Status != "authorized")
            return ToPayment(payment, orderId, null);
        try
        {
            payment = await SendAsync<RazorpayPayment>(HttpMethod.Post, path + "/capture", new RazorpayCapture(amountMinor, currency), null, cancellationToken);
        }
        catch (PaymentProviderException ex) when (!ex.Transient)
        {
            // Captured by an earlier attempt whose answer was lost: Razorpay refuses the second capture.
            payment = await SendAsync<RazorpayPayment>(HttpMethod.Get, path, null, null, cancellationToken);
            if (payment.Status is not ("captured" or "refunded"))
                throw;
        }
        return ToPayment(payment, orderId, null);
    }

    /// <summary>Razorpay orders cannot be closed; an intent that has ended refunds whatever still arrives for it.</summary>
    public Task CancelAsync(string orderId, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<ProviderRefund> RefundAsync(RefundRequest request, CancellationToken cancellationToken)
    {
        var body = new RazorpayRefundCreate(request.AmountMinor, Receipt(request.RefundId), "normal",
            new Dictionary<string, string> { ["refund_id"] = request.RefundId, ["reason"] = Truncate(request.Reason, 256) });
        var refund = await SendAsync<RazorpayRefund>(HttpMethod.Post, $"v1/payments/{Escape(request.PaymentId)}/refund", body,
            (RefundIdempotencyHeader, HeaderKey(request.IdempotencyKey)), cancellationToken);
        return ToRefund(refund);
    }

    public async Task<ProviderRefund> FetchRefundAsync(string providerRefundId, CancellationToken cancellationToken) =>
        ToRefund(await SendAsync<RazorpayRefund>(HttpMethod.Get, $"v1/refunds/{Escape(providerRefundId)}", null, null, cancellationToken));

    public async Task<ProviderPayout> CreatePayoutAsync(PayoutRequest request, CancellationToken cancellationToken)
    {
        var source = Settings.PayoutAccountNumber;
        if (string.IsNullOrWhiteSpace(source))
            throw new PaymentProviderException(Name, "payouts need Payments__Razorpay__PayoutAccountNumber (the RazorpayX account they are paid from).",
                transient: false);
        string[] hidden = [source, request.Account.AccountNumber];
        // Razorpay answers an existing contact or fund account when asked again with the same details.
        var contact = await SendAsync<RazorpayContact>(HttpMethod.Post, "v1/contacts",
            new RazorpayContactCreate(request.ContactName, request.ContactEmail, "vendor", Truncate(request.PayoutId, MaxReceiptLength),
                new Dictionary<string, string> { ["payout_id"] = request.PayoutId }),
            null, cancellationToken, hidden);
        var fundAccount = await SendAsync<RazorpayFundAccount>(HttpMethod.Post, "v1/fund_accounts",
            new RazorpayFundAccountCreate(contact.Id, "bank_account",
                new RazorpayBankAccount(request.Account.HolderName, request.Account.Ifsc, request.Account.AccountNumber)),
            null, cancellationToken, hidden);
        var payout = await SendAsync<RazorpayPayout>(HttpMethod.Post, "v1/payouts",
            new RazorpayPayoutCreate(source, fundAccount.Id, request.AmountMinor, request.Currency, request.Mode, request.Purpose,
                QueueIfLowBalance: true, Receipt(request.PayoutId), Narration(request.Narration),
                new Dictionary<string, string> { ["payout_id"] = request.PayoutId }),
            (PayoutIdempotencyHeader, HeaderKey(request.IdempotencyKey)), cancellationToken, hidden);
        return ToPayout(payout);
    }

    public async Task<ProviderPayout> FetchPayoutAsync(string providerPayoutId, CancellationToken cancellationToken) =>
        ToPayout(await SendAsync<RazorpayPayout>(HttpMethod.Get, $"v1/payouts/{Escape(providerPayoutId)}", null, null, cancellationToken));

    public InboundVerification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var secret = Settings.WebhookSecret;
        if (string.IsNullOrEmpty(secret))
            return InboundVerification.Refused("Razorpay webhooks are not accepted: no webhook secret is configured.");
        var signature = headers[SignatureHeader].ToString();
        if (signature.Length == 0)
            return InboundVerification.Refused($"{SignatureHeader} is missing.");
        if (!RazorpaySignature.TryDecode(signature, out var given))
            return InboundVerification.Refused($"{SignatureHeader} is not a hex HMAC-SHA256 (64 hex characters).");
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
            return InboundVerification.Refused($"{SignatureHeader} does not match the body (another webhook secret, or an altered body).");
        var eventId = headers[EventIdHeader].ToString();
        return eventId.Length == 0
            ? InboundVerification.Refused($"{EventIdHeader} is missing: the event cannot be de-duplicated.")
            : InboundVerification.Ok(eventId);
    }

    public ProviderEvent Parse(string eventId, ReadOnlySpan<byte> body) => RazorpayEvents.Parse(eventId, body);

    internal static ProviderPayment ToPayment(RazorpayPayment payment, string orderId, string? intentId) => new(
        payment.OrderId ?? orderId,
        payment.Status switch
        {
            "captured" or "refunded" => ProviderPaymentState.Succeeded,
            "authorized" => ProviderPaymentState.Authorized,
            "failed" => ProviderPaymentState.Failed,
            _ => ProviderPaymentState.Open,
        },
        payment.Id,
        payment.Amount,
        payment.Currency,
        payment.Method,
        payment.Status == "failed" ? payment.ErrorDescription ?? payment.ErrorCode : null,
        RazorpayJson.Time(payment.CreatedAt),
        intentId ?? RazorpayJson.Note(payment.Notes, "intent_id"));

    internal static ProviderRefund ToRefund(RazorpayRefund refund) => new(
        refund.Id,
        refund.Status switch
        {
            "processed" => ProviderRefundState.Processed,
            "failed" => ProviderRefundState.Failed,
            _ => ProviderRefundState.Pending,
        },
        refund.PaymentId,
        refund.Amount,
        RazorpayJson.Note(refund.Notes, "refund_id"),
        refund.Status == "failed" ? RazorpayJson.Note(refund.Notes, "failure_reason") ?? "Razorpay could not process the refund." : null);

    internal static ProviderPayout ToPayout(RazorpayPayout payout) => new(
        payout.Id,
        payout.Status,
        RazorpayJson.Note(payout.Notes, "payout_id") ?? payout.ReferenceId,
        payout.Status is "failed" or "reversed" or "rejected" or "cancelled"
            ? payout.StatusDetails?.Description ?? payout.FailureReason ?? payout.StatusDetails?.Reason
            : null,
        payout.Utr);

    /// <summary>Captured beats authorised beats failed; a payment still being created does not count.</summary>
    private static int Rank(string status) => status switch
    {
        "captured" or "refunded" => 3,
        "authorized" => 2,
        "failed" => 1,
        _ => 0,
    };

    private async Task<RazorpayOrder?> FindOrderAsync(string receipt, string intentId, CancellationToken cancellationToken)
    {
        var found = await SendAsync<RazorpayCollection<RazorpayOrder>>(HttpMethod.Get, "v1/orders?receipt=" + Uri.EscapeDataString(receipt),
            null, null, cancellationToken);
        return found.Items
            .Where(o => o.Receipt == receipt && (RazorpayJson.Note(o.Notes, "intent_id") is not { } id || id == intentId))
            .OrderBy(o => o.CreatedAt)
            .FirstOrDefault();
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, (string Name, string Value)? idempotency,
        CancellationToken cancellationToken, IReadOnlyList<string>? hidden = null)
    {
        var what = $"{method} /{path.Split('?')[0]}";
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), RazorpayJson.Options), Encoding.UTF8, "application/json");
        if (idempotency is { } header)
            request.Headers.TryAddWithoutValidation(header.Name, header.Value);

        HttpResponseMessage response;
        try
        {
            // A client per call from the factory: its handlers rotate, so a provider held for the app's life follows DNS changes.
            response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or OperationCanceledException)
        {
            throw Failure(what, $"no answer within {Settings.Timeout.TotalSeconds:0.###} s.", transient: true, null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw Failure(what, $"Razorpay could not be reached ({ex.HttpRequestError}).", transient: true, null, ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            string text;
            try
            {
                text = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw Failure(what, $"the answer was cut off ({ex.HttpRequestError}).", transient: true, status, ex);
            }
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    return JsonSerializer.Deserialize<T>(text, RazorpayJson.Options) ?? throw new JsonException("null");
                }
                catch (JsonException ex)
                {
                    throw Failure(what, $"{status} with a body that is not a Razorpay {typeof(T).Name["Razorpay".Length..].ToLowerInvariant()}.",
                        transient: true, status, ex);
                }
            }
            var transient = status is 408 or 429 or >= 500 || (status == 409 && idempotency is not null);
            throw Failure(what, Describe(status, text, hidden), transient, status, null);
        }
    }

    private PaymentProviderException Failure(string what, string message, bool transient, int? status, Exception? inner)
    {
        logger.LogWarning("Razorpay {Call} failed ({Status}, transient: {Transient})", what, status, transient);
        return new PaymentProviderException(Name, $"{what}: {message}", transient, status, inner);
    }

    /// <summary>"400 BAD_REQUEST_ERROR: The amount must be at least INR 1.00" from Razorpay's <c>{"error": {code, description}}</c>.</summary>
    private static string Describe(int status, string body, IReadOnlyList<string>? hidden)
    {
        RazorpayError? error = null;
        try
        {
            error = JsonSerializer.Deserialize<RazorpayErrorBody>(body, RazorpayJson.Options)?.Error;
        }
        catch (JsonException)
        {
        }
        // Razorpay's description, never the raw body: a proxy's page could echo the request.
        var description = error is null
            ? $"{status} {(HttpStatusCode)status}"
            : $"{status} {error.Code ?? ((HttpStatusCode)status).ToString()}: {error.Description}";
        foreach (var secret in hidden ?? [])
            if (secret.Length > 0)
                description = description.Replace(secret, "****", StringComparison.Ordinal);
        return Truncate(description, MaxErrorLength);
    }

    /// <summary>Our id as a receipt (Razorpay allows 40 characters): itself, or a digest of a longer one.</summary>
    internal static string Receipt(string id) =>
        id.Length <= MaxReceiptLength ? id : "h_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..(MaxReceiptLength - 2)];

    /// <summary>
    /// Razorpay's idempotency keys are 10 (refunds) or 4 (payouts) to 36 characters of letters, digits, '-' and '_':
    /// our key when it fits, otherwise a digest of it (the same key always maps to the same header).
    /// </summary>
    internal static string HeaderKey(string key) =>
        IdempotencyKeyShape().IsMatch(key) ? key : "k_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..34];

    /// <summary>Razorpay's narration: at most 30 letters, digits and spaces.</summary>
    private static string Narration(string text)
    {
        var kept = new string(text.Where(c => char.IsAsciiLetterOrDigit(c) || c == ' ').ToArray()).Trim();
        return kept.Length <= 30 ? kept : kept[..30].TrimEnd();
    }

    private static string Escape(string id) => Uri.EscapeDataString(id);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    [GeneratedRegex("^[A-Za-z0-9_-]{10,36}$")]
    private static partial Regex IdempotencyKeyShape();
}
