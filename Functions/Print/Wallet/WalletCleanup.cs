using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Wallet;

/// <summary>
/// A wallet with money in it cannot be deleted silently: an account whose wallet holds an available or held balance
/// is refused deletion (400 <c>wallet_not_empty</c>) with the balance in rupees and how to withdraw it.
/// </summary>
public sealed class WalletDeletionCheck(PrintWallets wallets) : IPrintAccountDeletionCheck
{
    public const string Code = "wallet_not_empty";

    public async Task<DeletionRefusal?> RefusalAsync(long userId, CancellationToken cancellationToken)
    {
        var balance = await wallets.BalanceAsync(userId, cancellationToken);
        return balance.Available > 0 || balance.Held > 0 ? Refusal(balance.Available, balance.Held) : null;
    }

    public static DeletionRefusal Refusal(long availableMinor, long heldMinor)
    {
        var message = $"Your wallet still holds {Rupees(availableMinor + heldMinor)}";
        if (heldMinor > 0)
            message += $" ({Rupees(availableMinor)} available, {Rupees(heldMinor)} held for payments in progress)";
        message += ". Withdraw it to your bank account with POST /wallet/withdraw";
        if (heldMinor > 0)
            message += " once the held payments have finished";
        return new DeletionRefusal(Code, message + ", then delete your account.");
    }

    private static string Rupees(long paise) => "₹" + PrintMoney.Rupees(paise).ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>
/// Removes a deleted account's wallet: the ledger rows of the user's partition (<c>ledger|balance</c>, its statement
/// and movement rows). Only an empty wallet is removed: the balance row goes first, conditionally on the empty one
/// read, so money credited in between keeps the account (409, and a retry is refused by <see cref="WalletDeletionCheck"/>).
/// </summary>
public sealed class WalletCleanup(StorageAccount storage) : IPrintAccountCleanup
{
    /// <summary>Every row key of the ledger starts with this.</summary>
    public const string LedgerPrefix = "ledger|";

    private static readonly string[] KeysOnly = ["PartitionKey", "RowKey"];

    private TableClient Table => storage.Table(UserDirectory.TableName);

    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        var partition = AccountKeys.Partition(userId);
        if (await Table.FindAsync<LedgerBalanceRow>(partition, LedgerBalanceRow.Key, cancellationToken) is { } balance)
        {
            if (balance.Available > 0 || balance.Held > 0)
                throw new ConcurrencyConflictException("Money reached the wallet while the account was being deleted; try again.");
            try
            {
                await Table.DeleteEntityAsync(partition, LedgerBalanceRow.Key, balance.ETag, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                throw new ConcurrencyConflictException("The wallet changed while the account was being deleted; try again.", ex);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Removed already (a retried deletion).
            }
        }

        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {LedgerPrefix} and RowKey lt {LedgerPrefix + '\uffff'}");
        var rows = new List<ITableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: KeysOnly, cancellationToken: cancellationToken))
            rows.Add(row);
        await Table.DeleteRowsAsync(rows, cancellationToken);
    }
}
