using Microsoft.AspNetCore.Http;

namespace Serverless.Platform.Payments;

/// <summary>
/// What the platform asks a provider to open for one payment intent: the customer pays <see cref="AmountMinor"/>
/// of <see cref="Currency"/>. <see cref="IdempotencyKey"/> is derived from the intent: asking twice with the same
/// key is one provider order (providers without idempotency keys look their order up by <see cref="IntentId"/>,
/// which they store as the order's receipt or metadata).
/// </summary>
public sealed record CheckoutRequest(
    string IntentId,
    string IdempotencyKey,
    long AmountMinor,
    string Currency,
    string Description,
    string ReturnUrl,
    string CancelUrl,
    DateTimeOffset ExpiresAt,
    string? CustomerEmail = null);

/// <summary>
/// The provider's order (Razorpay <c>order_…</c>, Stripe Checkout Session <c>cs_…</c>, sandbox <c>sbo_…</c>) and
/// where the customer pays it: an absolute URL of the provider's hosted page, or a path of this app
/// (<c>/payments/…</c>) for providers whose checkout runs inside a page we serve.
/// </summary>
public sealed record ProviderCheckout(string OrderId, string CheckoutUrl, DateTimeOffset? ExpiresAt = null);

/// <summary>What a provider says about the payment of one of its orders.</summary>
public enum ProviderPaymentState
{
    /// <summary>Nothing paid yet; the customer may still pay.</summary>
    Open,

    /// <summary>Authorised but not captured (Razorpay with manual capture): the platform captures it.</summary>
    Authorized,

    Succeeded,

    /// <summary>An attempt failed. The order may still be paid by a later attempt.</summary>
    Failed,

    /// <summary>The order or session can no longer be paid.</summary>
    Expired,
}

/// <summary>
/// A payment's state as a webhook or a fetch reports it. <see cref="OrderId"/> is the provider order it belongs to;
/// <see cref="IntentId"/> is ours when the provider echoes it back (receipt, metadata, client reference).
/// <see cref="OrderClosed"/>: a failure that also ends the order (a Stripe session whose delayed payment failed), so a
/// new one must be opened for the customer to try again.
/// </summary>
public sealed record ProviderPayment(
    string OrderId,
    ProviderPaymentState State,
    string? PaymentId = null,
    long? AmountMinor = null,
    string? Currency = null,
    string? Method = null,
    string? FailureReason = null,
    DateTimeOffset? At = null,
    string? IntentId = null,
    bool OrderClosed = false);

public sealed record RefundRequest(string RefundId, string IdempotencyKey, string PaymentId, long AmountMinor, string Currency, string Reason);

public enum ProviderRefundState
{
    Pending,
    Processed,
    Failed,
}

/// <summary>A refund as the provider reports it; <see cref="RefundId"/> is ours when the provider echoes it (notes, metadata).</summary>
public sealed record ProviderRefund(
    string ProviderRefundId,
    ProviderRefundState State,
    string? PaymentId = null,
    long? AmountMinor = null,
    string? RefundId = null,
    string? FailureReason = null);

/// <summary>A bank account a payout goes to. The account number is never logged.</summary>
public sealed record PayoutBankAccount(string HolderName, string Ifsc, string AccountNumber);

public sealed record PayoutRequest(
    string PayoutId,
    string IdempotencyKey,
    long AmountMinor,
    string Currency,
    PayoutBankAccount Account,
    string ContactName,
    string? ContactEmail,
    string Mode,
    string Purpose,
    string Narration);

/// <summary>Razorpay's payout statuses: <c>pending, processing, processed, failed, reversed</c> (and <c>queued</c>, <c>cancelled</c>).</summary>
public sealed record ProviderPayout(string ProviderPayoutId, string Status, string? PayoutId = null, string? FailureReason = null, string? Utr = null);

public enum ProviderEventKind
{
    Payment,
    Refund,
    Payout,

    /// <summary>Verified, stored, and of no interest (another event type).</summary>
    Other,
}

/// <summary>A verified inbound event, reduced to what the platform acts on.</summary>
public sealed record ProviderEvent(
    string EventId,
    string Type,
    ProviderEventKind Kind,
    ProviderPayment? Payment = null,
    ProviderRefund? Refund = null,
    ProviderPayout? Payout = null);

/// <summary>The answer of <see cref="IPaymentProvider.Verify"/>: the provider's event id when the signature holds.</summary>
public sealed record InboundVerification(bool Valid, string? EventId, string? Problem)
{
    public static InboundVerification Ok(string eventId) => new(true, eventId, null);

    public static InboundVerification Refused(string problem) => new(false, null, problem);
}

/// <summary>
/// A payment provider behind the platform's intents. Every call is safe to repeat: creating a checkout with the
/// same idempotency key answers the same order, a refund with the same key is one refund. Failures the caller may
/// retry throw <see cref="PaymentProviderException"/> with <c>Transient</c> set; a provider's refusal (bad request,
/// unknown id) throws it with <c>Transient</c> false.
/// </summary>
public interface IPaymentProvider
{
    /// <summary><c>sandbox</c>, <c>razorpay</c>, <c>stripe</c>: also the last segment of its webhook path.</summary>
    string Name { get; }

    Task<ProviderCheckout> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken);

    /// <summary>The newest state of a payment of this order (the best one: a success beats a failure).</summary>
    Task<ProviderPayment> FetchAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>Captures an authorised payment (providers that capture automatically answer its current state).</summary>
    Task<ProviderPayment> CaptureAsync(string orderId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken);

    /// <summary>Ends the order so it can no longer be paid, where the provider allows it (Stripe expires the session; Razorpay orders cannot be closed).</summary>
    Task CancelAsync(string orderId, CancellationToken cancellationToken);

    Task<ProviderRefund> RefundAsync(RefundRequest request, CancellationToken cancellationToken);

    Task<ProviderRefund> FetchRefundAsync(string providerRefundId, CancellationToken cancellationToken);

    /// <summary>Checks the signature of a webhook's raw body before anything parses it; constant-time comparison.</summary>
    InboundVerification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body, DateTimeOffset now);

    /// <summary>Reads a verified, stored event.</summary>
    ProviderEvent Parse(string eventId, ReadOnlySpan<byte> body);
}

/// <summary>A provider that pays money out to bank accounts (Razorpay payouts).</summary>
public interface IPayoutProvider
{
    string Name { get; }

    Task<ProviderPayout> CreatePayoutAsync(PayoutRequest request, CancellationToken cancellationToken);

    Task<ProviderPayout> FetchPayoutAsync(string providerPayoutId, CancellationToken cancellationToken);
}

/// <summary>A provider call failed. <see cref="Transient"/>: a timeout, a dropped connection, 429 or 5xx (try again later).</summary>
public sealed class PaymentProviderException(string provider, string message, bool transient, int? status = null, Exception? inner = null)
    : Exception($"{provider}: {message}", inner)
{
    public string Provider { get; } = provider;

    public bool Transient { get; } = transient;

    public int? Status { get; } = status;
}
