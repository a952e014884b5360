using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Wallet;

/// <summary>
/// What crediting a referral came to: the referral, who referred, the amounts of the referrer's bonus and the
/// referee's welcome, and whether this call marked the referral credited (false for a repeat or a parallel call).
/// </summary>
public sealed record ReferralCredit(long ReferralId, long ReferrerId, long RefereeId, long BonusMinor, long WelcomeMinor, bool CreditedNow);

/// <summary>
/// Refer and earn, the money side. When a referred customer completes a first top-up or a first print, the
/// referrer's wallet is credited <see cref="PrintSettings.ReferrerBonusMinor"/> (<c>referral_bonus</c>) and the
/// referral row is marked credited in the SAME ledger transaction (the row is in the referrer's partition, as is the
/// referrer's wallet), and the customer's own wallet is credited <see cref="PrintMoneySettings.ReferralWelcomeMinor"/>
/// (<c>referral_welcome</c>). Both movements are keyed by the referral id, so a retry or a parallel call (a top-up and
/// a print qualifying at the same moment) moves each amount once. A zero amount moves nothing; a zero bonus still
/// marks the referral credited.
/// </summary>
public sealed class ReferralCredits(
    StorageAccount storage, PrintAccounts accounts, Referrals referrals, PrintWallets wallets, PrintSettings settings,
    PrintMoneySettings money, TimeProvider time, ILogger<ReferralCredits> logger)
{
    public const string BonusMemo = "Referral bonus";
    public const string WelcomeMemo = "Referral welcome bonus";

    private TableClient Table => storage.Table(UserDirectory.TableName);

    /// <summary>
    /// Call when the customer <paramref name="refereeUserId"/> completes a first top-up or a first print. Null when there
    /// is nothing to credit: no such customer, not referred, or the referral is gone (its referrer deleted). Safe to
    /// call again and in parallel: a referral credited already only makes sure of the customer's welcome credit.
    /// </summary>
    public async Task<ReferralCredit?> OnQualifyingActionAsync(long refereeUserId, CancellationToken cancellationToken = default)
    {
        var profile = await accounts.FindProfileAsync(refereeUserId, cancellationToken);
        if (profile is not { Role: PrintRoles.Customer, ReferredBy: { } referrerId, ReferralId: { } referralId })
            return null;
        // Pending: to credit now. Credited already: a repeat, which still makes sure of the welcome credit (a call that
        // credited the referrer and failed before the welcome is completed by its retry).
        var row = await referrals.PendingReferralOfAsync(profile, cancellationToken)
                  ?? await Table.FindAsync<ReferralRow>(AccountKeys.Partition(referrerId), AccountKeys.Referral(referralId), cancellationToken);
        if (row is null || row.RefereeId != refereeUserId || row.Status is not (ReferralStatus.Pending or ReferralStatus.Credited))
            return null;

        var creditedNow = false;
        long bonus;
        if (row.Status == ReferralStatus.Pending)
        {
            var marked = await CreditReferrerAsync(row, cancellationToken);
            if (marked is null)
                return null;
            (bonus, creditedNow) = marked.Value;
        }
        else
            bonus = row.AmountMinor;

        var welcome = money.ReferralWelcomeMinor;
        if (welcome > 0)
        {
            var result = await wallets.Ledger.CreditAsync(PrintWallets.Account(refereeUserId), WalletKeys.ReferralWelcome + referralId, welcome,
                memo: WelcomeMemo, cancellationToken: cancellationToken);
            if (result.Status == MovementStatus.AlreadyApplied)
                welcome = result.Movement!.Amount;
            else if (!result.Moved)
                throw new InvalidOperationException($"The welcome credit of referral {referralId} was refused: {result.Status}.");
        }
        if (creditedNow)
            logger.LogInformation("Referral {ReferralId} credited: referrer {ReferrerId} {Bonus} paise, customer {RefereeId} {Welcome} paise",
                referralId, referrerId, bonus, refereeUserId, welcome);
        return new ReferralCredit(referralId, referrerId, refereeUserId, bonus, welcome, creditedNow);
    }

    /// <summary>
    /// Credits the referrer and marks the row credited together; null when the row went away meanwhile (nothing
    /// credited). The amount credited, and whether this call did it.
    /// </summary>
    private async Task<(long Bonus, bool CreditedNow)?> CreditReferrerAsync(ReferralRow row, CancellationToken cancellationToken)
    {
        var bonus = settings.ReferrerBonusMinor;
        if (bonus == 0)
            return await MarkCreditedAsync(row, cancellationToken);

        var account = PrintWallets.Account(row.ReferrerId);
        var key = WalletKeys.ReferralBonus + row.Id;
        var result = await wallets.Ledger.CreditIfAsync(account, key, bonus, async step =>
        {
            // Read afresh on every attempt: the row's ETag of an earlier attempt may be stale for reasons that do not matter.
            var current = await Table.FindAsync<ReferralRow>(row.PartitionKey, row.RowKey, cancellationToken);
            if (current is not { Status: ReferralStatus.Pending })
                return false;
            step.Replace(current with { Status = ReferralStatus.Credited, AmountMinor = bonus, CreditedAt = step.At });
            return true;
        }, BonusMemo, cancellationToken);
        switch (result.Status)
        {
            case MovementStatus.Applied:
                return (bonus, true);
            case MovementStatus.AlreadyApplied:
                return (result.Movement!.Amount, false);
            case MovementStatus.Declined:
                // A parallel call credited it between our read and our decision (its movement is there), or the row is gone.
                if (await wallets.Ledger.FindMovementAsync(account, key, cancellationToken) is { } movement)
                    return (movement.Amount, false);
                var now = await Table.FindAsync<ReferralRow>(row.PartitionKey, row.RowKey, cancellationToken);
                return now is { Status: ReferralStatus.Credited } ? (now.AmountMinor, false) : null;
            default:
                throw new InvalidOperationException($"The referral bonus of referral {row.Id} was refused: {result.Status}.");
        }
    }

    /// <summary>A zero bonus: no money moves, the row is marked credited through the transition seam (a parallel call's mark wins once).</summary>
    private async Task<(long Bonus, bool CreditedNow)?> MarkCreditedAsync(ReferralRow row, CancellationToken cancellationToken)
    {
        var marked = await Table.ApplyAsync<ReferralRow, (long Bonus, bool CreditedNow)?>(row.PartitionKey, row.RowKey, change =>
        {
            switch (change.Current)
            {
                case { Status: ReferralStatus.Credited } credited:
                    return (credited.AmountMinor, false);
                case { Status: ReferralStatus.Pending } pending:
                    change.Write(pending with { Status = ReferralStatus.Credited, AmountMinor = 0, CreditedAt = time.GetUtcNow() });
                    return (0L, true);
                default:
                    return null;
            }
        }, cancellationToken);
        return marked.Outcome;
    }
}
