using System.Globalization;
using Serverless.Print.Accounts;

namespace Serverless.Print.Payouts;

/// <summary>
/// A shopkeeper whose shop is still owed money cannot be deleted: unpaid earnings (credited by confirmed prints, paid
/// out by the daily payout run) or a payout not yet paid or failed would be left owing a deleted account. Refused
/// with 400 <c>earnings_unpaid</c>, naming the amount, until the payouts have been made.
/// </summary>
public sealed class EarningsDeletionCheck(PrintEarnings earnings) : IPrintAccountDeletionCheck
{
    public const string Code = "earnings_unpaid";

    public async Task<DeletionRefusal?> RefusalAsync(long userId, CancellationToken cancellationToken)
    {
        var balance = await earnings.EarningsAsync(userId, cancellationToken);
        var owed = balance.Available + balance.Held;
        if (owed > 0)
            return new DeletionRefusal(Code, $"The shop still has {Rupees(owed)} of unpaid earnings. They are paid out by the daily payout run; " +
                                             "delete the account once they have been paid.");
        var payouts = await earnings.PayoutsAsync(userId, cancellationToken: cancellationToken);
        var open = payouts.Where(p => p.Status is ShopPayoutStatus.Pending or ShopPayoutStatus.Processing).Sum(p => p.AmountMinor);
        return open > 0
            ? new DeletionRefusal(Code, $"The shop has {Rupees(open)} in payouts not yet paid; delete the account once they are marked paid or failed.")
            : null;
    }

    private static string Rupees(long paise) => "₹" + PrintMoney.Rupees(paise).ToString("0.##", CultureInfo.InvariantCulture);
}
