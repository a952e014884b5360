using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Admin.Stats;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payments;

/// <summary>
/// The rows a money step writes beside the payment order, in the customer's partition: either a ledger movement's
/// step (when wallet money moves) or a plain transition of the order (when none does). Callers write their own rows
/// (files) through it without caring which.
/// </summary>
public sealed class OrderStep
{
    private readonly LedgerStep? _ledger;
    private readonly Change<PaymentOrderRow>? _change;

    internal OrderStep(LedgerStep ledger) => _ledger = ledger;

    internal OrderStep(Change<PaymentOrderRow> change) => _change = change;

    public OrderStep Insert(ITableEntity row) => Do(() => _ledger?.Insert(row), () => _change!.Insert(row));

    /// <summary>Replaces a row; the order a plain transition decides on is written as that transition's own row (a batch may name a row once).</summary>
    public OrderStep Replace(ITableEntity row) => Do(() => _ledger?.Replace(row), () =>
    {
        if (row is PaymentOrderRow order && _change!.Current is { } decided && order.PartitionKey == decided.PartitionKey && order.RowKey == decided.RowKey)
            _change.Write(order);
        else
            _change!.Replace(row);
    });

    public OrderStep Publish(OutboxEvent message) => Do(() => _ledger?.Publish(message), () => _change!.Publish(message));

    private OrderStep Do(Action ledger, Action change)
    {
        if (_ledger is not null)
            ledger();
        else
            change();
        return this;
    }
}

public enum UseStatus
{
    Used,
    NotFound,
    NotPaid,
    AlreadyUsed,
    TooSmall,
}

/// <summary>What using an order for an upload came to, and how much of it went back to the wallet.</summary>
public sealed record OrderUse(UseStatus Status, PaymentOrderRow? Order, long ExcessMinor);

/// <summary>What a refund of (part of) an order should be, decided on the order and the caller's rows as they are now.</summary>
public sealed record RefundPlan(long AmountMinor, Action<PaymentOrderRow, OrderStep> Write);

/// <summary>A refund that was made (or found made under the same key): how much went to the wallet and how much to the provider.</summary>
public sealed record OrderRefund(OrderRefundOutcome Outcome, long WalletMinor, long ProviderMinor);

public sealed partial class PaymentOrders
{
    public const string RefundChannel = "print-refund";
    private const int PlanAttempts = 8;

    /// <summary>
    /// Uses a paid, unused order for an upload costing <paramref name="costMinor"/>: the order is marked used and what
    /// it paid beyond the cost goes back to the wallet, in one transaction with the caller's rows (the files).
    /// <paramref name="useId"/> names the upload, so a retry of the same upload is recognised and a second upload
    /// racing for the same order is refused.
    /// </summary>
    public async Task<OrderUse> UseAsync(long userId, long orderId, long costMinor, long useId, Action<PaymentOrderRow, OrderStep> alsoWrite,
        CancellationToken cancellationToken, PaymentOrderRow? known = null)
    {
        var partition = AccountKeys.Partition(userId);
        var rowKey = PaymentOrderRow.RowKeyFor(orderId);
        // The order as the caller just read it (with its ETag) saves a read; a stale one costs a retry, never a wrong decision.
        var order = known is { } read && read.PartitionKey == partition && read.RowKey == rowKey
            ? read
            : await Table.FindAsync<PaymentOrderRow>(partition, rowKey, cancellationToken);
        if (Refusal(order, costMinor, useId) is { } refused)
            return new OrderUse(refused, order, 0);
        var now = time.GetUtcNow();
        var excess = order!.AmountMinor - costMinor;
        PaymentOrderRow Used(PaymentOrderRow current) =>
            current with { ConsumedAt = now, ConsumedBy = useId, ConsumedMinor = costMinor, ExcessReturnedMinor = excess };

        if (excess > 0)
        {
            UseStatus? declined = null;
            PaymentOrderRow? written = null;
            var credit = await Ledger.CreditIfAsync(PrintWallets.Account(userId), WalletKeys.Refund + "unused-" + useId, excess, async step =>
            {
                var current = await Table.FindAsync<PaymentOrderRow>(partition, rowKey, CancellationToken.None);
                declined = Refusal(current, costMinor, useId);
                if (declined is not null || current!.ConsumedBy == useId)
                    return false;
                written = Used(current);
                step.Replace(written);
                alsoWrite(written, new OrderStep(step));
                return true;
            }, "Unused part of a print payment returned", cancellationToken);
            if (credit.Status == MovementStatus.Applied && written is not null)
                return new OrderUse(UseStatus.Used, written, excess);
            // Applied by an earlier attempt of this upload (its answer lost), or refused.
            var stored = await Table.FindAsync<PaymentOrderRow>(partition, rowKey, cancellationToken);
            return stored?.ConsumedBy == useId ? new OrderUse(UseStatus.Used, stored, excess) : new OrderUse(declined ?? UseStatus.AlreadyUsed, stored, 0);
        }

        var used = await transitions.ApplyAsync<PaymentOrderRow, UseStatus>(Table, order, change =>
        {
            if (Refusal(change.Current, costMinor, useId) is { } refusal)
                return refusal;
            if (change.Current!.ConsumedBy == useId)
                return UseStatus.Used;
            var next = Used(change.Current);
            change.Write(next);
            alsoWrite(next, new OrderStep(change));
            return UseStatus.Used;
        }, cancellationToken);
        return new OrderUse(used.Outcome, used.Row, 0);
    }

