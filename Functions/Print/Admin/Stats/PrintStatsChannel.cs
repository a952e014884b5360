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
/// (bounded, jittered); an event whose applied row exists is a no-op.
/// </summary>
public sealed class PrintStatsChannel(StorageAccount storage) : IOutboxChannel
{
    public string Name => PrintStatEvents.Channel;

    private TableClient Table => storage.Table(StatsKeys.TableName);

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Deserialize<PrintStatEvent>(message.Body) ?? throw new InvalidOperationException($"Unreadable stat event {message.Key}.");
        if (body.Add.Keys.FirstOrDefault(m => !PrintStatsRow.Metrics.ContainsKey(m)) is { } unknown)
            throw new InvalidOperationException($"Stat event {message.Key} names no metric '{unknown}'.");
        await ApplyAsync(message.Key, message.Type, body, cancellationToken);
    }

    /// <summary>True when this call counted the event; false when it was counted before.</summary>
    public async Task<bool> ApplyAsync(string eventKey, string type, PrintStatEvent stat, CancellationToken cancellationToken)
    {
        var partition = StatsKeys.Shard(StatsKeys.ShardOf(eventKey));
        var day = StatsKeys.Day(stat.At);
        var month = StatsKeys.Month(stat.At);
        var applied = StatsKeys.Applied(eventKey);

        // The first attempt reads its four rows at once; a lost race reads them again.
        Task<(PrintStatsRow? Total, AppliedStatRow? Applied, PrintStatsRow? Day, PrintStatsRow? Month)> ReadAsync() =>
            ReadRowsAsync(partition, day, month, applied, cancellationToken);
        var first = await ReadAsync();
        if (first.Applied is not null)
            return false;

        var result = await TransitionSeam.ApplyAsync<PrintStatsRow, bool>(Table, partition, StatsKeys.Total, first.Total, async change =>
        {
            var rows = change.Attempt == 1 ? first : await ReadAsync();
            if (rows.Applied is not null)
                return false;
            change.Write((change.Current ?? new PrintStatsRow { PartitionKey = partition, RowKey = StatsKeys.Total }).Plus(stat.Add));
            Period(change, rows.Day, partition, day, stat);
            Period(change, rows.Month, partition, month, stat);
            change.Insert(new AppliedStatRow { PartitionKey = partition, RowKey = applied, Type = type, At = stat.At });
            return true;
        }, outbox: null, cancellationToken);
        return result.Outcome;
    }

    private static void Period(Change<PrintStatsRow> change, PrintStatsRow? row, string partition, string rowKey, PrintStatEvent stat)
    {
        if (row is null)
            change.Insert(new PrintStatsRow { PartitionKey = partition, RowKey = rowKey }.Plus(stat.Add));
        else
            change.Replace(row.Plus(stat.Add));
    }

    private async Task<(PrintStatsRow?, AppliedStatRow?, PrintStatsRow?, PrintStatsRow?)> ReadRowsAsync(string partition, string day, string month,
        string applied, CancellationToken cancellationToken)
    {
        var total = Table.FindAsync<PrintStatsRow>(partition, StatsKeys.Total, cancellationToken);
        var done = Table.FindAsync<AppliedStatRow>(partition, applied, cancellationToken);
        var dayRow = Table.FindAsync<PrintStatsRow>(partition, day, cancellationToken);
        var monthRow = Table.FindAsync<PrintStatsRow>(partition, month, cancellationToken);
        return (await total, await done, await dayRow, await monthRow);
    }
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
            await channel.DeliverAsync(PrintStatEvents.UserRegistered(profile.UserId, profile.Role, time.GetUtcNow()), cancellationToken);
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
            await channel.DeliverAsync(PrintStatEvents.UserDeleted(userId, profile.Role, time.GetUtcNow()), cancellationToken);
    }
}
