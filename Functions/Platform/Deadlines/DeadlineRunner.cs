using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Deadlines;

/// <summary>The <c>DeadlineDue</c> queue function and the <c>DeadlineSweep</c> timer.</summary>
internal static class DeadlineRunner
{
    public static async Task RunAsync(QueueInvocation invocation)
    {
        var services = invocation.Services;
        var deadline = Parse(invocation.Message);
        if (deadline is null)
        {
            // Not a deadline: nothing can ever handle it, so say so and let it go.
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DeadlineRunner))
                .LogError("Discarding malformed deadline message {MessageId}", invocation.MessageId);
            return;
        }
        var scheduler = services.GetRequiredService<DeadlineScheduler>();
        var left = scheduler.TimeLeft(deadline.DueAt);
        if (left > TimeSpan.Zero)
        {
            if (left > scheduler.WaitOutLimit)
            {
                // Early: a link in the chain of a long deadline (or a clock skew). Wait the remainder on the queue.
                await scheduler.EnqueueAsync(deadline, invocation.CancellationToken);
                return;
            }
            // Surfaced the fraction of a second before its time that visibility cannot express: wait it out here.
            // Timers count whole milliseconds and may fire a little before the wall clock has moved on as far, so
            // round up and look again: the handler must never run before its time.
            while ((left = scheduler.TimeLeft(deadline.DueAt)) > TimeSpan.Zero)
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds) + 1), scheduler.Time, invocation.CancellationToken);
        }
        var handler = services.GetServices<DeadlineHandler>().FirstOrDefault(h => h.Kind == deadline.Kind)
                      ?? throw new InvalidOperationException($"No handler is registered for deadlines of kind '{deadline.Kind}'.");
        await handler.Handle(new DeadlineInvocation(services, deadline.Kind, deadline.Key, deadline.DueAt, invocation.CancellationToken));

        // Done: the safety-net row is no longer needed (a later reschedule writes a new one).
        var storage = services.GetRequiredService<StorageAccount>();
        var row = DeadlineRow.For(deadline);
        try
        {
            var current = await storage.Table(DeadlineScheduler.TableName).FindAsync<DeadlineRow>(row.PartitionKey, row.RowKey, invocation.CancellationToken);
            if (current is not null && (current.DueAt - deadline.DueAt).Duration() < TimeSpan.FromMilliseconds(1))
                await storage.Table(DeadlineScheduler.TableName).DeleteEntityAsync(row.PartitionKey, row.RowKey, current.ETag, invocation.CancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Already removed, or rescheduled meanwhile: nothing to clean up.
        }
    }

    /// <summary>
    /// Re-enqueues deadlines whose due minute is past the grace period and whose row is still there (its message was
    /// lost, or its handler has not succeeded yet). Safe to repeat and to skip: handlers are idempotent. The last of
    /// <see cref="DeadlineOptions.MaxSweeps"/> re-enqueues removes the row, so a deadline given up on is not scanned
    /// again every minute.
    /// </summary>
    public static async Task SweepAsync(TimerInvocation invocation)
    {
        var services = invocation.Services;
        var options = services.GetRequiredService<DeadlineOptions>();
        var storage = services.GetRequiredService<StorageAccount>();
        var scheduler = services.GetRequiredService<DeadlineScheduler>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DeadlineRunner));
        var table = storage.Table(DeadlineScheduler.TableName);
        var cutoff = DeadlineRow.MinuteKey(services.GetRequiredService<TimeProvider>().GetUtcNow() - options.SweepGrace);

        await foreach (var row in table.QueryAsync<DeadlineRow>(TableClient.CreateQueryFilter($"PartitionKey lt {cutoff}"),
                           cancellationToken: invocation.CancellationToken))
        {
            if (row.Sweeps >= options.MaxSweeps)
            {
                // Given up on already (its last re-enqueue could not remove it): nothing more to do with it.
                await DeleteAsync(table, row, invocation.CancellationToken);
                continue;
            }
            // The row as the query returned it: the first decision costs no read; a 412 re-reads.
            var swept = await table.TransitionAsync(row, r => r with { Sweeps = r.Sweeps + 1 }, invocation.CancellationToken);
            if (swept is null)
                continue;
            await scheduler.EnqueueAsync(swept.ToDeadline(), invocation.CancellationToken);
            if (swept.Sweeps >= options.MaxSweeps)
            {
                logger.LogError("Deadline {Kind} {Key} due {DueAt} failed {Sweeps} times; no longer retried", swept.Kind, swept.Key, swept.DueAt, swept.Sweeps);
                await DeleteAsync(table, swept, invocation.CancellationToken);
            }
        }
    }

    /// <summary>Removes a row as it was read; one rescheduled (or removed) meanwhile is left as it is.</summary>
    private static async Task DeleteAsync(TableClient table, DeadlineRow row, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
        }
    }

    private static Deadline? Parse(string message)
    {
        try
        {
            var deadline = JsonSerializer.Deserialize<Deadline>(message, DeadlineJson.Options);
            return deadline is { Kind.Length: > 0, Key.Length: > 0 } ? deadline : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