    private static UseStatus? Refusal(PaymentOrderRow? order, long costMinor, long useId) => order switch
    {
        null => UseStatus.NotFound,
        { ConsumedBy: { } by } when by == useId => null,
        { Status: not PaymentOrderStatus.Paid } => order.ConsumedBy is null ? UseStatus.NotPaid : UseStatus.AlreadyUsed,
        { ConsumedBy: not null } => UseStatus.AlreadyUsed,
        _ when order.AmountMinor < costMinor => UseStatus.TooSmall,
        _ => null,
    };

    /// <summary>
    /// Refunds a paid order once, whatever retries or races: what is left of it (all of it when no upload used it).
    /// Its wallet part goes to the wallet at once; its provider part through a provider refund, or to the wallet at once
    /// when <paramref name="toWallet"/>.
    /// </summary>
    public async Task<OrderRefundOutcome> RefundAsync(long userId, long id, bool toWallet, CancellationToken cancellationToken) =>
        (await RefundPartAsync(userId, id, "order-" + id, toWallet,
            order => ValueTask.FromResult<RefundPlan?>(order.RefundableMinor > 0 ? new RefundPlan(order.RefundableMinor, static (_, _) => { }) : null),
            "Refund of print payment", cancellationToken)).Outcome;

    /// <summary>
    /// Refunds part of a paid order under <paramref name="key"/> (a file withdrawn, a queue order cancelled): the plan is
    /// decided on the order as it is now (and the caller's rows, which it reads afresh on every attempt), and the
    /// refund, the order's record of it and the caller's rows are one transaction. The wallet part is refunded first;
    /// whatever comes from the provider part is refunded through the provider (an outbox event, so a crash right after
    /// cannot lose it) unless <paramref name="toWallet"/>. The same key again refunds nothing more.
    /// </summary>
    public async Task<OrderRefund> RefundPartAsync(long userId, long id, string key, bool toWallet, Func<PaymentOrderRow, ValueTask<RefundPlan?>> plan,
        string memo, CancellationToken cancellationToken)
    {
        var partition = AccountKeys.Partition(userId);
        var rowKey = PaymentOrderRow.RowKeyFor(id);
        var walletKey = WalletKeys.Refund + key;
        for (var attempt = 0; attempt < PlanAttempts; attempt++)
        {
            var order = await Table.FindAsync<PaymentOrderRow>(partition, rowKey, cancellationToken);
            if (order is null)
                return new OrderRefund(OrderRefundOutcome.NotFound, 0, 0);
            if (order.Status != PaymentOrderStatus.Paid)
                return await AlreadyRefundedAsync(userId, order, walletKey, cancellationToken);
            if (await plan(order) is not { } decided || decided.AmountMinor > order.RefundableMinor)
                return await AlreadyRefundedAsync(userId, order, walletKey, cancellationToken);
            var share = Split(order, decided.AmountMinor, toWallet);
            var now = time.GetUtcNow();

            // Decides again on what is there at the time of writing; a plan that changed meanwhile starts over.
            async ValueTask<bool> Write(PaymentOrderRow? current, OrderStep step)
            {
                if (current is not { Status: PaymentOrderStatus.Paid } || await plan(current) is not { } again || again.AmountMinor != decided.AmountMinor
                    || again.AmountMinor > current.RefundableMinor || Split(current, again.AmountMinor, toWallet) != share)
                    return false;
                var refunded = current with
                {
                    RefundedWalletPartMinor = current.RefundedWalletPartMinor + share.FromWalletPart,
                    RefundedProviderPartMinor = current.RefundedProviderPartMinor + share.FromProviderPart,
                };
                if (refunded.RefundableMinor == 0)
                    refunded = refunded with
                    {
                        Status = PaymentOrderStatus.Refunded, RefundedAt = now,
                        RefundedTo = toWallet || refunded.RazorpayAmountMinor == 0 ? "wallet" : refunded.WalletAmountMinor > 0 ? "wallet+razorpay" : "razorpay",
                    };
                step.Replace(refunded).Publish(PrintStatEvents.Refunded(current, key, again.AmountMinor, now));
                again.Write(refunded, step);
                if (share.ThroughProvider > 0 && current.IntentId is { } intentId)
                    step.Publish(ProviderRefund(userId, intentId, key, share.ThroughProvider));
                return true;
            }

            if (share.ToWallet > 0)
            {
                var credit = await Ledger.CreditIfAsync(PrintWallets.Account(userId), walletKey, share.ToWallet,
                    async step => await Write(await Table.FindAsync<PaymentOrderRow>(partition, rowKey, CancellationToken.None), new OrderStep(step)),
                    memo, cancellationToken);
                if (credit.Status == MovementStatus.Applied)
                    return new OrderRefund(OrderRefundOutcome.Refunded, share.ToWallet, share.ThroughProvider);
                if (credit.Status == MovementStatus.AlreadyApplied)
                    return new OrderRefund(OrderRefundOutcome.AlreadyRefunded, credit.Movement?.Amount ?? 0, 0);
                continue;
            }
            var marked = await transitions.ApplyAsync<PaymentOrderRow, bool>(Table, partition, rowKey, order,
                async change => await Write(change.Current, new OrderStep(change)), cancellationToken);
            if (marked.Outcome)
                return new OrderRefund(OrderRefundOutcome.Refunded, 0, share.ThroughProvider);
        }
        throw new ConcurrencyConflictException($"The refund {key} of payment order {id} kept meeting other changes; try again.");
    }

