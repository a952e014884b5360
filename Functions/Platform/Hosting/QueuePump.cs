using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Options;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Hosting;

/// <summary>
/// Reads one queue for one queue function, the way the Functions host does: a batch at a time, each message
/// invisible while it runs, deleted on success, made visible again after <see cref="TriggerOptions.RetryDelay"/> on
/// failure, and moved to <c>&lt;queue&gt;-poison</c> after <see cref="TriggerOptions.MaxDequeueCount"/> deliveries.
/// </summary>
public sealed class QueuePump(QueueTrigger trigger, StorageAccount storage, TriggerInvoker invoker, TriggerOptions options, ILogger logger)
{
    public QueueTrigger Trigger => trigger;

    /// <summary>Fetches one batch and runs it; returns how many messages were handled (successfully or not).</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var handling = await StartBatchAsync(cancellationToken);
        await Task.WhenAll(handling);
        return handling.Length;
    }

    /// <summary>
    /// Fetches one batch and starts handling its messages without waiting for them (the standalone loop fetches the
    /// next batch while these run, as the host does); one task per message.
    /// </summary>
    public async Task<Task[]> StartBatchAsync(CancellationToken cancellationToken)
    {
        var queue = storage.Queue(trigger.QueueName);
        QueueMessage[] messages = (await queue.ReceiveMessagesAsync(options.BatchSize, options.Lease, cancellationToken)).Value;
        return messages.Select(m => HandleAsync(m, cancellationToken)).ToArray();
    }

    /// <summary>Runs batches until the queue has no visible message left (tests and start-up catch-up use this).</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        int handled;
        while ((handled = await RunOnceAsync(cancellationToken)) > 0)
            total += handled;
        return total;
    }

    private async Task HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(trigger.QueueName);
        try
        {
            await invoker.InvokeAsync(trigger, message.MessageText, message.MessageId, message.DequeueCount, cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (message.DequeueCount >= options.MaxDequeueCount)
            {
                logger.LogError("Message {MessageId} on {Queue} failed {Count} times; moving it to {Queue}-poison",
                    message.MessageId, trigger.QueueName, message.DequeueCount, trigger.QueueName);
                await storage.Queue(trigger.QueueName + "-poison").SendMessageAsync(message.MessageText, CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: options.RetryDelay,
                    cancellationToken: CancellationToken.None);
            }
        }
    }
}

/// <summary>
/// Standalone mode's stand-in for the Functions host: a loop per queue function and one per timer, started once
/// storage is ready. Under the host (or with <c>Triggers:RunPumps=false</c>) it does nothing.
/// </summary>
public sealed class StandalonePumps(
    TriggerRegistry registry,
    StorageAccount storage,
    StorageReadiness readiness,
    TriggerInvoker invoker,
    HostingMode mode,
    IOptions<TriggerOptions> options,
    TimeProvider time,
    ILogger<StandalonePumps> logger) : BackgroundService
{
    public bool Enabled => options.Value.RunPumps ?? mode.IsStandalone;

    public QueuePump CreatePump(string functionName)
    {
        var trigger = registry.FindQueue(functionName) ?? throw new ArgumentException($"No queue function '{functionName}'.");
        return new QueuePump(trigger, storage, invoker, options.Value, logger);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
            return;
        await readiness.WaitAsync(stoppingToken);
        var loops = registry.Queues.Select(q => PollAsync(CreatePump(q.Name), stoppingToken))
            .Concat(registry.Timers.Select(t => RunTimerAsync(t, stoppingToken)));
        await Task.WhenAll(loops);
    }

    /// <summary>
    /// Like the host: a new batch is fetched as soon as no more than half a batch is still running (the host's
    /// <c>newBatchThreshold</c>), so one slow message does not hold back the messages that surface meanwhile.
    /// </summary>
    private async Task PollAsync(QueuePump pump, CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromMilliseconds(50);
        var running = new List<Task>();
        var threshold = options.Value.BatchSize / 2;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                running.RemoveAll(Finished);
                if (running.Count > threshold)
                {
                    await Task.WhenAny(running);
                    continue;
                }
                var started = await pump.StartBatchAsync(stoppingToken);
                if (started.Length > 0)
                {
                    running.AddRange(started);
                    idle = TimeSpan.FromMilliseconds(50);
                    continue;
                }
            }
            catch (Exception ex)
            {
                if (stoppingToken.IsCancellationRequested)
                    break;
                logger.LogWarning("Polling {Queue} failed: {Reason}", pump.Trigger.QueueName, StorageFailure.Describe(ex));
            }
            // Polling cadence is wall-clock work, not business time, so it does not follow the app's TimeProvider.
            try
            {
                await Task.Delay(idle, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, options.Value.MaxPollingInterval.Ticks));
        }
        // Stopping: let the messages in hand finish or give up (an unfinished one surfaces again after its lease).
        foreach (var task in running)
        {
            try
            {
                await task;
            }
            catch (Exception)
            {
            }
        }

        bool Finished(Task task)
        {
            if (!task.IsCompleted)
                return false;
            // A message whose completion could not be recorded (storage failing): it surfaces again after its lease.
            if (task.Exception is { } failed && !stoppingToken.IsCancellationRequested)
                logger.LogWarning("Completing a message on {Queue} failed: {Reason}", pump.Trigger.QueueName,
                    StorageFailure.Describe(failed.GetBaseException()));
            return true;
        }
    }

    private async Task RunTimerAsync(TimerTrigger timer, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = timer.Cron.GetNextOccurrence(now, TimeZoneInfo.Utc);
            if (next is null)
                return;
            try
            {
                await Task.Delay(next.Value - now, time, stoppingToken);
                var pastDue = time.GetUtcNow() - next.Value > TimeSpan.FromMinutes(1);
                await invoker.InvokeAsync(timer, next.Value, pastDue, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Like the host: a failed timer run is not retried; the next occurrence runs as scheduled.
            }
        }
    }
}
