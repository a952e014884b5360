using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Wallet;

namespace Serverless.Print.Admin.Users;

/// <summary>
/// What an admin-forced deletion owes a user: the wallet's available balance leaves the wallet through the ledger
/// (a debit with key <c>forced-refund-{userId}</c>) and is credited, under the same key, to the platform's own ledger
/// account "forced refunds owed" (partition <see cref="OwedPartition"/> of table <see cref="TableName"/>), with a row
/// per user (<c>owed|{id:D19}</c>: who, how much, when) that the operator settles by paying the user outside the app.
/// The key makes both movements happen once however often a deletion is retried.
/// </summary>
public sealed class ForcedRefunds(Ledger ledger, TimeProvider time)
{
    public const string TableName = "printforcedrefunds";
    public const string OwedPartition = "forced-refunds-owed";
    public const string KeyPrefix = "forced-refund-";

    public static readonly LedgerAccount Owed = new(TableName, OwedPartition, PrintMoney.Currency);

    public static string Key(long userId) => KeyPrefix + userId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string OwedRow(long userId) => "owed|" + TableKeys.Number(userId);

    /// <summary>
    /// Moves the wallet's available balance to the owed account, once: a second call finds the wallet's movement and
    /// only makes sure the owed account has its credit. Returns the amount moved (paise), 0 for an empty wallet.
    /// </summary>
    public async Task<long> MoveToOwedAsync(UserAccount user, PrintProfile profile, CancellationToken cancellationToken = default)
    {
        var key = Key(user.Id);
        var wallet = PrintWallets.Account(user.Id);
        var debit = await ledger.FindMovementAsync(wallet, key, cancellationToken);
        if (debit is null)
        {
            var balance = await ledger.BalanceAsync(wallet, cancellationToken);
            if (balance.Available == 0)
                return 0;
            var moved = await ledger.DebitAsync(wallet, key, balance.Available,
                memo: "Forced refund: the account was deleted by an admin; the balance is owed to the user", cancellationToken: cancellationToken);
            debit = moved.Status switch
            {
                MovementStatus.Applied or MovementStatus.AlreadyApplied => moved.Movement ?? await ledger.FindMovementAsync(wallet, key, cancellationToken),
                // A parallel deletion moved it first (with the balance it read).
                MovementStatus.KeyConflict => await ledger.FindMovementAsync(wallet, key, cancellationToken),
                _ => throw new ConcurrencyConflictException("The wallet changed while its balance was being refunded; try again."),
            };
            if (debit is null)
                throw new ConcurrencyConflictException("The wallet changed while its balance was being refunded; try again.");
        }

        var credited = await ledger.CreditAsync(Owed, key, debit.Amount, step => step.Upsert(new ForcedRefundRow
        {
            PartitionKey = OwedPartition,
            RowKey = OwedRow(user.Id),
            UserId = user.Id,
            Username = profile.Username ?? user.Username,
            Email = profile.Email ?? user.Email,
            Phone = profile.Phone ?? user.Phone,
            FullName = profile.FullName,
            AmountMinor = debit.Amount,
            At = time.GetUtcNow(),
        }), memo: $"Owed to user {user.Id} ({user.Username ?? user.Email}): wallet balance at deletion by an admin", cancellationToken: cancellationToken);
        if (!credited.Moved)
            throw new InvalidOperationException($"The forced refund of user {user.Id} could not be credited to the owed account: {credited.Status}.");
        return debit.Amount;
    }

    public Task<LedgerBalance> OwedBalanceAsync(CancellationToken cancellationToken = default) => ledger.BalanceAsync(Owed, cancellationToken);
}

/// <summary>One user's forced refund, waiting for the operator to pay it out (the ledger's statement has the movement).</summary>
public sealed record ForcedRefundRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public string? Username { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string FullName { get; set; } = "";
    public long AmountMinor { get; set; }
    public DateTimeOffset At { get; set; }
}
