using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

/// <summary>An order of the sandbox provider: PK = its id (<c>sbo_…</c>, from the idempotency key it was asked with).</summary>
public sealed record SandboxOrder : IStampedRow
{
    public const string Row = "order";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string IntentId { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public string Description { get; set; } = "";
    public string ReturnUrl { get; set; } = "";
    public string CancelUrl { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary><c>open</c>, <c>paid</c>, <c>closed</c>.</summary>
    public string Status { get; set; } = "open";

    public int Attempts { get; set; }
    public string? PaymentId { get; set; }
    public string? Method { get; set; }
    public DateTimeOffset? PaidAt { get; set; }
    public string? LastFailure { get; set; }
    public long RefundedMinor { get; set; }
}

/// <summary>A refund the sandbox made, in its order's partition: RK = <c>refund|sbr_…</c> (from the order and the idempotency key).</summary>
public sealed record SandboxRefund : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string PaymentId { get; set; } = "";
    public string Reference { get; set; } = "";
    public long AmountMinor { get; set; }
}

/// <summary>An event the sandbox sends, the way a provider's webhook body reads.</summary>
public sealed record SandboxEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("order_id")] string OrderId,
    [property: JsonPropertyName("intent_id")] string IntentId,
    [property: JsonPropertyName("payment_id")] string? PaymentId,
    [property: JsonPropertyName("amount")] long Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("method")] string? Method,
    [property: JsonPropertyName("failure_reason")] string? FailureReason,
    [property: JsonPropertyName("created_at")] long CreatedAt);

/// <summary>A signed sandbox webhook: the body and the headers a provider would send with it.</summary>
public sealed record SandboxDelivery(byte[] Body, string EventId, string Signature)
{
    public HeaderDictionary Headers => new()
    {
        [SandboxProvider.SignatureHeader] = Signature,
        [SandboxProvider.EventIdHeader] = EventId,
    };
}

