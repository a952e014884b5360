using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Admin.Stats;

/// <summary>
/// Applies stat events to the counters exactly once (keys: <see cref="StatsKeys"/>). One event is one transaction on
/// its shard: the <c>total</c>, day and month rows, each replaced with the ETag read (inserted when new), and the
/// <c>applied|{key}</c> row inserted. A lost race (412, or 409 on an insert) is decided again by the transition seam
/// (bounded, jittered) on rows read afresh; an event whose applied row exists is a no-op. The rows this instance
/// last wrote on each shard are kept with their ETags, so a warm apply is that one transaction and nothing else
/// (an event already applied, or a row another instance changed, fails it and is then read and decided again).
/// </summary>
public sealed class PrintStatsChannel(StorageAccount storage) : IOutboxChannel
{
    private readonly ConcurrentDictionary<string, ShardRows> _last = new(StringComparer.Ordinal);

    // Events of one shard take turns on this instance, as ledger movements of one account do: concurrent payments
    // would otherwise race each other's ETags on the same counter rows and pay for it in retries and re-reads.
    private readonly SemaphoreSlim[] _turns = Enumerable.Range(0, StatsKeys.Shards).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private string _warmDay = "";

    public string Name => PrintStatEvents.Channel;

    private TableClient Table => storage.Table(StatsKeys.TableName);

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken) =>
        await ApplyAsync(message, checkFirst: false, cancellationToken);

    /// <summary>
    /// True when this call counted the event; false when it was counted before. <paramref name="checkFirst"/> reads the
    /// applied row before anything else: cheaper for an event that is usually a repeat (a profile stored again).
    /// </summary>
    public async Task<bool> ApplyAsync(OutboxEvent message, bool checkFirst, CancellationToken cancellationToken)
    {
        var turn = _turns[StatsKeys.ShardOf(message.Key)];
        await turn.WaitAsync(cancellationToken);
        try
        {
            return await ApplyInTurnAsync(message, checkFirst, cancellationToken);
        }
        finally
        {
            turn.Release();
        }
    }

    private async Task<bool> ApplyInTurnAsync(OutboxEvent message, bool checkFirst, CancellationToken cancellationToken)
    {
        var stat = JsonSerializer.Deserialize<PrintStatEvent>(message.Body) ?? throw new InvalidOperationException($"Unreadable stat event {message.Key}.");
        if (stat.Add.Keys.FirstOrDefault(m => !PrintStatsRow.Metrics.ContainsKey(m)) is { } unknown)
            throw new InvalidOperationException($"Stat event {message.Key} names no metric '{unknown}'.");
        var partition = StatsKeys.Shard(StatsKeys.ShardOf(message.Key));
        var day = StatsKeys.Day(stat.At);
        var month = StatsKeys.Month(stat.At);
        var applied = StatsKeys.Applied(message.Key);
        if (checkFirst && await Table.FindAsync<AppliedStatRow>(partition, applied, cancellationToken) is not null)
            return false;

        if (string.CompareOrdinal(day, _warmDay) > 0)
            await WarmAsync(day, month, cancellationToken);
        var first = _last.TryGetValue(partition, out var cached) && cached.DayKey == day && cached.MonthKey == month
            ? cached
            : await ReadAsync(partition, day, month, applied, cancellationToken);
        if (first.Applied)
            return false;
        ShardRows? writing = null;
        Transitioned<PrintStatsRow, bool> result;
        try
        {
            result = await TransitionSeam.ApplyAsync<PrintStatsRow, bool>(Table, partition, StatsKeys.Total, first.Total, async change =>
            {
                var rows = change.Attempt == 1 ? first : await ReadAsync(partition, day, month, applied, cancellationToken);
                writing = null;
                if (rows.Applied)
                    return false;
                var total = (change.Current ?? new PrintStatsRow { PartitionKey = partition, RowKey = StatsKeys.Total }).Plus(stat.Add);
                change.Write(total);
                writing = new ShardRows(total, Period(change, rows.Day, partition, day, stat), Period(change, rows.Month, partition, month, stat), false,
                    day, month);
                change.Insert(new AppliedStatRow { PartitionKey = partition, RowKey = applied, Type = message.Type, At = stat.At });
                return true;
            }, outbox: null, cancellationToken);
        }
        catch
        {
            _last.TryRemove(partition, out _);
            throw;
        }
        // The seam leaves the new ETags on the rows it wrote (a hint only: the outcome is the seam's; a stale ETag costs
        // the next apply a 412 and a read, and a row without one is never offered as a condition).
        if (result.Written && writing is { Total.ETag: var t, Day.ETag: var d, Month.ETag: var m } stored && t != default && d != default && m != default)
            _last[partition] = stored;
        else
            _last.TryRemove(partition, out _);
        return result.Outcome;
    }

    private static PrintStatsRow Period(Change<PrintStatsRow> change, PrintStatsRow? row, string partition, string rowKey, PrintStatEvent stat)
    {
        if (row is null)
        {
            var inserted = new PrintStatsRow { PartitionKey = partition, RowKey = rowKey }.Plus(stat.Add);
            change.Insert(inserted);
            return inserted;
        }
        var replaced = row.Plus(stat.Add);
        change.Replace(replaced);
        return replaced;
    }

    private async Task<ShardRows> ReadAsync(string partition, string day, string month, string applied, CancellationToken cancellationToken)
    {
        var total = Table.FindAsync<PrintStatsRow>(partition, StatsKeys.Total, cancellationToken);
        var done = Table.FindAsync<AppliedStatRow>(partition, applied, cancellationToken);
        var dayRow = Table.FindAsync<PrintStatsRow>(partition, day, cancellationToken);
        var monthRow = Table.FindAsync<PrintStatsRow>(partition, month, cancellationToken);
        return new ShardRows(await total, await dayRow, await monthRow, await done is not null, day, month);
    }

    /// <summary>
    /// The first event of a new day on this instance reads every shard's rows of that day at once (24 point reads), so
    /// each later event is one transaction whatever shard its key falls on. Rows not there yet are known absent
    /// (inserted; another instance's insert meanwhile is a 409, read and decided again).
    /// </summary>
    private async Task WarmAsync(string day, string month, CancellationToken cancellationToken)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, StatsKeys.Shards).Select(async shard =>
        {
            var partition = StatsKeys.Shard(shard);
            var total = Table.FindAsync<PrintStatsRow>(partition, StatsKeys.Total, cancellationToken);
            var dayRow = Table.FindAsync<PrintStatsRow>(partition, day, cancellationToken);
            var monthRow = Table.FindAsync<PrintStatsRow>(partition, month, cancellationToken);
            return (partition, Rows: new ShardRows(await total ?? await CreateTotalAsync(partition, cancellationToken), await dayRow, await monthRow, false,
                day, month));
        }));
        foreach (var (partition, rows) in shards)
            _last.AddOrUpdate(partition, rows, (_, known) => known.DayKey == day ? known : rows);
        _warmDay = day;
    }

    /// <summary>A shard's total row, written empty once in its life, so an apply always has one to replace conditionally.</summary>
    private async Task<PrintStatsRow?> CreateTotalAsync(string partition, CancellationToken cancellationToken)
    {
        var total = new PrintStatsRow { PartitionKey = partition, RowKey = StatsKeys.Total };
        try
        {
            total.ETag = (await Table.AddEntityAsync(total, cancellationToken)).Headers.ETag ?? default;
            return total.ETag == default ? null : total;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            return await Table.FindAsync<PrintStatsRow>(partition, StatsKeys.Total, cancellationToken);
        }
    }

    /// <summary>A shard's rows of one day and month, as read or as last written here (with ETags), and whether the event at hand was applied.</summary>
    private sealed record ShardRows(PrintStatsRow? Total, PrintStatsRow? Day, PrintStatsRow? Month, bool Applied, string DayKey, string MonthKey);
}

