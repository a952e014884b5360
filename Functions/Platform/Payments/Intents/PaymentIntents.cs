using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

/// <summary>What a surface asks to be paid: its own reference, the amount, and where the customer goes afterwards.</summary>
public sealed record IntentRequest(
    string Surface,
    string Reference,
    long AmountMinor,
    string Currency,
    string Description,
    string ReturnUrl,
    string CancelUrl,
    DateTimeOffset ExpiresAt,
    string? CustomerEmail = null,
    string? Provider = null);

/// <summary>The intent as it stands after a checkout request, and where to send the customer while it is open.</summary>
public sealed record IntentCheckout(PaymentIntent Intent, string? CheckoutUrl);

/// <summary>
/// What a surface hears about its intent: one callback per move (keyed <see cref="EventKey"/>; a repeat delivery of
/// the same key is the same move). <see cref="Status"/> is the status moved to.
/// </summary>
public sealed record PaymentIntentEvent(
    [property: JsonPropertyName("event_key")] string EventKey,
    [property: JsonPropertyName("intent_id")] string IntentId,
    [property: JsonPropertyName("surface")] string Surface,
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("amount_minor")] long AmountMinor,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("payment_id")] string? PaymentId,
    [property: JsonPropertyName("payment_method")] string? PaymentMethod,
    [property: JsonPropertyName("paid_at")] DateTimeOffset? PaidAt,
    [property: JsonPropertyName("refunded_minor")] long RefundedMinor,
    [property: JsonPropertyName("failure_reason")] string? FailureReason);

/// <summary>
/// A surface's side of its intents. Called once per move of each of its intents (through the outbox: at least
/// once, de-duplicated by the event key, so the handler must be idempotent: it applies a move through its own
/// transition). Answering false to a <c>succeeded</c> refuses the payment (the thing it paid for can no longer be
/// had): the platform refunds it in full and records why.
/// </summary>
public interface IPaymentIntentHandler
{
    string Surface { get; }

    Task<bool> OnChangedAsync(PaymentIntentEvent change, CancellationToken cancellationToken);
}

public enum RefundOutcome
{
    Requested,
    NotFound,
    NotPaid,
    ExceedsRefundable,
    KeyReused,
}

/// <summary>The outcome of a refund request and the refund row as stored.</summary>
public sealed record RefundResult(RefundOutcome Outcome, IntentRefund? Refund, PaymentIntent? Intent);

