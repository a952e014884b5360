using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Deadlines;

/// <summary>
/// Durable timers on queue messages (what Durable Functions timers would have done). An entity that must change
/// at a moment (a checkout expiring after 9 minutes, a pre-order at its expiration date) stores its deadline and
/// schedules it here; at the deadline the handler registered for its kind runs.
/// <list type="number">
/// <item>A row in the <c>deadlines</c> table, partitioned by due minute, records the deadline (the safety net).</item>
/// <item>A message on the <c>deadlines</c> queue becomes visible at the deadline, or the fraction of a second before
/// it that whole-second visibility cannot express, which the handler waits out (visibility delays are capped, so a
/// deadline weeks away is a chain of messages, each re-enqueueing the remainder).</item>
/// <item>The handler runs; on success the row is deleted. A minute timer re-enqueues rows whose message was lost.</item>
/// </list>
/// Handlers must be idempotent: a deadline may be delivered more than once. The pattern is: apply the transition
/// with an ETag-conditional update only if the entity is still in the state the deadline is about, then emit side
/// effects whenever the entity is in the resulting state, keyed so that emitting twice is one logical event.
/// </summary>
public sealed class DeadlineScheduler(StorageAccount storage, TimeProvider time, DeadlineOptions options)
{
    public const string TableName = "deadlines";
    public const string QueueName = "deadlines";

    /// <summary>Schedules <paramref name="kind"/>'s handler for <paramref name="key"/> at <paramref name="dueAt"/>.</summary>
    public async Task ScheduleAsync(string kind, string key, DateTimeOffset dueAt, CancellationToken cancellationToken = default)
    {
        var deadline = new Deadline(kind, key, dueAt.ToUniversalTime());
        // The row first: a message can be lost or never sent, the row is what the sweep finds.
        await storage.Table(TableName).UpsertEntityAsync(DeadlineRow.For(deadline), TableUpdateMode.Replace, cancellationToken);
        await EnqueueAsync(deadline, cancellationToken);
    }

    /// <summary>Whether the deadline has come, by the app's clock.</summary>
    public bool IsDue(DateTimeOffset dueAt) => dueAt <= time.GetUtcNow();

    /// <summary>
    /// How long a message for this deadline stays invisible. Queues count visibility in whole seconds, so a deadline
    /// within reach of one message surfaces at or less than a second before it is due (the time left rounded down)
    /// and its handler waits out the fraction (<see cref="WaitOutLimit"/>): rounding up would run it up to a second
    /// late. A deadline beyond the cap gets the cap (a link of a chain); with no wait-out, the time left rounded up.
    /// </summary>
    public TimeSpan VisibilityFor(DateTimeOffset dueAt)
    {
        var left = dueAt - time.GetUtcNow();
        if (WaitOutLimit >= TimeSpan.FromSeconds(1) && left > TimeSpan.Zero && left <= options.MaxVisibilityDelay && left < QueueDelays.Limit)
            return TimeSpan.FromSeconds(Math.Floor(left.TotalSeconds));
        return QueueDelays.Visibility(left, options.MaxVisibilityDelay);
    }

    /// <summary>
    /// The longest a delivered deadline that is not due yet is held in the handler until it is (longer: re-enqueued
    /// for the rest). None when visibility delays are off (<see cref="DeadlineOptions.MaxVisibilityDelay"/> zero, as in
    /// tests on a fake clock): no queue rounds anything then.
    /// </summary>
    public TimeSpan WaitOutLimit => options.MaxVisibilityDelay > TimeSpan.Zero ? options.WaitOut : TimeSpan.Zero;

    /// <summary>How long until the deadline is due by the app's clock (zero or less: due).</summary>
    public TimeSpan TimeLeft(DateTimeOffset dueAt) => dueAt - time.GetUtcNow();

    internal TimeProvider Time => time;

    internal Task EnqueueAsync(Deadline deadline, CancellationToken cancellationToken) =>
        storage.Queue(QueueName).SendMessageAsync(JsonSerializer.Serialize(deadline, DeadlineJson.Options),
            visibilityTimeout: VisibilityFor(deadline.DueAt), cancellationToken: cancellationToken);
}

/// <summary>What a deadline message carries: which handler, which entity, when.</summary>
public sealed record Deadline(string Kind, string Key, DateTimeOffset DueAt);

/// <summary>A due deadline handed to its handler.</summary>
public sealed record DeadlineInvocation(IServiceProvider Services, string Kind, string Key, DateTimeOffset DueAt, CancellationToken CancellationToken);

/// <summary>The handler of one kind of deadline (for example <c>pre-order-expiry</c>).</summary>
public sealed record DeadlineHandler(string Kind, Func<DeadlineInvocation, Task> Handle);

public sealed class DeadlineOptions
{
    public const string Section = "Deadlines";

    /// <summary>Longest visibility delay of one message; longer deadlines chain (Azure allows 7 days).</summary>
    public TimeSpan MaxVisibilityDelay { get; set; } = TimeSpan.FromDays(6);

    /// <summary>
    /// A deadline delivered at most this long before it is due is waited out in its handler instead of re-enqueued.
    /// Its message is made visible the fraction of a second before (visibility counts whole seconds), so the handler
    /// runs at its time, not up to a second late. At least a second to have an effect; zero turns it off.
    /// </summary>
    public TimeSpan WaitOut { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long past its due minute a deadline must be before the sweep re-enqueues it.</summary>
    public TimeSpan SweepGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Times the sweep re-enqueues one deadline before giving up on it (its messages keep failing).</summary>
    public int MaxSweeps { get; set; } = 5;
}

/// <summary>The safety-net row: PK = due minute (<c>yyyyMMddHHmm</c>), RK = kind and key.</summary>
public sealed record DeadlineRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Kind { get; set; } = "";
    public string Key { get; set; } = "";
    public DateTimeOffset DueAt { get; set; }
    public int Sweeps { get; set; }

    public static string MinuteKey(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    public static string RowKeyFor(string kind, string key) => TableKeys.Escape(kind) + "|" + TableKeys.Escape(key);

    public static DeadlineRow For(Deadline deadline) => new()
    {
        PartitionKey = MinuteKey(deadline.DueAt),
        RowKey = RowKeyFor(deadline.Kind, deadline.Key),
        Kind = deadline.Kind,
        Key = deadline.Key,
        DueAt = deadline.DueAt,
    };

    public Deadline ToDeadline() => new(Kind, Key, DueAt);
}

internal static class DeadlineJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}

public static class DeadlineRegistration
{
    public const string DueFunction = "DeadlineDue";
    public const string SweepFunction = "DeadlineSweep";

    /// <summary>The scheduler, its queue function and its minute sweep; called once by the platform.</summary>
    public static IServiceCollection AddDeadlines(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(DeadlineOptions.Section).Get<DeadlineOptions>() ?? new DeadlineOptions();
        services.AddSingleton(options);
        services.AddSingleton<DeadlineScheduler>();
        services.AddStorage(s => s.Table(DeadlineScheduler.TableName));
        services.AddQueueTrigger(DueFunction, DeadlineScheduler.QueueName, DeadlineRunner.RunAsync);
        services.AddTimerTrigger(SweepFunction, "30 * * * * *", DeadlineRunner.SweepAsync);
        return services;
    }

    /// <summary>Registers what happens when a deadline of <paramref name="kind"/> comes due.</summary>
    public static IServiceCollection AddDeadlineHandler(this IServiceCollection services, string kind, Func<DeadlineInvocation, Task> handle)
    {
        services.AddSingleton(new DeadlineHandler(kind, handle));
        return services;
    }
}