/// <summary>
/// Users by role. Registration and deletion do not run through an outbox, so these hooks apply the event directly
/// once the profile is stored (registration, keyed <c>user-registered:{id}</c>; profile updates repeat it harmlessly)
/// or before the account is removed (<c>user-deleted:{id}</c>). A crash between storing the profile and this hook
/// misses that one count: there is no outbox on that path to replay it.
/// </summary>
public sealed class PrintUserStats(PrintStatsChannel channel, StorageAccount storage, TimeProvider time, ILogger<PrintUserStats> logger)
    : IPrintProfileListener, IPrintAccountCleanup
{
    public async Task ProfileStoredAsync(PrintProfile profile, CancellationToken cancellationToken)
    {
        if (profile.Role is not (PrintRoles.Customer or PrintRoles.Shopkeeper))
            return;
        try
        {
            await channel.ApplyAsync(PrintStatEvents.UserRegistered(profile.UserId, profile.Role, time.GetUtcNow()), checkFirst: true, cancellationToken);
        }
        catch (Exception ex) when (ex is RequestFailedException or ConcurrencyConflictException)
        {
            // The profile is stored; the registration stays uncounted (the dashboard is a figure, not a ledger).
            logger.LogWarning(ex, "User {UserId} was not counted in the dashboard stats", profile.UserId);
        }
    }

    /// <summary>Runs before the account is removed, while its profile still says its role; a retried deletion counts once.</summary>
    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        var profile = await storage.Table(UserDirectory.TableName).FindAsync<PrintProfile>(AccountKeys.Partition(userId), AccountKeys.Profile, cancellationToken);
        if (profile?.Role is PrintRoles.Customer or PrintRoles.Shopkeeper)
            await channel.ApplyAsync(PrintStatEvents.UserDeleted(userId, profile.Role, time.GetUtcNow()), checkFirst: true, cancellationToken);
    }
}
