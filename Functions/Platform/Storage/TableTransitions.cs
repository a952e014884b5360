using Azure;
using Azure.Data.Tables;

namespace Serverless.Platform.Storage;

/// <summary>
/// ETag-conditional state changes. Read, decide, write with the ETag that was read; when someone else wrote in
/// between (412), read again and decide again, a bounded number of times, then report a conflict (409).
/// Never last-writer-wins on an entity with a status or a balance.
/// </summary>
public static class TableTransitions
{
    public const int MaxAttempts = 5;

    /// <summary>
    /// Applies <paramref name="transition"/> to the current row. The transition returns the row to write, or null to
    /// leave it as it is. Returns the row as stored afterwards, or null when the row does not exist.
    /// </summary>
    public static Task<T?> TransitionAsync<T>(
        this TableClient table,
        string partitionKey,
        string rowKey,
        Func<T, T?> transition,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionAsync(table, partitionKey, rowKey, null, transition, cancellationToken);

    /// <summary>
    /// The same, starting from <paramref name="current"/>, a row just read (or written) with its ETag: the first
    /// decision costs no read, and a 412 re-reads as usual.
    /// </summary>
    public static Task<T?> TransitionAsync<T>(this TableClient table, T current, Func<T, T?> transition,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionAsync(table, current.PartitionKey, current.RowKey, current, transition, cancellationToken);

    private static async Task<T?> TransitionAsync<T>(
        TableClient table,
        string partitionKey,
        string rowKey,
        T? known,
        Func<T, T?> transition,
        CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = attempt == 1 ? known : null;
            if (current is null)
            {
                var read = await table.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
                if (!read.HasValue || read.Value is null)
                    return null;
                current = read.Value;
            }
            var next = transition(current);
            if (next is null || ReferenceEquals(next, current))
                return current;
            try
            {
                var response = await table.UpdateEntityAsync(next, current.ETag, TableUpdateMode.Replace, cancellationToken);
                next.ETag = response.Headers.ETag ?? next.ETag;
                return next;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxAttempts)
            {
                // Lost a race: decide again on what is there now.
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                throw new ConcurrencyConflictException(
                    $"The {typeof(T).Name} was changed by another request {MaxAttempts} times in a row; try again.", ex);
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode == "ResourceNotFound")
            {
                return null;
            }
        }
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

    /// <summary>Reads a row, or null.</summary>
    public static async Task<T?> FindAsync<T>(this TableClient table, string partitionKey, string rowKey,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity
    {
        var read = await table.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return read.HasValue ? read.Value : null;
    }
}

/// <summary>Too many concurrent writers to one entity: answered 409, and safe for the client to retry.</summary>
public sealed class ConcurrencyConflictException(string message, Exception? inner = null) : Exception(message, inner);
