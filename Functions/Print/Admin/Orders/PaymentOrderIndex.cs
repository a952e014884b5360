using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Print.Admin.Orders;

/// <summary>
/// One row per payment order of every customer, for the admin listing: PK = the creation month and a shard
/// (<c>yyyyMM-{id % 8}</c>, so no month funnels every order through one partition), RK = the order id counted down
/// (newest first, like the order's own key). It holds only the facts that never change; status and amounts are
/// read from the order itself.
/// </summary>
public sealed record PaymentOrderIndexRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long UserId { get; set; }
    public long OrderId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// Writes and names the index rows. <see cref="Payments.PaymentOrders.CreateAsync"/> writes the row before the order,
/// so every order is indexed; a row whose order was never written (the create failed in between) is skipped by the
/// listing, so nothing has to clean it up.
/// </summary>
public static class PaymentOrderIndex
{
    public const string TableName = "printorderindex";
    public const int Shards = 8;

    /// <summary>The bounds of every row key (19 digits), for range queries within a partition.</summary>
    public const string FirstRowKey = "0000000000000000000";
    public const string LastRowKey = "9999999999999999999";

    public static string PartitionFor(DateTimeOffset createdAt, long orderId) =>
        Partition(createdAt.UtcDateTime.Year, createdAt.UtcDateTime.Month, (int)(orderId % Shards));

    public static string Partition(int year, int month, int shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{year:D4}{month:D2}-{shard}");

    public static string RowKeyFor(long orderId) => TableKeys.Number(long.MaxValue - orderId);

    /// <summary>One write, safe to repeat: the same order always gets the same row.</summary>
    public static async Task AddAsync(StorageAccount storage, long userId, long orderId, DateTimeOffset createdAt, CancellationToken cancellationToken) =>
        await storage.Table(TableName).UpsertEntityAsync(new PaymentOrderIndexRow
        {
            PartitionKey = PartitionFor(createdAt, orderId), RowKey = RowKeyFor(orderId), UserId = userId, OrderId = orderId, CreatedAt = createdAt,
        }, TableUpdateMode.Replace, cancellationToken);
}