/// <summary>
/// The sandbox provider: the same asynchronous contract as Razorpay and Stripe, with no money moving. An order gets a
/// hosted checkout page of this app (<c>/payments/sandbox/{orderId}</c>); paying or failing there makes the sandbox
/// send a signed event (hex HMAC-SHA256 of the body, as Razorpay signs) through the same inbound path a provider's
/// webhook takes, so de-duplication, ordering and failures behave in development as in production. Orders and
/// refunds live in table storage, keyed by the idempotency keys they were asked with.
/// </summary>
public sealed class SandboxProvider(StorageAccount storage, IOptions<JwtOptions> jwt, IConfiguration configuration, TimeProvider time)
    : IPaymentProvider, IPayoutProvider
{
    public const string ProviderName = "sandbox";
    public const string TableName = "paymentsandbox";
    public const string SignatureHeader = "X-Sandbox-Signature";
    public const string EventIdHeader = "X-Sandbox-Event-Id";
    public const string PagePath = "/payments/sandbox/";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Payments__Sandbox__WebhookSecret when set; otherwise derived from the signing key (never the key itself).
    private readonly byte[] _secret = configuration["Payments:Sandbox:WebhookSecret"] is { Length: > 0 } configured
        ? Encoding.UTF8.GetBytes(configured)
        : HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(jwt.Value.SigningKey), 32, info: "sandbox-payment-webhooks"u8.ToArray());

    public string Name => ProviderName;

    private TableClient Table => storage.Table(TableName);

    public static string OrderIdFor(string idempotencyKey) => "sbo_" + Hash(idempotencyKey)[..24];

    public async Task<ProviderCheckout> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken)
    {
        var order = new SandboxOrder
        {
            PartitionKey = OrderIdFor(request.IdempotencyKey), IntentId = request.IntentId, AmountMinor = request.AmountMinor,
            Currency = request.Currency, Description = request.Description, ReturnUrl = request.ReturnUrl, CancelUrl = request.CancelUrl,
            ExpiresAt = request.ExpiresAt,
        };
        // One key, one order: a repeat (or a retry whose first answer was lost) meets the row and answers with it.
        await Table.TryAddAsync(order, cancellationToken);
        return new ProviderCheckout(order.PartitionKey, PagePath + order.PartitionKey, request.ExpiresAt);
    }

    public Task<SandboxOrder?> FindOrderAsync(string orderId, CancellationToken cancellationToken) =>
        orderId.StartsWith("sbo_", StringComparison.Ordinal) && orderId.Length == 28
            ? Table.FindAsync<SandboxOrder>(orderId, SandboxOrder.Row, cancellationToken)
            : Task.FromResult<SandboxOrder?>(null);

    public async Task<ProviderPayment> FetchAsync(string orderId, CancellationToken cancellationToken)
    {
        var order = await FindOrderAsync(orderId, cancellationToken)
                    ?? throw new PaymentProviderException(Name, $"No order '{orderId}'.", transient: false, status: 404);
        return Payment(order);
    }

    private static ProviderPayment Payment(SandboxOrder order) => order switch
    {
        { PaymentId: { } paid } => new ProviderPayment(order.PartitionKey, ProviderPaymentState.Succeeded, paid, order.AmountMinor, order.Currency,
            order.Method, At: order.PaidAt, IntentId: order.IntentId),
        { Status: "closed" } => new ProviderPayment(order.PartitionKey, ProviderPaymentState.Expired, IntentId: order.IntentId),
        { LastFailure: { } failure } => new ProviderPayment(order.PartitionKey, ProviderPaymentState.Failed, FailureReason: failure, IntentId: order.IntentId),
        _ => new ProviderPayment(order.PartitionKey, ProviderPaymentState.Open, IntentId: order.IntentId),
    };

    public Task<ProviderPayment> CaptureAsync(string orderId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken) =>
        FetchAsync(orderId, cancellationToken);

    public async Task CancelAsync(string orderId, CancellationToken cancellationToken) =>
        await Table.TransitionAsync<SandboxOrder>(orderId, SandboxOrder.Row,
            order => order.Status == "open" ? order with { Status = "closed" } : null, cancellationToken);

    public async Task<ProviderRefund> RefundAsync(RefundRequest request, CancellationToken cancellationToken)
    {
        var orderId = OrderOfPayment(request.PaymentId);
        if (orderId.Length == 0)
            throw new PaymentProviderException(Name, $"No payment '{request.PaymentId}'.", transient: false, status: 404);
        // The refund's id names its order and its key; the refund row and the order's total are one transaction.
        var id = "sbr_" + orderId[4..] + "_" + Hash(request.IdempotencyKey)[..16];
        var refunded = await Table.ApplyAsync<SandboxOrder, SandboxRefund?>(orderId, SandboxOrder.Row, async change =>
        {
            var existing = await Table.FindAsync<SandboxRefund>(orderId, "refund|" + id);
            if (existing is not null)
                return existing;
            if (change.Current is not { } order || order.PaymentId != request.PaymentId || order.RefundedMinor + request.AmountMinor > order.AmountMinor)
                return null;
            var refund = new SandboxRefund
            {
                PartitionKey = orderId, RowKey = "refund|" + id, PaymentId = request.PaymentId, Reference = request.RefundId, AmountMinor = request.AmountMinor,
            };
            change.Write(order with { RefundedMinor = order.RefundedMinor + request.AmountMinor }).Insert(refund);
            return refund;
        }, cancellationToken);
        if (refunded.Outcome is not { } made)
            throw new PaymentProviderException(Name, $"Payment '{request.PaymentId}' cannot be refunded {request.AmountMinor}.", transient: false, status: 400);
        return new ProviderRefund(id, ProviderRefundState.Processed, made.PaymentId, made.AmountMinor, made.Reference);
    }

    public async Task<ProviderRefund> FetchRefundAsync(string providerRefundId, CancellationToken cancellationToken)
    {
        var refund = providerRefundId.Length == 45 && providerRefundId.StartsWith("sbr_", StringComparison.Ordinal)
            ? await Table.FindAsync<SandboxRefund>("sbo_" + providerRefundId[4..28], "refund|" + providerRefundId, cancellationToken)
            : null;
        if (refund is null)
            throw new PaymentProviderException(Name, $"No refund '{providerRefundId}'.", transient: false, status: 404);
        return new ProviderRefund(providerRefundId, ProviderRefundState.Processed, refund.PaymentId, refund.AmountMinor, refund.Reference);
    }

    /// <summary>
    /// The customer's answer on the sandbox checkout page: pay (with a method) or fail. The order records it, then the
    /// sandbox signs the event it makes; the caller hands the delivery to the inbound path. Null when the order is
    /// unknown; a closed order takes no payment.
    /// </summary>
    public async Task<(SandboxOrder? Order, SandboxDelivery? Delivery)> PayAsync(string orderId, bool succeed, string method, CancellationToken cancellationToken)
    {
        var order = await FindOrderAsync(orderId, cancellationToken);
        if (order is null)
            return (null, null);
        var now = time.GetUtcNow();
        var after = await Table.TransitionAsync(order, current =>
        {
            if (current.Status != "open")
                return null;
            var attempt = current.Attempts + 1;
            return succeed
                ? current with
                {
                    Status = "paid", Attempts = attempt, Method = method, PaidAt = now,
                    PaymentId = "sbpay_" + orderId[4..] + "_" + attempt.ToString(CultureInfo.InvariantCulture),
                }
                : current with { Attempts = attempt, LastFailure = "The sandbox customer chose to fail this payment (attempt " + attempt + ")." };
        }, cancellationToken) ?? order;
        if (after.Status == "closed" || (!succeed && after.Attempts == order.Attempts))
            return (after, null);
        var type = after.PaymentId is not null ? "payment.succeeded" : "payment.failed";
        return (after, Sign(new SandboxEvent("sbevt_" + Hash(orderId + "|" + type + "|" + after.Attempts)[..24], type, orderId, after.IntentId,
            after.PaymentId, after.AmountMinor, after.Currency, after.PaymentId is not null ? after.Method : null,
            after.PaymentId is null ? after.LastFailure : null, now.ToUnixTimeSeconds())));
    }

    /// <summary>Signs an event as the sandbox sends it (also what a test uses to build one).</summary>
    public SandboxDelivery Sign(SandboxEvent sandboxEvent)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(sandboxEvent, Json);
        return new SandboxDelivery(body, sandboxEvent.Id, Convert.ToHexStringLower(HMACSHA256.HashData(_secret, body)));
    }

    public InboundVerification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var signature = headers[SignatureHeader].ToString();
        var eventId = headers[EventIdHeader].ToString();
        if (signature.Length != 64)
            return InboundVerification.Refused($"The {SignatureHeader} header must be 64 hex digits.");
        if (eventId.Length == 0)
            return InboundVerification.Refused($"The {EventIdHeader} header is missing.");
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return InboundVerification.Refused($"The {SignatureHeader} header must be 64 hex digits.");
        }
        return CryptographicOperations.FixedTimeEquals(given, HMACSHA256.HashData(_secret, body))
            ? InboundVerification.Ok(eventId)
            : InboundVerification.Refused("The signature does not match the body.");
    }

    public ProviderEvent Parse(string eventId, ReadOnlySpan<byte> body)
    {
        SandboxEvent? e;
        try
        {
            e = JsonSerializer.Deserialize<SandboxEvent>(body, Json);
        }
        catch (JsonException)
        {
            e = null;
        }
        if (e is null)
            return new ProviderEvent(eventId, "unreadable", ProviderEventKind.Other);
        var at = DateTimeOffset.FromUnixTimeSeconds(e.CreatedAt);
        return e.Type switch
        {
            "payment.succeeded" => new ProviderEvent(eventId, e.Type, ProviderEventKind.Payment, new ProviderPayment(e.OrderId,
                ProviderPaymentState.Succeeded, e.PaymentId, e.Amount, e.Currency, e.Method, At: at, IntentId: e.IntentId)),
            "payment.failed" => new ProviderEvent(eventId, e.Type, ProviderEventKind.Payment, new ProviderPayment(e.OrderId,
                ProviderPaymentState.Failed, e.PaymentId, e.Amount, e.Currency, FailureReason: e.FailureReason, At: at, IntentId: e.IntentId)),
            "order.expired" => new ProviderEvent(eventId, e.Type, ProviderEventKind.Payment, new ProviderPayment(e.OrderId,
                ProviderPaymentState.Expired, IntentId: e.IntentId)),
            _ => new ProviderEvent(eventId, e.Type, ProviderEventKind.Other),
        };
    }

    /// <summary>Sandbox payouts are processed at once; the id comes from the idempotency key, so a repeat is the same payout.</summary>
    public Task<ProviderPayout> CreatePayoutAsync(PayoutRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new ProviderPayout("sbpo_" + Hash(request.IdempotencyKey)[..24], "processed", request.PayoutId, Utr: "SANDBOX" + Hash(request.IdempotencyKey)[..10].ToUpperInvariant()));

    public Task<ProviderPayout> FetchPayoutAsync(string providerPayoutId, CancellationToken cancellationToken) =>
        Task.FromResult(new ProviderPayout(providerPayoutId, "processed"));

    private static string OrderOfPayment(string paymentId) =>
        paymentId.StartsWith("sbpay_", StringComparison.Ordinal) && paymentId.IndexOf('_', 6) is var end and > 6
            ? "sbo_" + paymentId[6..end]
            : "";

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
