using Microsoft.Extensions.Options;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Print.Accounts;

namespace Serverless.Print.Wallet;

/// <summary>
/// The wallet's movement keys: the prefix of a key says which of the document's transaction types a movement is
/// (<c>topup, payment, refund, withdrawal, referral_bonus, referral_welcome</c>), and its remainder names what it was
/// for (a payment order id, a withdrawal id, a referral id), so a retry can never move money twice.
/// </summary>
public static class WalletKeys
{
    public const string Topup = "topup-";
    public const string Payment = "order-";
    public const string Refund = "refund-";
    public const string Withdrawal = "withdraw-";
    public const string ReferralBonus = "referral-bonus-";
    public const string ReferralWelcome = "referral-welcome-";
    public const string Seed = "seed-";

    /// <summary>The document's transaction type of a movement key.</summary>
    public static string TypeOf(string key) => key switch
    {
        _ when key.StartsWith(Topup, StringComparison.Ordinal) || key.StartsWith(Seed, StringComparison.Ordinal) => "topup",
        _ when key.StartsWith(Payment, StringComparison.Ordinal) => "payment",
        _ when key.StartsWith(Refund, StringComparison.Ordinal) => "refund",
        _ when key.StartsWith(Withdrawal, StringComparison.Ordinal) => "withdrawal",
        _ when key.StartsWith(ReferralBonus, StringComparison.Ordinal) => "referral_bonus",
        _ when key.StartsWith(ReferralWelcome, StringComparison.Ordinal) => "referral_welcome",
        _ => "adjustment",
    };
}

/// <summary>
/// The print-shop's money settings, from the document's environment variables where it names them
/// (<c>COST_PER_PAGE_BW</c>, <c>COST_PER_PAGE_COLOR</c>, <c>PLATFORM_COMMISSION</c>) and <c>Print__…</c> otherwise.
/// Amounts are set in rupees and held in paise.
/// </summary>
public sealed class PrintMoneySettings : Platform.IValidatedSettings
{
    public PrintMoneySettings(IConfiguration configuration)
    {
        var problems = new List<string>();
        long Paise(string key, decimal fallback, string name)
        {
            var rupees = configuration.GetValue(key, fallback);
            // Zero is a setting (no welcome bonus, say), though not an amount the currency conversion accepts.
            if (rupees == 0)
                return 0;
            if (rupees > 0 && Currencies.TryToMinor(rupees, PrintMoney.Currency, out var paise))
                return paise;
            problems.Add($"{name} must be an amount of rupees with at most 2 decimals, not negative; '{rupees}' is not.");
            return 0;
        }
        CostPerPageBwMinor = Paise("COST_PER_PAGE_BW", 1m, "COST_PER_PAGE_BW");
        CostPerPageColorMinor = Paise("COST_PER_PAGE_COLOR", 10m, "COST_PER_PAGE_COLOR");
        Commission = configuration.GetValue("PLATFORM_COMMISSION", 0m);
        if (Commission is < 0 or > 1)
            problems.Add($"PLATFORM_COMMISSION must be between 0 and 1; '{Commission}' is not.");
        TopupMinMinor = Paise("Print:Wallet:TopupMin", 10m, "Print__Wallet__TopupMin");
        TopupMaxMinor = Paise("Print:Wallet:TopupMax", 10_000m, "Print__Wallet__TopupMax");
        BalanceCeilingMinor = Paise("Print:Wallet:BalanceCeiling", 50_000m, "Print__Wallet__BalanceCeiling");
        WithdrawMinMinor = Paise("Print:Wallet:WithdrawMin", 100m, "Print__Wallet__WithdrawMin");
        ReferralWelcomeMinor = Paise("Print:Referral:WelcomeBonus", 25m, "Print__Referral__WelcomeBonus");
        PayoutMinimumMinor = Paise("Print:Payouts:Minimum", 100m, "Print__Payouts__Minimum");
        PaymentOrderLifetime = configuration.GetValue("Print:PaymentOrders:Lifetime", TimeSpan.FromMinutes(30));
        if (PaymentOrderLifetime < TimeSpan.FromMinutes(1))
            problems.Add("Print__PaymentOrders__Lifetime must be at least a minute.");
        if (problems.Count > 0)
            throw new OptionsValidationException("Print money", typeof(PrintMoneySettings), problems);
    }

