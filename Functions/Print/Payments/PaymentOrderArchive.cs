using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Payments;

/// <summary>
/// When a customer deletes their account, their payment orders stay as payment records (the document's rule) with the
/// user reference removed: copied into the archive table without the user id, then removed from the account's
/// partition. Idempotent: a deletion retried from the start copies the same rows again.
/// </summary>
public sealed class PaymentOrderArchive(StorageAccount storage) : IPrintAccountCleanup
{
    public const string TableName = "printorderarchive";
    public const string Partition = "deleted-accounts";

    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        var users = storage.Table(UserDirectory.TableName);
        var archive = storage.Table(TableName);
        var rows = new List<ITableEntity>();
        await foreach (var order in users.QueryAsync<PaymentOrderRow>(AccountKeys.StartsWith(userId, PaymentOrderRow.Prefix), cancellationToken: cancellationToken))
        {
            await archive.UpsertEntityAsync(order with
            {
                PartitionKey = Partition, RowKey = PaymentOrderRow.Prefix + order.Id.ToString("D19", System.Globalization.CultureInfo.InvariantCulture),
                UserId = 0, Comment = null, ETag = default,
            }, TableUpdateMode.Replace, cancellationToken);
            await Admin.Orders.PaymentOrderIndex.AddAsync(storage, 0, order.Id, order.CreatedAt, cancellationToken); // the admin listing's index forgets the user too
            rows.Add(order);
        }
        await foreach (var reference in users.QueryAsync<PaymentOrderRef>(AccountKeys.StartsWith(userId, PaymentOrderRow.RefPrefix), cancellationToken: cancellationToken))
            rows.Add(reference);
        await users.DeleteRowsAsync(rows, cancellationToken);
    }
}