    /// <summary>Nothing (more) to refund under this key: say whether it was refunded before.</summary>
    private async Task<OrderRefund> AlreadyRefundedAsync(long userId, PaymentOrderRow order, string walletKey, CancellationToken cancellationToken)
    {
        var movement = await Ledger.FindMovementAsync(PrintWallets.Account(userId), walletKey, cancellationToken);
        if (movement is not null || order.Status == PaymentOrderStatus.Refunded)
            return new OrderRefund(OrderRefundOutcome.AlreadyRefunded, movement?.Amount ?? 0, 0);
        return new OrderRefund(order.Status == PaymentOrderStatus.Paid ? OrderRefundOutcome.AlreadyRefunded : OrderRefundOutcome.NotPaid, 0, 0);
    }

    /// <summary>How a refund of <paramref name="amount"/> splits: from the wallet part first, then from the provider part.</summary>
    private readonly record struct RefundShare(long FromWalletPart, long FromProviderPart, bool ProviderToWallet)
    {
        public long ToWallet => FromWalletPart + (ProviderToWallet ? FromProviderPart : 0);

        public long ThroughProvider => ProviderToWallet ? 0 : FromProviderPart;
    }

    private static RefundShare Split(PaymentOrderRow order, long amount, bool toWallet)
    {
        var fromWallet = Math.Min(amount, order.WalletPartLeftMinor);
        var fromProvider = amount - fromWallet;
        // An order without a provider payment (or whose provider part is spent) has nothing to refund through one.
        return new RefundShare(fromWallet, fromProvider, toWallet || order.IntentId is null);
    }

    private static OutboxEvent ProviderRefund(long userId, string intentId, string key, long amountMinor) =>
        new(RefundChannel, "print-refund:" + intentId + ":" + key, userId.ToString(System.Globalization.CultureInfo.InvariantCulture), "provider-refund",
            JsonSerializer.Serialize(new ProviderRefundEvent(intentId, key, amountMinor)));
}

public sealed record ProviderRefundEvent(string IntentId, string Key, long AmountMinor);

/// <summary>Asks the payments platform for a print refund's provider part; keyed, so asking twice is one refund.</summary>
public sealed class PrintRefundChannel(IServiceProvider services) : IOutboxChannel
{
    public string Name => PaymentOrders.RefundChannel;

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        var refund = JsonSerializer.Deserialize<ProviderRefundEvent>(message.Body)
                     ?? throw new InvalidOperationException($"Unreadable print refund event {message.Key}.");
        // Resolved per event: the intents' transitions need the outbox, which needs its channels.
        await services.GetRequiredService<PaymentIntents>().RefundAsync(refund.IntentId, refund.Key, refund.AmountMinor, "print_refund", cancellationToken);
    }
}
