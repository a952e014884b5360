using Azure.Data.Tables;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Admin.Stats;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payments;

/// <summary>What creating a payment order came to.</summary>
public sealed record CreatedOrder(PaymentOrderRow Order, string? CheckoutUrl);

public enum OrderRefundOutcome
{
    Refunded,
    AlreadyRefunded,
    NotFound,
    NotPaid,
}

/// <summary>
/// Print payment orders (the document's scenarios): all from the wallet (A: one ledger debit and the order, paid, in
/// one transaction), all through the payment provider, or hybrid (C: the wallet part debited with the order, the rest
/// through the provider). An order waiting for its provider part expires after
/// <see cref="PrintMoneySettings.PaymentOrderLifetime"/>; its wallet part then goes back to the wallet, so a wallet
/// is never charged for an order that was not paid. The provider part is a payment intent of surface <c>print</c>.
/// </summary>
public sealed partial class PaymentOrders(
    StorageAccount storage,
    Transitions transitions,
    IdBlockAllocator ids,
    PrintWallets wallets,
    PaymentIntents intents,
    PrintMoneySettings money,
    PrintSettings settings,
    DeadlineScheduler deadlines,
    TimeProvider time)
{
    public const string Surface = "print";
    public const string ExpiryDeadline = "print-payment-order";
    private const string Sequence = "print-payment-orders";

    private TableClient Table => storage.Table(UserDirectory.TableName);

    private Ledger Ledger => wallets.Ledger;

    /// <summary>A shopkeeper's profile, or null when the id is not a shopkeeper's.</summary>
    public async Task<bool> IsShopkeeperAsync(long userId, CancellationToken cancellationToken) =>
        await Table.FindAsync<PrintProfile>(AccountKeys.Partition(userId), AccountKeys.Profile, cancellationToken) is { Role: PrintRoles.Shopkeeper };

    /// <summary>
    /// Makes the order; <paramref name="knownAvailable"/> is the wallet's spendable balance when the caller just read it
    /// (a balance that fell since is met by the ledger, which never lets the wallet go negative).
    /// </summary>
    public async Task<CreatedOrder> CreateAsync(long userId, string? email, long amountMinor, bool useWallet, PaymentOrderRow details,
        string returnUrl, CancellationToken cancellationToken, long? knownAvailable = null)
    {
        var id = await ids.NextAsync(Sequence, cancellationToken);
        var now = time.GetUtcNow();
        await Admin.Orders.PaymentOrderIndex.AddAsync(storage, userId, id, now, cancellationToken); // before the order: every order is indexed
        var order = details with
        {
            PartitionKey = AccountKeys.Partition(userId), RowKey = PaymentOrderRow.RowKeyFor(id), Id = id, UserId = userId,
            AmountMinor = amountMinor, CommissionMinor = money.CommissionOf(amountMinor), ShopkeeperAmountMinor = money.ShopkeeperShare(amountMinor),
            CreatedAt = now, ExpiresAt = now + money.PaymentOrderLifetime,
        };
        var account = PrintWallets.Account(userId);
        var balance = useWallet ? knownAvailable ?? (await wallets.BalanceAsync(userId, cancellationToken)).Available : 0;

        if (useWallet && balance >= amountMinor)
        {
            // Scenario A: the debit and the paid order are one transaction.
            var paid = order with
            {
                OrderId = "wallet_" + id, PaymentMethod = PaymentMethods.Wallet, WalletAmountMinor = amountMinor, Status = PaymentOrderStatus.Paid,
                PaidAt = now,
            };
            var debit = await Ledger.DebitAsync(account, WalletKeys.Payment + id, amountMinor,
                step => step.Insert(paid).Insert(Ref(paid)).Publish(PrintStatEvents.OrderPaid(paid)), "Print payment", cancellationToken);
            if (debit.Status is MovementStatus.Applied or MovementStatus.AlreadyApplied)
                return new CreatedOrder(paid, null);
            // The balance fell meanwhile (another payment): pay what the wallet still holds, the rest by the provider.
            balance = (await wallets.BalanceAsync(userId, cancellationToken)).Available;
        }

        var walletPart = useWallet ? Math.Clamp(balance, 0, amountMinor - 1) : 0;
        var pending = order with
        {
            PaymentMethod = walletPart > 0 ? PaymentMethods.Hybrid : PaymentMethods.Razorpay, WalletAmountMinor = walletPart,
            RazorpayAmountMinor = amountMinor - walletPart, Status = PaymentOrderStatus.Created, OrderId = "pending_" + id,
            IntentId = PaymentIntent.IdFor(Surface, PaymentOrderRow.IntentReference(userId, id)),
        };
        // The expiry first: whatever happens next, the order and its wallet part are looked after.
        await deadlines.ScheduleAsync(ExpiryDeadline, userId + "|" + id, pending.ExpiresAt, cancellationToken);
        if (walletPart > 0)
        {
            var debit = await Ledger.DebitAsync(account, WalletKeys.Payment + id, walletPart, step => step.Insert(pending), "Print payment (part)",
                cancellationToken);
            if (debit.Status is not (MovementStatus.Applied or MovementStatus.AlreadyApplied))
            {
                // Spent meanwhile: the whole amount through the provider.
                pending = pending with { PaymentMethod = PaymentMethods.Razorpay, WalletAmountMinor = 0, RazorpayAmountMinor = amountMinor };
                await Table.AddOnceAsync(pending, stored => stored.Id == id, cancellationToken);
            }
        }
        else
            await Table.AddOnceAsync(pending, stored => stored.Id == id, cancellationToken);

        IntentCheckout checkout;
        try
        {
            checkout = await intents.CheckoutAsync(new IntentRequest(Surface, PaymentOrderRow.IntentReference(userId, id), pending.RazorpayAmountMinor,
                PrintMoney.Currency, $"{settings.AppName} print payment #{id}", returnUrl, returnUrl, pending.ExpiresAt, email), cancellationToken);
        }
        catch (PaymentProviderException)
        {
            // The provider could not open it: the order ends now and its wallet part goes back.
            await ExpireAsync(userId, id, force: true, cancellationToken);
            throw;
        }
        var orderId = checkout.Intent.ProviderOrderId ?? pending.OrderId;
        var stored = await Table.TransitionAsync<PaymentOrderRow>(pending.PartitionKey, pending.RowKey,
            row => row.OrderId == orderId ? null : row with { OrderId = orderId, CheckoutUrl = settings.Absolute(checkout.CheckoutUrl) }, cancellationToken) ?? pending;
        await Table.UpsertEntityAsync(Ref(stored), TableUpdateMode.Replace, cancellationToken);
        return new CreatedOrder(stored, settings.Absolute(checkout.CheckoutUrl));
    }

    private static PaymentOrderRef Ref(PaymentOrderRow order) =>
        new() { PartitionKey = order.PartitionKey, RowKey = PaymentOrderRow.RefKeyFor(order.OrderId), Id = order.Id };

    /// <summary>The caller's order by its numeric id or its <c>order_id</c>.</summary>
    public async Task<PaymentOrderRow?> FindAsync(long userId, string idOrOrderId, CancellationToken cancellationToken)
    {
        var partition = AccountKeys.Partition(userId);
        if (long.TryParse(idOrOrderId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            return await Table.FindAsync<PaymentOrderRow>(partition, PaymentOrderRow.RowKeyFor(id), cancellationToken);
        if (idOrOrderId.Length is 0 or > 100)
            return null;
        var reference = await Table.FindAsync<PaymentOrderRef>(partition, PaymentOrderRow.RefKeyFor(idOrOrderId), cancellationToken);
        return reference is null ? null : await Table.FindAsync<PaymentOrderRow>(partition, PaymentOrderRow.RowKeyFor(reference.Id), cancellationToken);
    }

    /// <summary>The caller's orders, newest first (one range read).</summary>
    public async Task<(List<PaymentOrderRow> Page, int Total)> ListAsync(long userId, int limit, int offset, CancellationToken cancellationToken)
    {
        var all = new List<PaymentOrderRow>();
        await foreach (var row in Table.QueryAsync<PaymentOrderRow>(AccountKeys.StartsWith(userId, PaymentOrderRow.Prefix), cancellationToken: cancellationToken))
            all.Add(row);
        return (all.Skip(offset).Take(limit).ToList(), all.Count);
    }

    /// <summary>
    /// The intent of an order succeeded: the order is paid if it still waits (its wallet part was debited when it was
    /// made). An order that expired meanwhile refuses the payment, which the platform then refunds.
    /// </summary>
    public async Task<bool> OnPaidAsync(long userId, long id, PaymentIntentEvent change, CancellationToken cancellationToken)
    {
        var paid = await transitions.ApplyAsync<PaymentOrderRow, bool>(Table, AccountKeys.Partition(userId), PaymentOrderRow.RowKeyFor(id), row =>
        {
            if (row.Current is not { } order)
                return false;
            if (order.Status == PaymentOrderStatus.Paid)
                return order.PaymentId == change.PaymentId;
            if (order.Status != PaymentOrderStatus.Created)
                return false;
            var paidOrder = order with { Status = PaymentOrderStatus.Paid, PaymentId = change.PaymentId, PaidAt = change.PaidAt ?? time.GetUtcNow() };
            row.Write(paidOrder).Publish(PrintStatEvents.OrderPaid(paidOrder));
            return true;
        }, cancellationToken);
        return paid.Outcome;
    }

    /// <summary>
    /// The expiry deadline (or a provider that could not open the order): an order still waiting expires, and its
    /// wallet part goes back to the wallet in the same transaction. Then its intent is abandoned, so a payment that
    /// still arrives is refunded.
    /// </summary>
    public async Task ExpireAsync(long userId, long id, bool force, CancellationToken cancellationToken)
    {
        var partition = AccountKeys.Partition(userId);
        var order = await Table.FindAsync<PaymentOrderRow>(partition, PaymentOrderRow.RowKeyFor(id), cancellationToken);
        if (order is null || order.Status != PaymentOrderStatus.Created || (!force && time.GetUtcNow() < order.ExpiresAt))
            return;
        if (order.WalletAmountMinor > 0)
        {
            await Ledger.RefundIfAsync(PrintWallets.Account(userId), WalletKeys.Payment + id, WalletKeys.Refund + "order-" + id, order.WalletAmountMinor,
                async step =>
                {
                    var current = await Table.FindAsync<PaymentOrderRow>(partition, order.RowKey);
                    if (current is not { Status: PaymentOrderStatus.Created })
                        return false;
                    step.Replace(current with { Status = PaymentOrderStatus.Expired });
                    return true;
                }, "Payment order expired: wallet part returned", cancellationToken);
        }
        else
            await Table.TransitionAsync<PaymentOrderRow>(partition, order.RowKey,
                row => row.Status == PaymentOrderStatus.Created ? row with { Status = PaymentOrderStatus.Expired } : null, cancellationToken);
        await intents.AbandonAsync(Surface, PaymentOrderRow.IntentReference(userId, id), IntentStatus.Expired, cancellationToken);
    }
}
