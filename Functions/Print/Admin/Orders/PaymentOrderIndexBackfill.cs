using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Payments;

namespace Serverless.Print.Admin.Orders;

/// <summary>
/// Indexes the payment orders made before the index existed, once per deployment: a start-up task guarded by a marker
/// row in the index table (once it exists, a start costs one read). It scans the users table for order rows (one
/// pass over every partition, by row key range) and the archive of deleted accounts (indexed without the user), and
/// writes each index row as <see cref="PaymentOrderIndex.AddAsync"/> would: the same facts, so racing a create or
/// running twice changes nothing.
/// </summary>
public sealed class PaymentOrderIndexBackfill(StorageAccount storage, TimeProvider time, ILogger<PaymentOrderIndexBackfill> logger) : IOnceStartupTask
{
    /// <summary>No index partition: those start with a year.</summary>
    public const string MarkerPartition = "!migrations";
    public const string MarkerKey = "payment-order-index";

    private volatile bool _finished;

    public string Name => "PaymentOrderIndex";

    public bool Finished => _finished;

    public void FinishedBefore() => _finished = true;

    private static readonly string[] Facts = ["PartitionKey", "RowKey", "Id", "UserId", "CreatedAt"];

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var index = storage.Table(PaymentOrderIndex.TableName);
        if (await index.FindAsync<TableEntity>(MarkerPartition, MarkerKey, cancellationToken) is not null)
        {
            _finished = true;
            return;
        }
        var rows = new List<PaymentOrderIndexRow>();
        var (first, last) = (PaymentOrderRow.Prefix, PaymentOrderRow.Prefix + '\uffff');
        var orders = TableClient.CreateQueryFilter($"RowKey ge {first} and RowKey lt {last}");
        await foreach (var order in storage.Table(UserDirectory.TableName).QueryAsync<TableEntity>(orders, select: Facts, cancellationToken: cancellationToken))
            rows.Add(Row(order, order.GetInt64("UserId") ?? 0));
        var archived = TableClient.CreateQueryFilter($"PartitionKey eq {PaymentOrderArchive.Partition} and RowKey ge {first} and RowKey lt {last}");
        await foreach (var order in storage.Table(PaymentOrderArchive.TableName).QueryAsync<TableEntity>(archived, select: Facts,
                           cancellationToken: cancellationToken))
            rows.Add(Row(order, 0));
        await index.UpsertRowsAsync(rows, cancellationToken);
        var marker = new TableEntity(MarkerPartition, MarkerKey) { ["At"] = time.GetUtcNow(), ["Orders"] = rows.Count };
        await index.UpsertEntityAsync(marker, TableUpdateMode.Replace, cancellationToken);
        _finished = true;
        if (rows.Count > 0)
            logger.LogInformation("Indexed {Count} payment orders made before the admin orders index", rows.Count);
    }

    private static PaymentOrderIndexRow Row(TableEntity order, long userId)
    {
        var id = order.GetInt64("Id") ?? 0;
        var createdAt = order.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.UnixEpoch;
        return new PaymentOrderIndexRow
        {
            PartitionKey = PaymentOrderIndex.PartitionFor(createdAt, id), RowKey = PaymentOrderIndex.RowKeyFor(id), UserId = userId, OrderId = id,
            CreatedAt = createdAt,
        };
    }
}
