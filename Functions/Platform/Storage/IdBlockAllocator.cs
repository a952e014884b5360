using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;

namespace Serverless.Platform.Storage;

/// <summary>
/// Integer ids without one storage write per id: each instance reserves a block of ids with one ETag-conditional
/// update of a counter row and hands them out from memory. Ids are unique and increasing per instance; a block an
/// instance did not finish (it stopped) leaves a gap, which clients of these APIs never rely on.
/// </summary>
public sealed class IdBlockAllocator(StorageAccount storage, int blockSize = IdBlockAllocator.DefaultBlockSize)
{
    public const int DefaultBlockSize = 32;
    public const string TableName = "counters";
    private const string RowKey = "block";

    private readonly ConcurrentDictionary<string, Sequence> _sequences = new(StringComparer.Ordinal);

    public async Task<long> NextAsync(string sequenceName, CancellationToken cancellationToken = default)
    {
        var sequence = _sequences.GetOrAdd(sequenceName, _ => new Sequence());
        await sequence.Gate.WaitAsync(cancellationToken);
        try
        {
            if (sequence.Next >= sequence.End)
            {
                var start = await ReserveAsync(sequenceName, cancellationToken);
                sequence.Next = start;
                sequence.End = start + blockSize;
            }
            return sequence.Next++;
        }
        finally
        {
            sequence.Gate.Release();
        }
    }

    /// <summary>Moves the stored high-water mark up by one block and returns the first id of the block.</summary>
    private async Task<long> ReserveAsync(string sequenceName, CancellationToken cancellationToken)
    {
        var table = storage.Table(TableName);
        var key = TableKeys.Escape(sequenceName);
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            var current = await table.FindAsync<CounterRow>(key, RowKey, cancellationToken);
            if (current is null)
            {
                var created = new CounterRow { PartitionKey = key, RowKey = RowKey, Next = 1 + blockSize };
                if (await table.TryAddAsync(created, cancellationToken))
                    return 1;
                continue;
            }
            var start = current.Next;
            try
            {
                await table.UpdateEntityAsync(current with { Next = start + blockSize }, current.ETag, TableUpdateMode.Replace, cancellationToken);
                return start;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // Another instance took this block; take the next one.
            }
        }
        throw new ConcurrencyConflictException($"Could not reserve ids for '{sequenceName}': too much contention.");
    }

    private sealed class Sequence
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public long Next;
        public long End;
    }

    public sealed record CounterRow : ITableEntity
    {
        public string PartitionKey { get; set; } = "";
        public string RowKey { get; set; } = "";
        public DateTimeOffset? Timestamp { get; set; }
        public ETag ETag { get; set; }
        public long Next { get; set; }
    }
}
