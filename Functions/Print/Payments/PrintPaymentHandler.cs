using System.Globalization;
using Serverless.Platform.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payments;

/// <summary>
/// Something that happens when a customer completes a qualifying action (a first top-up, a first print): the
/// referral credit listens. Called after the action is stored; must be idempotent.
/// </summary>
public interface IPrintQualifyingAction
{
    Task OnQualifyingActionAsync(long userId, CancellationToken cancellationToken);
}

/// <summary>
/// The print surface's side of its payment intents: a payment order's intent that succeeds pays the order; a top-up's
/// credits the wallet (always: money the gateway confirmed is never lost, even past the wallet's ceiling, which is
/// then logged) and counts as a qualifying action.
/// </summary>
public sealed class PrintPaymentHandler(
    PaymentOrders orders, PrintWallets wallets, PrintMoneySettings money, IEnumerable<IPrintQualifyingAction> qualifying,
    ILogger<PrintPaymentHandler> logger) : IPaymentIntentHandler
{
    public string Surface => PaymentOrders.Surface;

    public async Task<bool> OnChangedAsync(PaymentIntentEvent change, CancellationToken cancellationToken)
    {
        if (change.Status != IntentStatus.Succeeded)
            return true;
        var parts = change.Reference.Split(':');
        if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            logger.LogError("A print payment intent has an unreadable reference {Reference}", change.Reference);
            return false;
        }
        switch (parts[0])
        {
            case "order":
                return await orders.OnPaidAsync(userId, id, change, cancellationToken);
            case "topup":
                var credited = await wallets.Ledger.CreditAsync(PrintWallets.Account(userId), WalletKeys.Topup + id, change.AmountMinor,
                    memo: "Wallet top-up", cancellationToken: cancellationToken);
                if (credited.Status == MovementStatus.Applied && credited.Available + credited.Held > money.BalanceCeilingMinor)
                    logger.LogWarning("Top-up {Topup} of user {User} took the wallet past its ceiling ({Balance} paise); credited anyway",
                        id, userId, credited.Available + credited.Held);
                foreach (var listener in qualifying)
                    await listener.OnQualifyingActionAsync(userId, cancellationToken);
                return credited.Status is MovementStatus.Applied or MovementStatus.AlreadyApplied;
            default:
                logger.LogError("A print payment intent has an unknown reference {Reference}", change.Reference);
                return false;
        }
    }
}

/// <summary>A first top-up (or, from the files issue, a first print) qualifies a referred customer's referral.</summary>
public sealed class ReferralOnQualifyingAction(ReferralCredits referrals) : IPrintQualifyingAction
{
    public Task OnQualifyingActionAsync(long userId, CancellationToken cancellationToken) => referrals.OnQualifyingActionAsync(userId, cancellationToken);
}