/// <summary>
/// Payment intents: the asynchronous payment contract every surface uses. The intent row is written before any
/// provider call; provider orders and refunds carry idempotency keys derived from it; every confirmation source (the
/// provider's webhook, a fetch, the reconciliation deadline, Razorpay's client-side signature) goes through
/// <see cref="ApplyAsync"/>, which is idempotent and order-independent; every move reaches the surface through the
/// outbox as one <see cref="PaymentIntentEvent"/>.
/// </summary>
public sealed class PaymentIntents(
    StorageAccount storage,
    Transitions transitions,
    PaymentProviders providers,
    DeadlineScheduler deadlines,
    TimeProvider time,
    ILogger<PaymentIntents> logger)
{
    public const string TableName = "paymentintents";
    public const string Channel = "payment-intent";
    public const string ReconcileDeadline = "payment-intent";
    public const string RefundDeadline = "payment-refund";

    /// <summary>How long one request may hold the right to ask the provider for an order before another may.</summary>
    public static readonly TimeSpan OpeningLease = TimeSpan.FromSeconds(30);

    /// <summary>The first provider fetch of an intent left pending.</summary>
    public static readonly TimeSpan FirstReconcile = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan LongestReconcileGap = TimeSpan.FromHours(6);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private TableClient Table => storage.Table(TableName);

    public bool Available => providers.Default is not null;

    /// <summary>The name of the provider new intents use (null when none is configured).</summary>
    public string? DefaultProvider => providers.Default?.Name;

    public Task<PaymentIntent?> FindAsync(string intentId, CancellationToken cancellationToken) =>
        PaymentIntent.LooksLikeId(intentId)
            ? Table.FindAsync<PaymentIntent>(intentId, PaymentIntent.Row, cancellationToken)
            : Task.FromResult<PaymentIntent?>(null);

    public Task<PaymentIntent?> FindAsync(string surface, string reference, CancellationToken cancellationToken) =>
        FindAsync(PaymentIntent.IdFor(surface, reference), cancellationToken);

    /// <summary>The intent an order of <paramref name="provider"/> belongs to, or null.</summary>
    public async Task<PaymentIntent?> FindByOrderAsync(string provider, string orderId, CancellationToken cancellationToken)
    {
        var index = await Table.FindAsync<IntentOrderIndex>(IntentOrderIndex.PartitionFor(provider, orderId), "", cancellationToken);
        return index is null ? null : await FindAsync(index.IntentId, cancellationToken);
    }

    /// <summary>
    /// Opens (or joins) the payment of <paramref name="request"/>: the intent row first, then, by one request at a
    /// time, the provider's order under the intent's idempotency key; concurrent and repeated calls share both.
    /// The answer carries the checkout URL while the intent is open, and the intent as it stands otherwise (paid,
    /// expired, cancelled). A different amount or currency for the same reference is refused
    /// (<see cref="ArgumentException"/>): a reference is paid once, at one price.
    /// </summary>
    public async Task<IntentCheckout> CheckoutAsync(IntentRequest request, CancellationToken cancellationToken)
    {
        var provider = providers.Resolve(request.Provider);
        var id = PaymentIntent.IdFor(request.Surface, request.Reference);
        var waited = TimeSpan.Zero;
        while (true)
        {
            var step = await transitions.ApplyAsync<PaymentIntent, OpenStep>(Table, id, PaymentIntent.Row, change =>
            {
                var now = time.GetUtcNow();
                if (change.Current is not { } intent)
                {
                    if (now >= request.ExpiresAt)
                        return OpenStep.Closed;
                    change.Write(New(id, request, provider.Name, now) with { OpeningBy = change.OperationId, OpeningUntil = now + OpeningLease });
                    return OpenStep.Open;
                }
                if (intent.AmountMinor != request.AmountMinor || intent.Currency != request.Currency)
                    return OpenStep.Mismatch;
                if (!IntentStatus.NeedsOrder(intent))
                    return OpenStep.Done;
                if (now >= intent.ExpiresAt)
                {
                    var expired = intent.Moved(IntentStatus.Expired, now) with { OpeningBy = null, OpeningUntil = null };
                    change.Write(expired).Publish(Event(expired, intent.Status));
                    return OpenStep.Done;
                }
                if (intent.OpeningBy is { } holder && holder != change.OperationId && intent.OpeningUntil > now)
                    return OpenStep.Wait;
                // The order about to be made is the configured provider's, whichever one an earlier order was made with.
                change.Write(intent with { Provider = provider.Name, OpeningBy = change.OperationId, OpeningUntil = now + OpeningLease });
                return OpenStep.Open;
            }, cancellationToken);

            switch (step.Outcome)
            {
                case OpenStep.Mismatch:
                    throw new ArgumentException($"The payment of '{request.Reference}' was opened for a different amount or currency.");
                case OpenStep.Closed:
                    return new IntentCheckout(step.Row ?? New(id, request, provider.Name, time.GetUtcNow()) with { Status = IntentStatus.Expired }, null);
                case OpenStep.Done:
                    return new IntentCheckout(step.Row!, IntentStatus.IsOpen(step.Row!.Status) ? step.Row.CheckoutUrl : null);
                case OpenStep.Open:
                    return await OpenProviderOrderAsync(step.Row!, provider, cancellationToken);
                default:
                    // Another request is asking the provider right now: its order will be ours.
                    if (waited >= OpeningLease)
                        throw new ConcurrencyConflictException($"The payment of '{request.Reference}' is being set up; try again.");
                    var pause = TimeSpan.FromMilliseconds(Random.Shared.Next(40, 120));
                    await Task.Delay(pause, cancellationToken);
                    waited += pause;
                    break;
            }
        }
    }

    private enum OpenStep
    {
        Open,
        Wait,
        Done,
        Closed,
        Mismatch,
    }

    private static PaymentIntent New(string id, IntentRequest request, string provider, DateTimeOffset now) => new()
    {
        PartitionKey = id,
        Id = id,
        Surface = request.Surface,
        Reference = request.Reference,
        Provider = provider,
        AmountMinor = request.AmountMinor,
        Currency = request.Currency,
        Description = request.Description,
        ReturnUrl = request.ReturnUrl,
        CancelUrl = request.CancelUrl,
        CustomerEmail = request.CustomerEmail,
        ExpiresAt = request.ExpiresAt,
        Status = IntentStatus.Created,
        CreatedAt = now,
        UpdatedAt = now,
    };

    private async Task<IntentCheckout> OpenProviderOrderAsync(PaymentIntent opening, IPaymentProvider provider, CancellationToken cancellationToken)
    {
        ProviderCheckout checkout;
        try
        {
            checkout = await provider.CreateCheckoutAsync(new CheckoutRequest(opening.Id, opening.CheckoutKey, opening.AmountMinor,
                opening.Currency, opening.Description, opening.ReturnUrl, opening.CancelUrl, opening.ExpiresAt, opening.CustomerEmail), cancellationToken);
        }
        catch
        {
            // Let the next click ask at once (under the same key: a provider that made the order answers with it).
            await Table.TransitionAsync<PaymentIntent>(opening.Id, PaymentIntent.Row,
                i => i.OpeningBy == opening.OpeningBy ? i with { OpeningBy = null, OpeningUntil = null } : null, CancellationToken.None);
            throw;
        }

        // The index first: an event about this order may arrive as soon as the customer sees it.
        await Table.UpsertEntityAsync(new IntentOrderIndex
        {
            PartitionKey = IntentOrderIndex.PartitionFor(provider.Name, checkout.OrderId), RowKey = "", IntentId = opening.Id,
        }, TableUpdateMode.Replace, cancellationToken);

        // From the row this request wrote (its ETag): no read unless someone wrote it since.
        var opened = await transitions.ApplyAsync<PaymentIntent, bool>(Table, opening, change =>
        {
            if (change.Current is not { } intent || !IntentStatus.NeedsOrder(intent) || intent.CheckoutAttempt != opening.CheckoutAttempt)
                return false;
            var pending = intent.Moved(IntentStatus.Pending, time.GetUtcNow()) with
            {
                ProviderOrderId = checkout.OrderId, CheckoutUrl = checkout.CheckoutUrl, OpeningBy = null, OpeningUntil = null,
            };
            change.Write(pending).Publish(Event(pending, intent.Status));
            return true;
        }, cancellationToken);

        var intent = opened.Row!;
        if (opened.Outcome)
            await deadlines.ScheduleAsync(ReconcileDeadline, intent.Id, Min(time.GetUtcNow() + FirstReconcile, intent.ExpiresAt), cancellationToken);
        else if (intent.Status is IntentStatus.Cancelled or IntentStatus.Expired && intent.ProviderOrderId is null)
            // Closed while we asked: the order we made must not stay payable.
            await TryCancelAtProviderAsync(provider, checkout.OrderId);
        return new IntentCheckout(intent, IntentStatus.IsOpen(intent.Status) ? intent.CheckoutUrl : null);
    }

    /// <summary>
    /// Applies what a provider says about a payment of this intent, from any source, in any order, any number of
    /// times. A success moves an open intent to <c>succeeded</c>; a success for a closed intent, or a second payment
    /// of a paid one, is recorded and refunded; a failure moves an open intent to <c>failed</c> (a later success still
    /// wins); an authorised payment is captured first.
    /// </summary>
    public async Task<PaymentIntent?> ApplyAsync(string intentId, ProviderPayment payment, CancellationToken cancellationToken)
    {
        var read = await FindAsync(intentId, cancellationToken);
        if (read is null)
            return null;
        if (payment.State == ProviderPaymentState.Authorized && payment.PaymentId is { } authorized)
        {
            if (!IntentStatus.IsOpen(read.Status))
            {
                // Not captured, an authorisation lapses and the customer keeps the money; nothing to refund.
                logger.LogWarning("Payment {Payment} was authorised for {Intent}, which is {Status}: it is not captured", authorized, read.Id, read.Status);
                return read;
            }
            payment = await providers.Resolve(read.Provider).CaptureAsync(payment.OrderId, authorized, read.AmountMinor, read.Currency, cancellationToken);
            if (payment.State == ProviderPaymentState.Authorized)
                return read;
        }
        if (payment.State == ProviderPaymentState.Open)
            return read;

        var applied = await transitions.ApplyAsync<PaymentIntent, IntentRefund?>(Table, read.PartitionKey, read.RowKey, read,
            async change => change.Current is { } intent ? await DecideAsync(change, intent, payment) : null, cancellationToken);
        if (applied.Outcome is { } stray)
            await ExecuteRefundAsync(applied.Row!, stray, cancellationToken);
        return applied.Row;
    }

    private async ValueTask<IntentRefund?> DecideAsync(Change<PaymentIntent> change, PaymentIntent intent, ProviderPayment payment)
    {
        var now = time.GetUtcNow();
        switch (payment.State)
        {
            case ProviderPaymentState.Succeeded when payment.PaymentId is { } paymentId:
                if (paymentId == intent.PaymentId || paymentId == intent.StrayPaymentId)
                    return null;
                var matches = (payment.AmountMinor ?? intent.AmountMinor) == intent.AmountMinor
                              && string.Equals(payment.Currency ?? intent.Currency, intent.Currency, StringComparison.OrdinalIgnoreCase);
                if (IntentStatus.IsOpen(intent.Status) && matches)
                {
                    var paid = intent.Moved(IntentStatus.Succeeded, now) with
                    {
                        PaymentId = paymentId, PaymentMethod = payment.Method, PaidAt = payment.At ?? now, FailureReason = null,
                        OpeningBy = null, OpeningUntil = null,
                    };
                    change.Write(paid).Publish(Event(paid, intent.Status));
                    return null;
                }
                // Closed, already paid by another payment, or not the amount asked: the money goes back.
                var key = "stray:" + paymentId;
                var existing = await Table.FindAsync<IntentRefund>(intent.PartitionKey, IntentRefund.RowKeyFor(key));
                if (existing is not null)
                    return existing.Status == RefundStatus.Requested ? existing : null;
                var reason = !matches ? "amount_mismatch" : IntentStatus.IsPaid(intent.Status) ? "duplicate_payment" : "late_payment";
                var refund = NewRefund(intent, key, paymentId, payment.AmountMinor ?? intent.AmountMinor, reason, stray: true, now);
                change.Write(intent with { StrayPaymentId = intent.StrayPaymentId ?? paymentId, UpdatedAt = now }).Insert(refund);
                logger.LogWarning("Payment {Payment} for intent {Intent} ({Status}) is refunded: {Reason}", paymentId, intent.Id, intent.Status, reason);
                return refund;

            case ProviderPaymentState.Failed when IntentStatus.IsOpen(intent.Status):
                if (intent.Status == IntentStatus.Created && intent.ProviderOrderId is null)
                    return null;
                var failed = intent.Status == IntentStatus.Failed
                    ? intent with { FailureReason = payment.FailureReason ?? intent.FailureReason, UpdatedAt = now }
                    : intent.Moved(IntentStatus.Failed, now) with { FailureReason = payment.FailureReason ?? "payment_failed" };
                if (payment.OrderClosed && payment.OrderId == intent.ProviderOrderId)
                    failed = failed with { ProviderOrderId = null, CheckoutUrl = null, CheckoutAttempt = intent.CheckoutAttempt + 1 };
                change.Write(failed);
                if (failed.Status != intent.Status)
                    change.Publish(Event(failed, intent.Status));
                return null;

            case ProviderPaymentState.Expired when IntentStatus.IsOpen(intent.Status) && intent.ProviderOrderId == payment.OrderId:
                // The provider's checkout ended. Before the surface's deadline a new one may be opened; after it, the intent is over.
                var next = now < intent.ExpiresAt
                    ? intent.Moved(IntentStatus.Created, now) with { CheckoutAttempt = intent.CheckoutAttempt + 1, ProviderOrderId = null, CheckoutUrl = null }
                    : intent.Moved(IntentStatus.Expired, now);
                change.Write(next).Publish(Event(next, intent.Status));
                return null;

            default:
                return null;
        }
    }

    /// <summary>
    /// Closes an open intent because the surface no longer wants it paid (<c>cancelled</c>) or its time is over
    /// (<c>expired</c>), then tells the provider to stop taking payments for its order where it can. A payment that
    /// still arrives is refunded. Answers the intent as it stands (null when there is none).
    /// </summary>
    public async Task<PaymentIntent?> CloseAsync(string surface, string reference, string status, CancellationToken cancellationToken)
    {
        if (status is not (IntentStatus.Cancelled or IntentStatus.Expired))
            throw new ArgumentOutOfRangeException(nameof(status));
        var id = PaymentIntent.IdFor(surface, reference);
        var closed = await transitions.ApplyAsync<PaymentIntent, bool>(Table, id, PaymentIntent.Row, change =>
        {
            if (change.Current is not { } intent || !IntentStatus.IsOpen(intent.Status))
                return false;
            var next = intent.Moved(status, time.GetUtcNow()) with { OpeningBy = null, OpeningUntil = null };
            change.Write(next).Publish(Event(next, intent.Status));
            return true;
        }, cancellationToken);
        if (closed.Outcome && closed.Row?.ProviderOrderId is { } orderId)
            await TryCancelAtProviderAsync(providers.Resolve(closed.Row.Provider), orderId);
        return closed.Row;
    }

    /// <summary>
    /// The surface's thing can no longer be had (its order was cancelled or expired): closes the intent if it is open,
    /// and if a payment already succeeded for it (its callback not yet applied, or lost), refunds it in full. The
    /// refund's key is the one a refused callback uses, so however the two meet, the payment is refunded once. Once
    /// closed, the provider is asked once more: a payment that got through before the close, its webhook lost, is
    /// refunded as a late payment (or, when the provider does not answer, found by the reconciliation deadline).
    /// </summary>
    public async Task<PaymentIntent?> AbandonAsync(string surface, string reference, string status, CancellationToken cancellationToken)
    {
        var intent = await CloseAsync(surface, reference, status, cancellationToken);
        if (intent is not null && MayHoldLatePayment(intent))
            intent = await LookAfterCloseAsync(intent, cancellationToken);
        if (intent is { Status: IntentStatus.Succeeded or IntentStatus.PartiallyRefunded, PaymentId: { } paymentId } && intent.Refundable > 0)
        {
            logger.LogWarning("Intent {Intent} was paid ({Payment}) for {Surface} '{Reference}', which is {Status}: refunding it", intent.Id, paymentId,
                surface, reference, status);
            return (await RefundAsync(intent.Id, RefusedKey(paymentId), null, "refused_by_" + surface, cancellationToken)).Intent ?? intent;
        }
        return intent;
    }

    /// <summary>The refund key of a payment its surface does not want.</summary>
    internal static string RefusedKey(string? paymentId) => "refused:" + paymentId;

    /// <summary>
    /// Asks the provider for the newest state of an open intent's payment and applies it (a surface's "fetch newest
    /// status", and the reconciliation deadline). Past its deadline, an intent still unpaid is closed at the
    /// provider and expired.
    /// </summary>
    public async Task<PaymentIntent?> RefreshAsync(string intentId, CancellationToken cancellationToken)
    {
        var intent = await FindAsync(intentId, cancellationToken);
        if (intent is null || !IntentStatus.IsOpen(intent.Status))
            return intent;
        var provider = providers.Resolve(intent.Provider);
        if (intent.ProviderOrderId is { } orderId)
        {
            intent = await ApplyAsync(intent.Id, await provider.FetchAsync(orderId, cancellationToken), cancellationToken) ?? intent;
            if (IntentStatus.IsOpen(intent.Status) && time.GetUtcNow() >= intent.ExpiresAt)
            {
                // Stop the order first, then look once more: a payment that made it in before the stop still counts.
                await TryCancelAtProviderAsync(provider, orderId);
                intent = await ApplyAsync(intent.Id, await provider.FetchAsync(orderId, cancellationToken), cancellationToken) ?? intent;
            }
        }
        if (IntentStatus.IsOpen(intent.Status) && time.GetUtcNow() >= intent.ExpiresAt)
            intent = await CloseAsync(intent.Surface, intent.Reference, IntentStatus.Expired, cancellationToken) ?? intent;
        return intent;
    }

    /// <summary>
    /// The reconciliation deadline: fetch, and while the intent stays open, look again later (sooner while it is young).
    /// An intent its surface closed while its order was payable gets the one look for a late payment it may still need.
    /// </summary>
    public async Task ReconcileAsync(string intentId, CancellationToken cancellationToken)
    {
        PaymentIntent? intent;
        try
        {
            intent = await FindAsync(intentId, cancellationToken);
            if (intent is not null && MayHoldLatePayment(intent))
            {
                await LookAfterCloseAsync(intent, cancellationToken);
                return;
            }
            intent = await RefreshAsync(intentId, cancellationToken);
        }
        catch (Exception ex) when (ex is PaymentProviderException or InvalidOperationException)
        {
            // The provider is down, refuses, or is no longer configured: look again later rather than give up.
            logger.LogWarning("Reconciling payment intent {Intent} failed ({Error}); it is tried again in {Delay}", intentId, ex.Message, FirstReconcile);
            await deadlines.ScheduleAsync(ReconcileDeadline, intentId, time.GetUtcNow() + FirstReconcile, cancellationToken);
            return;
        }
        if (intent is null || !IntentStatus.IsOpen(intent.Status))
            return;
        var now = time.GetUtcNow();
        await deadlines.ScheduleAsync(ReconcileDeadline, intent.Id, Min(now + NextLookAfter(intent.CreatedAt), intent.ExpiresAt), cancellationToken);
    }

    /// <summary>
    /// Closed by its surface (expired, cancelled) while its provider order was still payable, and no late payment
    /// seen yet: a payment may have gone through whose webhook was lost, and only a look at the provider finds it.
    /// </summary>
    private static bool MayHoldLatePayment(PaymentIntent intent) =>
        intent.Status is IntentStatus.Expired or IntentStatus.Cancelled && intent.ProviderOrderId is not null && intent.StrayPaymentId is null
        && intent.PaymentId is null;

    /// <summary>
    /// One look at the provider after an intent was closed: a payment that got through before the close, its webhook
    /// lost, is found and refunded (<c>late_payment</c>) instead of staying with the provider. When the provider does
    /// not answer, the reconciliation deadline looks again later.
    /// </summary>
    private async Task<PaymentIntent> LookAfterCloseAsync(PaymentIntent intent, CancellationToken cancellationToken)
    {
        try
        {
            var provider = providers.Resolve(intent.Provider);
            return await ApplyAsync(intent.Id, await provider.FetchAsync(intent.ProviderOrderId!, cancellationToken), cancellationToken) ?? intent;
        }
        catch (Exception ex) when (ex is PaymentProviderException or InvalidOperationException)
        {
            logger.LogWarning("Looking for a late payment of closed intent {Intent} failed ({Error}); it is looked for again in {Delay}",
                intent.Id, ex.Message, FirstReconcile);
            await deadlines.ScheduleAsync(ReconcileDeadline, intent.Id, time.GetUtcNow() + FirstReconcile, cancellationToken);
            return intent;
        }
    }

    /// <summary>How long until something started at <paramref name="since"/> is looked at again: as long as it has been going, 5 min to 6 h.</summary>
    private TimeSpan NextLookAfter(DateTimeOffset since)
    {
        var age = time.GetUtcNow() - since;
        return age < FirstReconcile ? FirstReconcile : age > LongestReconcileGap ? LongestReconcileGap : age;
    }

    /// <summary>
    /// Refunds <paramref name="amountMinor"/> (all that is left when null) of a paid intent. The refund row and the
    /// intent's reservation are written first, keyed by <paramref name="key"/>: asking twice with one key is one
    /// refund (the same amount, or <see cref="RefundOutcome.KeyReused"/>). Then the provider is asked, under the
    /// refund's id as its idempotency key.
    /// </summary>
    public async Task<RefundResult> RefundAsync(string intentId, string key, long? amountMinor, string reason, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var read = await FindAsync(intentId, cancellationToken);
        if (read is null)
            return new RefundResult(RefundOutcome.NotFound, null, null);
        var rowKey = IntentRefund.RowKeyFor("refund:" + key);
        var decided = await transitions.ApplyAsync<PaymentIntent, (RefundOutcome, IntentRefund?)>(Table, read.PartitionKey, read.RowKey, read,
            async change =>
            {
                if (change.Current is not { } intent)
                    return (RefundOutcome.NotFound, null);
                var existing = await Table.FindAsync<IntentRefund>(intent.PartitionKey, rowKey);
                if (existing is not null)
                    return (amountMinor is null || amountMinor == existing.AmountMinor ? RefundOutcome.Requested : RefundOutcome.KeyReused, existing);
                if (!IntentStatus.IsPaid(intent.Status) || intent.PaymentId is null)
                    return (RefundOutcome.NotPaid, null);
                var amount = amountMinor ?? intent.Refundable;
                if (amount <= 0 || amount > intent.Refundable)
                    return (RefundOutcome.ExceedsRefundable, null);
                var now = time.GetUtcNow();
                var refund = NewRefund(intent, "refund:" + key, intent.PaymentId, amount, reason, stray: false, now);
                change.Write(intent with { RefundReservedMinor = intent.RefundReservedMinor + amount, RefundCount = intent.RefundCount + 1, UpdatedAt = now })
                    .Insert(refund);
                return (RefundOutcome.Requested, refund);
            }, cancellationToken);
        var (outcome, row) = decided.Outcome;
        if (outcome != RefundOutcome.Requested || row is null)
            return new RefundResult(outcome, row, decided.Row);
        var done = await ExecuteRefundAsync(decided.Row!, row, cancellationToken);
        return new RefundResult(outcome, done.Refund ?? row, done.Intent ?? decided.Row);
    }

    private static IntentRefund NewRefund(PaymentIntent intent, string key, string paymentId, long amount, string reason, bool stray, DateTimeOffset now) => new()
    {
        PartitionKey = intent.PartitionKey,
        RowKey = IntentRefund.RowKeyFor(key),
        RefundId = IntentRefund.IdFor(intent.Id, key),
        IntentId = intent.Id,
        Key = key,
        PaymentId = paymentId,
        AmountMinor = amount,
        Currency = intent.Currency,
        Reason = reason,
        Stray = stray,
        Status = RefundStatus.Requested,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>
    /// Asks the provider for a recorded refund. A transient failure leaves it <c>requested</c>: the refund deadline
    /// (scheduled before the call) asks again under the same key.
    /// </summary>
    private async Task<(PaymentIntent? Intent, IntentRefund? Refund)> ExecuteRefundAsync(PaymentIntent intent, IntentRefund refund, CancellationToken cancellationToken)
    {
        if (RefundStatus.IsFinal(refund.Status))
            return (intent, refund);
        await deadlines.ScheduleAsync(RefundDeadline, intent.Id + "|" + refund.RowKey, time.GetUtcNow() + NextLookAfter(refund.CreatedAt), cancellationToken);
        ProviderRefund answer;
        try
        {
            var provider = providers.Resolve(intent.Provider);
            answer = refund.ProviderRefundId is { } providerRefundId && refund.Status == RefundStatus.Pending
                ? await provider.FetchRefundAsync(providerRefundId, cancellationToken)
                : await provider.RefundAsync(new RefundRequest(refund.RefundId, refund.RefundId, refund.PaymentId, refund.AmountMinor, refund.Currency,
                    refund.Reason), cancellationToken);
        }
        catch (PaymentProviderException ex) when (ex.Transient)
        {
            logger.LogWarning("Refund {Refund} of {Intent}: the provider did not answer ({Error}); it is asked again later", refund.RefundId, intent.Id, ex.Message);
            return (intent, refund);
        }
        catch (PaymentProviderException ex)
        {
            answer = new ProviderRefund(refund.ProviderRefundId ?? "", ProviderRefundState.Failed, refund.PaymentId, refund.AmountMinor, refund.RefundId, ex.Message);
        }
        return await ApplyRefundAsync(intent.Id, refund.RowKey, answer, cancellationToken);
    }

    /// <summary>Applies what the provider says about a refund (its answer, a webhook, a fetch); idempotent.</summary>
    public async Task<(PaymentIntent? Intent, IntentRefund? Refund)> ApplyRefundAsync(string intentId, string refundRowKey, ProviderRefund answer,
        CancellationToken cancellationToken)
    {
        var applied = await transitions.ApplyAsync<PaymentIntent, IntentRefund?>(Table, intentId, PaymentIntent.Row, null, async change =>
        {
            if (change.Current is not { } intent)
                return null;
            var refund = await Table.FindAsync<IntentRefund>(intent.PartitionKey, refundRowKey);
            if (refund is null || RefundStatus.IsFinal(refund.Status))
                return refund;
            var now = time.GetUtcNow();
            var status = answer.State switch
            {
                ProviderRefundState.Processed => RefundStatus.Processed,
                ProviderRefundState.Failed => RefundStatus.Failed,
                _ => RefundStatus.Pending,
            };
            var next = refund with
            {
                Status = status, ProviderRefundId = answer.ProviderRefundId.Length > 0 ? answer.ProviderRefundId : refund.ProviderRefundId,
                FailureReason = answer.FailureReason, UpdatedAt = now,
            };
            change.Replace(next);
            var updated = intent with { UpdatedAt = now };
            if (status == RefundStatus.Processed && !refund.Stray)
            {
                var refunded = intent.RefundedMinor + refund.AmountMinor;
                updated = intent.Moved(refunded >= intent.AmountMinor ? IntentStatus.Refunded : IntentStatus.PartiallyRefunded, now) with { RefundedMinor = refunded };
            }
            else if (status == RefundStatus.Processed && intent.Status is IntentStatus.Expired or IntentStatus.Cancelled)
                updated = intent.Moved(IntentStatus.Refunded, now);
            else if (status == RefundStatus.Failed && !refund.Stray)
                updated = intent with { RefundReservedMinor = intent.RefundReservedMinor - refund.AmountMinor, UpdatedAt = now };
            if (status == RefundStatus.Failed)
                logger.LogError("Refund {Refund} of {Intent} failed at the provider: {Reason}", refund.RefundId, intent.Id, answer.FailureReason);
            change.Write(updated);
            if (updated.Sequence != intent.Sequence)
                change.Publish(Event(updated, intent.Status));
            return next;
        }, cancellationToken);
        return (applied.Row, applied.Outcome);
    }

    /// <summary>The refund deadline: a refund still unanswered (or pending at the provider) is asked about again.</summary>
    public async Task ReconcileRefundAsync(string key, CancellationToken cancellationToken)
    {
        var separator = key.IndexOf('|', StringComparison.Ordinal);
        if (separator <= 0)
            return;
        var intent = await FindAsync(key[..separator], cancellationToken);
        var refund = intent is null ? null : await Table.FindAsync<IntentRefund>(intent.PartitionKey, key[(separator + 1)..], cancellationToken);
        if (intent is null || refund is null || RefundStatus.IsFinal(refund.Status))
            return;
        if (providers.Find(intent.Provider) is null)
        {
            logger.LogError("Refund {Refund} of {Intent} waits: provider {Provider} is not configured", refund.RefundId, intent.Id, intent.Provider);
            await deadlines.ScheduleAsync(RefundDeadline, key, time.GetUtcNow() + LongestReconcileGap, cancellationToken);
            return;
        }
        // Scheduled again by the attempt itself (before it asks), so a refund stays looked after until it is final.
        await ExecuteRefundAsync(intent, refund, cancellationToken);
    }

    /// <summary>The refunds of an intent, oldest first.</summary>
    public async Task<List<IntentRefund>> RefundsAsync(string intentId, CancellationToken cancellationToken)
    {
        var refunds = new List<IntentRefund>();
        await foreach (var row in Table.QueryAsync<IntentRefund>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {intentId} and RowKey ge {IntentRefund.Prefix} and RowKey lt {IntentRefund.Prefix + "~"}"),
                           cancellationToken: cancellationToken))
            refunds.Add(row);
        return refunds.OrderBy(r => r.CreatedAt).ToList();
    }

    /// <summary>Applies a refund event: found by our refund id (which names its intent) when the provider echoes it.</summary>
    public async Task<bool> ApplyRefundEventAsync(ProviderRefund refund, CancellationToken cancellationToken)
    {
        if (IntentRefund.IntentOf(refund.RefundId) is not { } intentId)
            return false;
        var row = (await RefundsAsync(intentId, cancellationToken)).FirstOrDefault(r => r.RefundId == refund.RefundId);
        if (row is null)
            return false;
        await ApplyRefundAsync(intentId, row.RowKey, refund, cancellationToken);
        return true;
    }

    private async Task TryCancelAtProviderAsync(IPaymentProvider provider, string orderId)
    {
        try
        {
            await provider.CancelAsync(orderId, CancellationToken.None);
        }
        catch (PaymentProviderException ex)
        {
            // A payment that still gets through is refunded when it is reported.
            logger.LogWarning("Order {Order} could not be closed at {Provider}: {Error}", orderId, provider.Name, ex.Message);
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>The callback of one move, keyed by the intent and its move count: forwarding it twice is one callback.</summary>
    private static OutboxEvent Event(PaymentIntent intent, string from)
    {
        var change = new PaymentIntentEvent(intent.Id + ":" + intent.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            intent.Id, intent.Surface, intent.Reference, from, intent.Status, intent.Provider, intent.AmountMinor, intent.Currency,
            intent.PaymentId, intent.PaymentMethod, intent.PaidAt, intent.RefundedMinor, intent.FailureReason);
        return new OutboxEvent(Channel, change.EventKey, intent.Surface, intent.Status, JsonSerializer.Serialize(change, Json));
    }

    internal static PaymentIntentEvent? ReadEvent(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<PaymentIntentEvent>(body, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
