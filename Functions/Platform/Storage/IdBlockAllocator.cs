using System.Collections.Concurrent;
using Azure;

namespace Serverless.Platform.Storage;

/// <summary>
/// Integer ids without one storage write per id: each instance reserves a block of ids with one ETag-conditional
/// update of a counter row (a transition) and hands them out from memory. Ids are unique and increasing per instance; a block an
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

    /// <summary>
    /// Moves the stored high-water mark up by one block and returns the first id of the block, through the transition
    /// seam: when storage did the write but its answer was lost, the operation id on the counter row says the block is
    /// this instance's, so it is neither skipped nor taken again from a re-read.
    /// </summary>
    private async Task<long> ReserveAsync(string sequenceName, CancellationToken cancellationToken)
    {
        var key = TableKeys.Escape(sequenceName);
        var reserved = await TransitionSeam.ApplyAsync<CounterRow, long>(storage.Table(TableName), key, RowKey, null, change =>
        {
            var start = change.Current?.Next ?? 1;
            change.Write(new CounterRow { PartitionKey = key, RowKey = RowKey, Next = start + blockSize });
            return start;
        }, null, cancellationToken);
        return reserved.Outcome;
    }

    private sealed class Sequence
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public long Next;
        public long End;
    }

    public sealed record CounterRow : IStampedRow
    {
        public string PartitionKey { get; set; } = "";
        public string RowKey { get; set; } = "";
        public DateTimeOffset? Timestamp { get; set; }
        public ETag ETag { get; set; }
        public long Next { get; set; }
        public string? OperationId { get; set; }
    }
}
