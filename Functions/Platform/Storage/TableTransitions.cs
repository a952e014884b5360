using Azure;
using Azure.Data.Tables;

namespace Serverless.Platform.Storage;

/// <summary>
/// Row helpers over the transition seam (<see cref="TransitionSeam"/>) for rows whose new state is all a caller needs:
/// read, decide the next row, write it with the ETag read, re-decide on 412, 409 after the seam's bounded retries.
/// </summary>
public static class TableTransitions
{
    public const int MaxAttempts = TransitionSeam.MaxAttempts;

    /// <summary>
    /// Applies <paramref name="transition"/> to the current row. The transition returns the row to write, or null to
    /// leave it as it is. Returns the row as stored afterwards, or null when the row does not exist.
    /// </summary>
    public static async Task<T?> TransitionAsync<T>(
        this TableClient table,
        string partitionKey,
        string rowKey,
        Func<T, T?> transition,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        (await TransitionSeam.ApplyAsync<T, bool>(table, partitionKey, rowKey, null, c => Next(c, transition), null, cancellationToken)).Row;

    /// <summary>
    /// The same, starting from <paramref name="current"/>, a row just read (or written) with its ETag: the first
    /// decision costs no read, and a 412 re-reads as usual.
    /// </summary>
    public static async Task<T?> TransitionAsync<T>(this TableClient table, T current, Func<T, T?> transition,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        (await TransitionSeam.ApplyAsync<T, bool>(table, current.PartitionKey, current.RowKey, current, c => Next(c, transition), null,
            cancellationToken)).Row;

    /// <summary>
    /// A decision on the row (or on its absence) that returns its outcome, for rows whose changes publish nothing;
    /// see <see cref="TransitionSeam"/>. Changes that publish events go through the <see cref="Transitions"/> service.
    /// </summary>
    public static Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(this TableClient table, string partitionKey, string rowKey,
        Func<Change<T>, TOutcome> decide, CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionSeam.ApplyAsync(table, partitionKey, rowKey, null, decide, null, cancellationToken);

    /// <summary>The same with a decision that reads the rows it depends on (again after every lost race).</summary>
    public static Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(this TableClient table, string partitionKey, string rowKey,
        Func<Change<T>, ValueTask<TOutcome>> decide, CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionSeam.ApplyAsync(table, partitionKey, rowKey, null, decide, null, cancellationToken);

    /// <summary>
    /// Inserts rows whose content is the same whoever writes them (rows replayed by a migration), up to 100 to a
    /// transaction; a transaction that meets a row already there goes on one row at a time, leaving that row as it is.
    /// </summary>
    public static async Task AddAllOnceAsync(this TableClient table, IReadOnlyCollection<ITableEntity> rows, CancellationToken cancellationToken = default)
    {
        foreach (var chunk in rows.Chunk(100))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409)
            {
                foreach (var row in chunk)
                    await table.TryAddAsync(row, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Writes rows nobody decides on (index rows a backfill rebuilds) whatever is there: grouped by partition, 100 to a
    /// transaction, so a retry writes the same rows again and changes nothing.
    /// </summary>
    public static async Task UpsertRowsAsync(this TableClient table, IEnumerable<ITableEntity> rows, CancellationToken cancellationToken = default)
    {
        foreach (var partition in rows.GroupBy(r => r.PartitionKey, StringComparer.Ordinal))
        {
            foreach (var chunk in partition.Chunk(100))
                await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)),
                    cancellationToken);
        }
    }

    /// <summary>
    /// Inserts new rows of one operation (all stamped with its <see cref="IStampedRow.OperationId"/>), 100 to a
    /// transaction per partition. A transaction whose answer was lost meets its own rows on the SDK's retry (409):
    /// its first row carries this operation's id, so it counts as written; rows of another operation stay a conflict.
    /// </summary>
    public static async Task AddRowsOnceAsync<T>(this TableClient table, IReadOnlyCollection<T> rows, CancellationToken cancellationToken = default)
        where T : class, IStampedRow
    {
        foreach (var partition in rows.GroupBy(r => r.PartitionKey, StringComparer.Ordinal))
        {
            foreach (var batch in partition.Chunk(100))
            {
                try
                {
                    await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 409)
                {
                    // A transaction is all or nothing: its first row tells whether the batch met its own earlier attempt.
                    var first = await table.FindAsync<T>(batch[0].PartitionKey, batch[0].RowKey, cancellationToken);
                    if (first?.OperationId is null || first.OperationId != batch[0].OperationId)
                        throw;
                }
            }
        }
    }

    /// <summary>
    /// Deletes rows nobody decides on any more (spent tokens, a deleted account's leftovers), whatever their ETag,
    /// 100 to a transaction; rows of one partition only. A row already gone is no error.
    /// </summary>
    public static async Task DeleteRowsAsync(this TableClient table, IReadOnlyCollection<ITableEntity> rows, CancellationToken cancellationToken = default)
    {
        foreach (var batch in rows.Chunk(100))
        {
            try
            {
                await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)),
                    cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // One of them went meanwhile (a parallel clean-up): delete the rest one by one.
                foreach (var row in batch)
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            }
        }
    }

    private static bool Next<T>(Change<T> change, Func<T, T?> transition) where T : class, ITableEntity
    {
        if (change.Current is null)
            return false;
        var next = transition(change.Current);
        if (next is null || ReferenceEquals(next, change.Current))
            return false;
        change.Write(next);
        return true;
    }

    /// <summary>Inserts a row; false when one with the same keys exists already.</summary>
    public static async Task<bool> TryAddAsync<T>(this TableClient table, T entity, CancellationToken cancellationToken = default)
        where T : class, ITableEntity
    {
        try
        {
            var response = await table.AddEntityAsync(entity, cancellationToken);
            entity.ETag = response.Headers.ETag ?? entity.ETag;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>
    /// Inserts a row under keys the caller has just made unique (a new random id). The SDK retries an insert whose
    /// answer was lost (a network timeout, a dropped connection); when storage had done the first attempt, the retry
    /// meets that row as 409. So a 409 reads the row back: when <paramref name="isThisInsert"/> recognises it, the
    /// insert is done; any other row under those keys is a real conflict and the 409 is thrown.
    /// </summary>
    public static async Task AddOnceAsync<T>(this TableClient table, T entity, Func<T, bool> isThisInsert,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity
    {
        try
        {
            var response = await table.AddEntityAsync(entity, cancellationToken);
            entity.ETag = response.Headers.ETag ?? entity.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var stored = await table.FindAsync<T>(entity.PartitionKey, entity.RowKey, cancellationToken);
            if (stored is null || !isThisInsert(stored))
                throw;
            entity.ETag = stored.ETag;
        }
    }

    /// <summary>The longest partition or row key the table service stores (1 KiB); a longer one names no row.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>
    /// Reads a row, or null. A key longer than the service stores (an id from a path or body, unchecked) names no row:
    /// it is not sent, since the service refuses such a request (431 or 400) instead of finding nothing.
    /// </summary>
    public static async Task<T?> FindAsync<T>(this TableClient table, string partitionKey, string rowKey,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity
    {
        if (partitionKey.Length > MaxKeyLength || rowKey.Length > MaxKeyLength)
            return null;
        var read = await table.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return read.HasValue ? read.Value : null;
    }
}

/// <summary>Too many concurrent writers to one entity: answered 409, and safe for the client to retry.</summary>
public sealed class ConcurrencyConflictException(string message, Exception? inner = null) : Exception(message, inner);
