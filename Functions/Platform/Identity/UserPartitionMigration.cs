using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Identity;

/// <summary>
/// How a surface's rows of the old shared <c>users</c> partition map to the layout of <see cref="UserDirectory"/>:
/// the new keys of a row the surface wrote there, or null when the row is not the surface's.
/// </summary>
public interface ILegacyUserRowMap
{
    (string PartitionKey, string RowKey)? Map(string rowKey);
}

/// <summary>
/// Moves users from the one partition they all shared (<c>users</c>: <c>id-{id}</c> accounts, identifier rows and the
/// surfaces' rows beside them) to a partition per user and a claim partition per identifier. Runs at start-up, before
/// the first admin is looked for; once done, a marker row makes every later start cost one read.
/// Safe to run twice and on several instances at once: one instance holds a lease while the others wait for the
/// marker; rows are copied insert-if-absent (a copy that exists already, perhaps changed since, is left alone), and
/// the old rows are deleted only after all of them are copied, so a run cut short is finished by the next one.
/// </summary>
public sealed class UserPartitionMigration(StorageAccount storage, TimeProvider time, IEnumerable<ILegacyUserRowMap> surfaces,
    ILogger<UserPartitionMigration> logger) : IOnceStartupTask
{
    public const string LegacyPartition = "users";
    public const string MarkerPartition = "migrations";
    public const string MarkerRow = "user-partitions";
    private const string LeaseRow = "user-partitions-lease";
    private static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(5);
    private static readonly string[] IdentifierPrefixes = ["username-", "email-", "phone-"];

    private TableClient Table => storage.Table(UserDirectory.TableName);

    private volatile bool _finished;

    public string Name => "UserPartitions";

    public bool Finished => _finished;

    public void FinishedBefore() => _finished = true;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await MoveOnceAsync(cancellationToken);
        _finished = true;
    }

    private async Task MoveOnceAsync(CancellationToken cancellationToken)
    {
        if (await IsDoneAsync(cancellationToken))
            return;
        var lease = await AcquireLeaseAsync(cancellationToken);
        // Null: another instance finished the move meanwhile.
        if (lease is null)
            return;
        var moved = await MoveAsync(cancellationToken);
        await Table.UpsertEntityAsync(new TableEntity(MarkerPartition, MarkerRow) { ["MovedRows"] = moved, ["At"] = time.GetUtcNow() },
            TableUpdateMode.Replace, cancellationToken);
        await DeleteQuietlyAsync(MarkerPartition, LeaseRow, lease.Value, cancellationToken);
        if (moved > 0)
            logger.LogInformation("Moved {Rows} rows from the shared users partition to per-user partitions", moved);
    }

    /// <summary>The new keys of a row of the old shared partition, or null for a row nobody claims.</summary>
    public (string PartitionKey, string RowKey)? Map(string rowKey)
    {
        if (rowKey.StartsWith("id-", StringComparison.Ordinal) && long.TryParse(rowKey.AsSpan(3), out var id))
            return (UserDirectory.PartitionOf(id), UserDirectory.AccountRow);
        if (IdentifierPrefixes.Any(p => rowKey.StartsWith(p, StringComparison.Ordinal)))
            return (rowKey, UserDirectory.ClaimRow);
        return surfaces.Select(s => s.Map(rowKey)).FirstOrDefault(m => m is not null);
    }

    private async Task<bool> IsDoneAsync(CancellationToken cancellationToken) =>
        (await Table.GetEntityIfExistsAsync<TableEntity>(MarkerPartition, MarkerRow, ["PartitionKey"], cancellationToken)).HasValue;

    /// <summary>This instance's lease (its ETag), or null when another instance finished the move meanwhile.</summary>
    private async Task<ETag?> AcquireLeaseAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            var lease = new TableEntity(MarkerPartition, LeaseRow) { ["ExpiresAt"] = now + LeaseTime };
            try
            {
                return (await Table.AddEntityAsync(lease, cancellationToken)).Headers.ETag;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
            }
            var held = await Table.FindAsync<TableEntity>(MarkerPartition, LeaseRow, cancellationToken);
            if (held?.GetDateTimeOffset("ExpiresAt") is { } expires && expires <= now)
            {
                // Its holder stopped half-way: take over, and finish its work.
                try
                {
                    return (await Table.UpdateEntityAsync(lease, held.ETag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                }
            }
            if (await IsDoneAsync(cancellationToken))
                return null;
            // Another instance is moving the rows: wait for its marker.
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private async Task<int> MoveAsync(CancellationToken cancellationToken)
    {
        var old = new List<TableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {LegacyPartition}"),
                           cancellationToken: cancellationToken))
            old.Add(row);

        var moved = new List<TableEntity>();
        foreach (var row in old)
        {
            if (Map(row.RowKey) is not var (partitionKey, rowKey))
            {
                logger.LogWarning("Row {RowKey} of the shared users partition belongs to no surface; left where it is", row.RowKey);
                continue;
            }
            var copy = new TableEntity(partitionKey, rowKey);
            foreach (var (name, value) in row)
            {
                if (name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
                    copy[name] = value;
            }
            // Present already: copied by an earlier run, and perhaps changed since; the copy wins.
            await Table.TryAddAsync(copy, cancellationToken);
            moved.Add(row);
        }
        foreach (var row in moved)
            await DeleteQuietlyAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
        return moved.Count;
    }

    private async Task DeleteQuietlyAsync(string partitionKey, string rowKey, ETag? etag, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(partitionKey, rowKey, etag ?? ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
        }
    }
}
