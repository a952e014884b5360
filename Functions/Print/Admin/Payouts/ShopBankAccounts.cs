using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Admin.Payouts;

/// <summary>
/// The bank account a shop is paid to: RK <c>print-bank-account</c> in the shopkeeper's partition of the users
/// table, so deleting the account deletes it too. Only the account number's last four digits are kept.
/// </summary>
public sealed record ShopBankAccountRow : ITableEntity
{
    public const string Key = AccountKeys.RowPrefix + "bank-account";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Key;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long ShopkeeperId { get; set; }
    public string AccountLast4 { get; set; } = "";
    public string Ifsc { get; set; } = "";
    public string HolderName { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The account number as shown anywhere: all but the last four digits hidden.</summary>
    public string Masked => ShopBankAccounts.Mask(AccountLast4);
}

/// <summary>Shops' bank accounts for the payout export; a shop replaces its own with each save.</summary>
public sealed class ShopBankAccounts(StorageAccount storage, TimeProvider time)
{
    private TableClient Table => storage.Table(UserDirectory.TableName);

    public static string Mask(string? last4) => string.IsNullOrEmpty(last4) ? "" : "XXXXXX" + last4;

    public Task<ShopBankAccountRow?> FindAsync(long shopkeeperId, CancellationToken cancellationToken = default) =>
        Table.FindAsync<ShopBankAccountRow>(AccountKeys.Partition(shopkeeperId), ShopBankAccountRow.Key, cancellationToken);

    /// <summary>Saves the shop's account (no status, no balance: the newest save is the account).</summary>
    public async Task<ShopBankAccountRow> SaveAsync(long shopkeeperId, string accountNumber, string ifsc, string holderName,
        CancellationToken cancellationToken = default)
    {
        var row = new ShopBankAccountRow
        {
            PartitionKey = AccountKeys.Partition(shopkeeperId), ShopkeeperId = shopkeeperId, AccountLast4 = accountNumber[^4..], Ifsc = ifsc,
            HolderName = holderName, UpdatedAt = time.GetUtcNow(),
        };
        await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        return row;
    }
}