    public long CostPerPageBwMinor { get; }
    public long CostPerPageColorMinor { get; }

    /// <summary>The platform's share of a print (0 to 1): the server's setting, never a client's.</summary>
    public decimal Commission { get; }

    public long TopupMinMinor { get; }
    public long TopupMaxMinor { get; }

    /// <summary>A top-up is refused when it would take the balance past this (money the gateway confirmed is credited anyway).</summary>
    public long BalanceCeilingMinor { get; }

    public long WithdrawMinMinor { get; }

    /// <summary>What a referred customer is credited on their first qualifying action (the referrer's bonus is <see cref="PrintSettings.ReferrerBonusMinor"/>).</summary>
    public long ReferralWelcomeMinor { get; }

    /// <summary>The least unpaid earnings a payout run turns into a payout.</summary>
    public long PayoutMinimumMinor { get; }

    /// <summary>How long a payment order waits for its Razorpay part before it expires (its wallet hold released).</summary>
    public TimeSpan PaymentOrderLifetime { get; }

    /// <summary>
    /// The commission of <paramref name="amountMinor"/>, rounded half away from zero to the paisa; the shop gets the
    /// rest, so the two always add up to the amount.
    /// </summary>
    public long CommissionOf(long amountMinor) => (long)Math.Round(amountMinor * Commission, MidpointRounding.AwayFromZero);

    public long ShopkeeperShare(long amountMinor) => amountMinor - CommissionOf(amountMinor);
}

/// <summary>
/// Customers' wallets: one ledger account per user, in the user's own partition of the users table (so a payment
/// order row is written in the same transaction as the wallet movement that pays it). Every movement carries a
/// <see cref="WalletKeys"/> key.
/// </summary>
public sealed class PrintWallets(Ledger ledger)
{
    public static LedgerAccount Account(long userId) => new(UserDirectory.TableName, AccountKeys.Partition(userId), PrintMoney.Currency);

    public Ledger Ledger => ledger;

    public Task<LedgerBalance> BalanceAsync(long userId, CancellationToken cancellationToken = default) =>
        ledger.BalanceAsync(Account(userId), cancellationToken);
}

/// <summary>The document's wallet transaction view of the ledger's statement rows (the balance shown is what can be spent).</summary>
public static class WalletTransactions
{
    public static Payments.WalletTransactionView View(LedgerStatementRow row)
    {
        // The statement row's amount is what the movement did to the spendable balance (holds take, releases give back,
        // captures spend what was held and leave it as it is).
        var delta = row.Amount;
        var type = WalletKeys.TypeOf(row.MovementKey);
        var description = row.Kind switch
        {
            MovementKinds.Hold => (row.Memo ?? "Amount reserved") + " (reserved)",
            MovementKinds.Capture => (row.Memo ?? "Reserved amount") + " (paid out)",
            MovementKinds.Release => row.Memo ?? "Reserved amount released",
            _ => row.Memo ?? type,
        };
        return new Payments.WalletTransactionView(row.Version, type, PrintMoney.Rupees(delta), PrintMoney.Rupees(row.AvailableAfter - delta),
            PrintMoney.Rupees(row.AvailableAfter), "completed", description, OrderIdOf(row.MovementKey), PrintTimes.Format(row.At));
    }

    /// <summary>The payment order a movement belongs to (<c>order-12</c>, <c>refund-order-12</c>), if any.</summary>
    private static long? OrderIdOf(string key)
    {
        var at = key.IndexOf("order-", StringComparison.Ordinal);
        if (at < 0)
            return null;
        var digits = key.AsSpan(at + "order-".Length);
        var end = digits.IndexOfAnyExceptInRange('0', '9');
        return long.TryParse(end < 0 ? digits : digits[..end], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? id : null;
    }
}
