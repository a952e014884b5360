using System.Globalization;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payouts;

public enum WithdrawOutcome
{
    Requested,
    InsufficientBalance,

    /// <summary>No payout provider is configured: the hold was released at once.</summary>
    Unavailable,
}

public sealed record WithdrawalRequest(long UserId, long AmountMinor, string AccountNumber, string Ifsc, string HolderName, string? Email);

/// <summary>
/// Customers' withdrawals to a bank account. The amount is held on the wallet in the transaction that writes the
/// withdrawal, then paid out through the platform's <see cref="Payouts"/> (surface <c>print</c>, owner
/// <c>user-{id}</c>, key <c>withdraw-{id}</c>). Each move of the payout comes back through
/// <see cref="WithdrawalPayoutHandler"/>: processed captures the hold, failed releases it, reversed gives the
/// money back (a release while still held, a credit once captured), each under its own key.
/// </summary>
public sealed class Withdrawals(
    StorageAccount storage, Ledger ledger, Transitions transitions, IdBlockAllocator ids, Platform.Payments.Payouts payouts, TimeProvider time,
    ILogger<Withdrawals> logger)
{
    public const string Surface = "print";
    public const string Sequence = "print-withdrawal";
    public const string PayoutKeyPrefix = "withdraw-";

    private TableClient Table => storage.Table(UserDirectory.TableName);

    public static string HoldKey(long withdrawalId) => WalletKeys.Withdrawal + withdrawalId.ToString(CultureInfo.InvariantCulture);

    public static string PaidKey(long withdrawalId) => HoldKey(withdrawalId) + "-paid";

    public static string ReleasedKey(long withdrawalId) => HoldKey(withdrawalId) + "-released";

    public static string ReturnedKey(long withdrawalId) => WalletKeys.Refund + "withdraw-" + withdrawalId.ToString(CultureInfo.InvariantCulture);

    public static string Owner(long userId) => "user-" + userId.ToString(CultureInfo.InvariantCulture);

    public static string PayoutKey(long withdrawalId) => PayoutKeyPrefix + withdrawalId.ToString(CultureInfo.InvariantCulture);

    public Task<WithdrawalRow?> FindAsync(long userId, long withdrawalId, CancellationToken cancellationToken = default) =>
        Table.FindAsync<WithdrawalRow>(AccountKeys.Partition(userId), PayoutKeys.Withdrawal(withdrawalId), cancellationToken);

    public async Task<(WithdrawOutcome Outcome, WithdrawalRow? Withdrawal)> WithdrawAsync(WithdrawalRequest request, CancellationToken cancellationToken)
    {
        var id = await ids.NextAsync(Sequence, cancellationToken);
        var now = time.GetUtcNow();
        var account = PrintWallets.Account(request.UserId);
        var row = new WithdrawalRow
        {
            PartitionKey = AccountKeys.Partition(request.UserId), RowKey = PayoutKeys.Withdrawal(id), Id = id, UserId = request.UserId,
            AmountMinor = request.AmountMinor, AccountLast4 = request.AccountNumber[^4..], Ifsc = request.Ifsc, HolderName = request.HolderName,
            PayoutId = Platform.Payments.PayoutRow.IdFor(Surface, Owner(request.UserId), PayoutKey(id)), CreatedAt = now, UpdatedAt = now,
        };
        var held = await ledger.HoldAsync(account, HoldKey(id), request.AmountMinor, step => step.Insert(row),
            memo: "Withdrawal to bank account ending " + row.AccountLast4, cancellationToken: cancellationToken);
        if (held.Status == MovementStatus.InsufficientFunds)
            return (WithdrawOutcome.InsufficientBalance, null);
        if (!held.Moved)
            throw new InvalidOperationException($"Withdrawal {id}: the hold was not applied ({held.Status}).");

        var (outcome, _) = await payouts.RequestAsync(new PayoutOrder(Surface, Owner(request.UserId), PayoutKey(id), request.AmountMinor,
            PrintMoney.Currency, new PayoutBankAccount(request.HolderName, request.Ifsc, request.AccountNumber), request.HolderName, request.Email,
            Narration: "Wallet withdrawal"), cancellationToken);
        if (outcome == PayoutOutcome.NoProvider)
        {
            logger.LogWarning("Withdrawal {Withdrawal}: no payout provider is configured; the hold is released", id);
            await FailAsync(request.UserId, id, "Payouts are not available.", cancellationToken);
            return (WithdrawOutcome.Unavailable, await FindAsync(request.UserId, id, cancellationToken));
        }
        return (WithdrawOutcome.Requested, await FindAsync(request.UserId, id, cancellationToken) ?? row);
    }

    /// <summary>Applies one move of a withdrawal's payout; repeats (and moves met out of order) change nothing twice.</summary>
    public async Task ApplyAsync(long userId, long withdrawalId, string payoutStatus, string? failureReason, string? utr,
        CancellationToken cancellationToken)
    {
        if (WithdrawalStatus.FromPayout(payoutStatus) is not { } status)
            return;
        var account = PrintWallets.Account(userId);
        var row = await FindAsync(userId, withdrawalId, cancellationToken);
        if (row is null)
        {
            logger.LogError("Payout for withdrawal {Withdrawal} of user {User}: no such withdrawal", withdrawalId, userId);
            return;
        }
        switch (status)
        {
            case WithdrawalStatus.Processed:
                await Expect(ledger.CaptureAsync(account, HoldKey(withdrawalId), PaidKey(withdrawalId), row.AmountMinor,
                    memo: "Withdrawal paid out", cancellationToken: cancellationToken), PaidKey(withdrawalId));
                break;
            case WithdrawalStatus.Failed:
                await Expect(ledger.ReleaseAsync(account, HoldKey(withdrawalId), ReleasedKey(withdrawalId),
                    memo: "Withdrawal failed: money back in the wallet", cancellationToken: cancellationToken), ReleasedKey(withdrawalId));
                break;
            case WithdrawalStatus.Reversed:
                // Still held (reversed before our capture): release; captured: credit it back. Either way once.
                await Expect(ledger.ReleaseAsync(account, HoldKey(withdrawalId), ReleasedKey(withdrawalId),
                    memo: "Withdrawal reversed: money back in the wallet", cancellationToken: cancellationToken), ReleasedKey(withdrawalId));
                if (await ledger.FindMovementAsync(account, PaidKey(withdrawalId), cancellationToken) is not null)
                    await Expect(ledger.CreditAsync(account, ReturnedKey(withdrawalId), row.AmountMinor,
                        memo: "Withdrawal reversed by the bank: money back in the wallet", cancellationToken: cancellationToken), ReturnedKey(withdrawalId));
                break;
        }
        await MarkAsync(userId, withdrawalId, status, failureReason, utr, cancellationToken);
    }

    /// <summary>A refusal that means the move was already made another way (the hold used up) is fine; anything else is not.</summary>
    private async Task Expect(Task<MovementResult> movement, string key)
    {
        var result = await movement;
        if (result.Moved || result.Status is MovementStatus.ExceedsReference)
            return;
        logger.LogError("Withdrawal movement {Key}: {Status}", key, result.Status);
        throw new InvalidOperationException($"Withdrawal movement {key} was not applied: {result.Status}.");
    }

    private async Task FailAsync(long userId, long withdrawalId, string reason, CancellationToken cancellationToken)
    {
        await Expect(ledger.ReleaseAsync(PrintWallets.Account(userId), HoldKey(withdrawalId), ReleasedKey(withdrawalId),
            memo: "Withdrawal failed: money back in the wallet", cancellationToken: cancellationToken), ReleasedKey(withdrawalId));
        await MarkAsync(userId, withdrawalId, WithdrawalStatus.Failed, reason, null, cancellationToken);
    }

    private Task MarkAsync(long userId, long withdrawalId, string status, string? failureReason, string? utr, CancellationToken cancellationToken) =>
        transitions.ApplyAsync<WithdrawalRow, bool>(Table, AccountKeys.Partition(userId), PayoutKeys.Withdrawal(withdrawalId), change =>
        {
            // Moves may arrive out of order: one backwards (processing after processed) says nothing new.
            if (change.Current is not { } current || current.Status == status || !WithdrawalStatus.Machine.Allows(current.Status, status))
                return false;
            change.Write(current with
            {
                Status = status, FailureReason = failureReason ?? current.FailureReason, Utr = utr ?? current.Utr, UpdatedAt = time.GetUtcNow(),
            });
            return true;
        }, cancellationToken);
}

/// <summary>The print surface's side of its payouts: withdrawals (key <c>withdraw-{id}</c>, owner <c>user-{id}</c>).</summary>
public sealed class WithdrawalPayoutHandler(Withdrawals withdrawals, ILogger<WithdrawalPayoutHandler> logger) : IPayoutHandler
{
    public string Surface => Withdrawals.Surface;

    public Task OnChangedAsync(PayoutEvent change, CancellationToken cancellationToken)
    {
        if (!change.Key.StartsWith(Withdrawals.PayoutKeyPrefix, StringComparison.Ordinal)
            || !long.TryParse(change.Key.AsSpan(Withdrawals.PayoutKeyPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var withdrawalId)
            || !change.Owner.StartsWith("user-", StringComparison.Ordinal)
            || !long.TryParse(change.Owner.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var userId))
        {
            logger.LogWarning("Ignoring print payout {Payout} with key {Key} and owner {Owner}", change.PayoutId, change.Key, change.Owner);
            return Task.CompletedTask;
        }
        return withdrawals.ApplyAsync(userId, withdrawalId, change.Status, change.FailureReason, change.Utr, cancellationToken);
    }
}
