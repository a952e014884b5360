using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Extensions.Options;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Hosting;
using Serverless.Platform.Observability;
using Serverless.Platform.Storage;

namespace Serverless.Bench;

/// <summary>
/// Deadlines measured against the engine they replace. On one Azurite, one after the other:
/// <list type="number">
/// <item>Ours: the product's <see cref="DeadlineScheduler"/>, its <c>DeadlineDue</c> queue function and its minute
/// sweep, run by the product's own <see cref="StandalonePumps"/> in this process (as the app runs them standalone),
/// with a <c>bench</c> deadline handler that records when it ran. Its tables and queues carry the storage prefix
/// <c>benchdl</c>, so the app (when it runs beside, as in <c>./dev bench</c>) never reads them.</item>
/// <item>The Durable Task Framework (<c>DurableTask.AzureStorage</c>, default settings, its own task hub): an
/// orchestration awaits <c>CreateTimer(due)</c> and then calls an activity that records when it ran.</item>
/// </list>
/// Lateness is the recorded time minus the due time (negative: early). Storage requests are every request either
/// engine sent from the first schedule to the last side effect (scheduling, polling, the handlers, leases), counted
/// in this process: ours by the platform's own <c>storage.requests</c> counter (its metering policy), the Durable Task
/// Framework's by a counting policy on the clients it is given.
/// </summary>
public static class DeadlinesRun
{
    public const string OursName = "deadlines: ours (queue visibility + standalone pump)";
    public const string DtfxName = "deadlines: Durable Task Framework timers";
    public const string Kind = "bench";
    public const string Prefix = "benchdl";
    public const string TaskHub = "benchdtfx";

    /// <summary>How many schedule calls run at once (each engine's scheduling is timed but not measured as lateness).</summary>
    const int ScheduleConcurrency = 16;

    public sealed record Plan(int Count, TimeSpan Lead, TimeSpan Window)
    {
        /// <summary>Due times: the first <see cref="Lead"/> after <paramref name="start"/>, then evenly over <see cref="Window"/>.</summary>
        public DateTimeOffset[] DueTimes(DateTimeOffset start) =>
            Enumerable.Range(0, Count).Select(i => start + Lead + Window * i / Count).ToArray();
    }

    public static Plan PlanFor(bool smoke) => smoke
        ? new Plan(50, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10))
        : new Plan(1_000, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60));

    /// <summary>Only this scenario (<c>Bench deadlines</c>): a fresh in-memory Azurite, no app; prints both rows.</summary>
    public static async Task<int> RunAloneAsync(bool smoke)
    {
        Infra.EnsurePortsFree();
        await using var infra = new Infra(Infra.FindRoot());
        Console.WriteLine("Starting Azurite (in memory, 127.0.0.1:10200-10202)...");
        await infra.StartAzuriteAsync(null);
        var rows = await RunAllAsync(smoke);
        Console.WriteLine();
        Console.WriteLine(Markdown(rows));
        foreach (var row in rows)
            Console.WriteLine(row.ToJsonString());
        return rows.All(r => r["errors"]!.GetValue<long>() == 0 && r["requests"]!.GetValue<long>() > 0) ? 0 : 1;
    }

    public static async Task<JsonObject[]> RunAllAsync(bool smoke)
    {
        var plan = PlanFor(smoke);
        return [await OursAsync(plan), await DtfxAsync(plan)];
    }

    // ---------------------------------------------------------------- ours

    public static async Task<JsonObject> OursAsync(Plan plan)
    {
        Console.WriteLine($"Scenario {OursName}: {plan.Count} deadlines due from {plan.Lead.TotalSeconds:F0} s on, spread over {plan.Window.TotalSeconds:F0} s...");
        var fired = new ConcurrentDictionary<string, DateTimeOffset>();
        var deliveries = 0;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageAccount.ConnectionSetting] = Infra.ConnectionString,
            ["Storage:Prefix"] = Prefix,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new HostingMode(null));
        services.AddSingleton<StorageAccount>();
        services.AddSingleton<StorageReadiness>();
        services.AddOptions<TriggerOptions>();
        services.AddSingleton<TriggerRegistry>();
        services.AddSingleton<TriggerInvoker>();
        services.AddSingleton<StandalonePumps>();
        services.AddDeadlines(configuration);
        services.AddDeadlineHandler(Kind, invocation =>
        {
            // The side effect: when the handler ran (the first delivery counts; a repeat is not a new one).
            fired.TryAdd(invocation.Key, DateTimeOffset.UtcNow);
            Interlocked.Increment(ref deliveries);
            return Task.CompletedTask;
        });
        await using var provider = services.BuildServiceProvider();
        var readiness = provider.GetRequiredService<StorageReadiness>();
        var pumps = provider.GetRequiredService<StandalonePumps>();
        var scheduler = provider.GetRequiredService<DeadlineScheduler>();
        var triggers = provider.GetRequiredService<IOptions<TriggerOptions>>().Value;
        var deadlineOptions = provider.GetRequiredService<DeadlineOptions>();
        using var stop = new CancellationTokenSource();
        await readiness.StartAsync(stop.Token);
        await readiness.WaitAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(30));
        await pumps.StartAsync(stop.Token);

        // Every storage request this process sends through the platform's StorageAccount, from here on.
        long storage = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PlatformTelemetry.Name && instrument.Name == "storage.requests")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref storage, value));
        listener.Start();

        var run = Guid.NewGuid().ToString("N")[..8];
        var keys = Enumerable.Range(0, plan.Count).Select(i => $"{run}-{i:D5}").ToArray();
        var start = DateTimeOffset.UtcNow;
        var due = plan.DueTimes(start);
        var scheduledLate = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Count), new ParallelOptions { MaxDegreeOfParallelism = ScheduleConcurrency }, async (i, ct) =>
        {
            await scheduler.ScheduleAsync(Kind, keys[i], due[i], ct);
            if (DateTimeOffset.UtcNow > due[i])
                Interlocked.Increment(ref scheduledLate);
        });
        var scheduling = clock.Elapsed;
        var schedulingStorage = Interlocked.Read(ref storage);
        Console.WriteLine($"  scheduled in {scheduling.TotalSeconds:F1} s ({schedulingStorage} storage requests)");

        var byKey = keys.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => x.i);
        await WaitAllAsync(() => fired.Count, plan, start);
        var total = Interlocked.Read(ref storage);
        listener.Dispose();
        await pumps.StopAsync(CancellationToken.None);
        await readiness.StopAsync(CancellationToken.None);
        stop.Cancel();

        var lateness = fired.Select(kv => (kv.Value - due[byKey[kv.Key]]).TotalMilliseconds).ToArray();
        var row = Row(OursName, plan, lateness, total, schedulingStorage, scheduling, scheduledLate);
        row["driver"] = "in-process: the product's DeadlineScheduler.ScheduleAsync, its DeadlineDue queue function and DeadlineSweep timer run by its StandalonePumps (storage prefix benchdl)";
        row["deliveries"] = deliveries;
        row["settings"] = new JsonObject
        {
            ["visibility"] = scheduler.WaitOutLimit >= TimeSpan.FromSeconds(1)
                ? $"time left rounded down to whole seconds; the handler waits out the fraction (at most {scheduler.WaitOutLimit.TotalSeconds:F0} s early; earlier: re-enqueued)"
                : "time left rounded up to whole seconds; a message surfacing early is re-enqueued for the rest",
            ["wait_out_s"] = scheduler.WaitOutLimit.TotalSeconds,
            ["pump_batch_size"] = triggers.BatchSize,
            ["pump_polling"] = $"50 ms after an empty poll, doubling to {triggers.MaxPollingInterval.TotalSeconds:F0} s; at once after a non-empty one; a new batch while at most {triggers.BatchSize / 2} messages still run",
            ["lease_s"] = triggers.Lease.TotalSeconds,
            ["sweep"] = $"every minute at :30, rows due more than {deadlineOptions.SweepGrace.TotalMinutes:F0} min ago",
            ["queues"] = 1,
        };
        Print(row);
        return row;
    }

    // ---------------------------------------------------------------- Durable Task Framework

    /// <summary>What the orchestrations and the activity record (DTFx creates them itself, so the record is static).</summary>
    static class Recorder
    {
        public static readonly ConcurrentDictionary<int, DateTimeOffset> Started = new();
        public static readonly ConcurrentDictionary<int, DateTimeOffset> TimerFired = new();
        public static readonly ConcurrentDictionary<int, DateTimeOffset> Fired = new();
        public static int Activities;
    }

    public sealed class TimerInput
    {
        public int Index { get; set; }
        public DateTime Due { get; set; }
    }

    /// <summary>Waits for its due time with a durable timer, then calls the recording activity.</summary>
    public sealed class TimerOrchestration : TaskOrchestration<bool, TimerInput>
    {
        public override async Task<bool> RunTask(OrchestrationContext context, TimerInput input)
        {
            if (!context.IsReplaying && input.Index >= 0)
                Recorder.Started.TryAdd(input.Index, DateTimeOffset.UtcNow);
            await context.CreateTimer(input.Due, true);
            if (!context.IsReplaying && input.Index >= 0)
                Recorder.TimerFired.TryAdd(input.Index, DateTimeOffset.UtcNow);
            return await context.ScheduleTask<bool>(typeof(RecordActivity), input.Index);
        }
    }

    /// <summary>The side effect: when it ran (the first execution counts).</summary>
    public sealed class RecordActivity : TaskActivity<int, bool>
    {
        protected override bool Execute(TaskContext context, int index)
        {
            if (index < 0)
                return true; // a warm-up orchestration
            Recorder.Fired.TryAdd(index, DateTimeOffset.UtcNow);
            Interlocked.Increment(ref Recorder.Activities);
            return true;
        }
    }

    /// <summary>Counts every attempt sent through a client's pipeline (retries included).</summary>
    sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        long count;
        public long Count => Interlocked.Read(ref count);
        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref count);
    }

    public static async Task<JsonObject> DtfxAsync(Plan plan)
    {
        Console.WriteLine($"Scenario {DtfxName}: {plan.Count} orchestrations, timers due from {plan.Lead.TotalSeconds:F0} s on, spread over {plan.Window.TotalSeconds:F0} s...");
        Recorder.Started.Clear();
        Recorder.TimerFired.Clear();
        Recorder.Fired.Clear();
        Recorder.Activities = 0;
        var counter = new CountingPolicy();
        var blobOptions = new BlobClientOptions();
        blobOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var queueOptions = new QueueClientOptions();
        queueOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var connection = Infra.ConnectionString;
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = TaskHub,
            StorageAccountClientProvider = new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connection, blobOptions),
                StorageServiceClientProvider.ForQueue(connection, queueOptions),
                StorageServiceClientProvider.ForTable(connection, tableOptions)),
        };
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync();
        var worker = new TaskHubWorker(service);
        worker.AddTaskOrchestrations(typeof(TimerOrchestration));
        worker.AddTaskActivities(typeof(RecordActivity));
        var clock = Stopwatch.StartNew();
        await worker.StartAsync();
        var client = new TaskHubClient(service);
        // Warm-up, not measured: a worker that has just started owns no partition yet (it acquires their leases in
        // the background), and a deployed app's worker has long owned them. 16 orchestrations with a timer already
        // due (spread over the partitions by their ids) must complete first.
        var warmIds = Enumerable.Range(0, 16).Select(i => $"warm-{Guid.NewGuid():N}").ToArray();
        foreach (var (id, k) in warmIds.Select((id, k) => (id, k)))
            await client.CreateOrchestrationInstanceAsync(typeof(TimerOrchestration), id, new TimerInput { Index = -1 - k, Due = DateTime.UtcNow });
        foreach (var id in warmIds)
            await client.WaitForOrchestrationAsync(new OrchestrationInstance { InstanceId = id }, TimeSpan.FromMinutes(2));
        var startup = clock.Elapsed;
        Console.WriteLine($"  worker started and 16 warm-up orchestrations done in {startup.TotalSeconds:F1} s ({counter.Count} storage requests, not counted below)");

        var before = counter.Count;
        var run = Guid.NewGuid().ToString("N")[..8];
        var start = DateTimeOffset.UtcNow;
        var due = plan.DueTimes(start);
        clock.Restart();
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Count), new ParallelOptions { MaxDegreeOfParallelism = ScheduleConcurrency }, async (i, _) =>
        {
            await client.CreateOrchestrationInstanceAsync(typeof(TimerOrchestration), $"{run}-{i:D5}",
                new TimerInput { Index = i, Due = due[i].UtcDateTime });
        });
        var scheduling = clock.Elapsed;
        var schedulingStorage = counter.Count - before;
        Console.WriteLine($"  started in {scheduling.TotalSeconds:F1} s ({schedulingStorage} storage requests)");

        await WaitAllAsync(() => Recorder.Fired.Count, plan, start);
        var total = counter.Count - before;
        try
        {
            await worker.StopAsync(true).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine("  the Durable Task worker did not stop within 30 s; going on.");
        }

        // An orchestration that first ran after its due time created its timer late: not the timer's lateness.
        var createdLate = Recorder.Started.Count(kv => kv.Value > due[kv.Key]);
        var lateness = Recorder.Fired.Select(kv => (kv.Value - due[kv.Key]).TotalMilliseconds).ToArray();
        var timerLateness = Recorder.TimerFired.Select(kv => (kv.Value - due[kv.Key]).TotalMilliseconds).ToArray();
        var row = Row(DtfxName, plan, lateness, total, schedulingStorage, scheduling, createdLate);
        row["driver"] = "in-process: DurableTask.AzureStorage 2.11.2 / DurableTask.Core 3.11.2, one TaskHubWorker, task hub benchdtfx; orchestration: await CreateTimer(due), then an activity that records the time";
        row["deliveries"] = Recorder.Activities;
        row["timer_resumed_lateness_ms"] = Lateness(timerLateness);
        row["worker_startup_s"] = Math.Round(startup.TotalSeconds, 1);
        row["settings"] = new JsonObject
        {
            ["partition_count"] = settings.PartitionCount,
            ["max_queue_polling_interval_s"] = settings.MaxQueuePollingInterval.TotalSeconds,
            ["control_queue_batch_size"] = settings.ControlQueueBatchSize,
            ["control_queue_buffer_threshold"] = settings.ControlQueueBufferThreshold,
            ["control_queue_visibility_timeout_s"] = settings.ControlQueueVisibilityTimeout.TotalSeconds,
            ["work_item_queue_visibility_timeout_s"] = settings.WorkItemQueueVisibilityTimeout.TotalSeconds,
            ["max_concurrent_orchestrations"] = settings.MaxConcurrentTaskOrchestrationWorkItems,
            ["max_concurrent_activities"] = settings.MaxConcurrentTaskActivityWorkItems,
            ["extended_sessions"] = settings.ExtendedSessionsEnabled,
            ["table_partition_management"] = settings.UseTablePartitionManagement,
            ["queues"] = settings.PartitionCount + 1,
        };
        Print(row);
        return row;
    }

    // ---------------------------------------------------------------- shared

    /// <summary>Until every deadline has had its side effect, or 3 minutes past the last due time.</summary>
    static async Task WaitAllAsync(Func<int> fired, Plan plan, DateTimeOffset start)
    {
        var giveUp = start + plan.Lead + plan.Window + TimeSpan.FromMinutes(3);
        var last = -1;
        var progress = Stopwatch.StartNew();
        while (fired() < plan.Count && DateTimeOffset.UtcNow < giveUp)
        {
            await Task.Delay(50);
            if (progress.Elapsed > TimeSpan.FromSeconds(10) && fired() != last)
            {
                last = fired();
                Console.WriteLine($"  {last}/{plan.Count} fired");
                progress.Restart();
            }
        }
    }

    static JsonObject Lateness(double[] ms) => new()
    {
        ["p50"] = Math.Round(Drive.Percentile(ms, 0.5), 1),
        ["p99"] = Math.Round(Drive.Percentile(ms, 0.99), 1),
        ["max"] = Math.Round(ms.DefaultIfEmpty().Max(), 1),
        ["min"] = Math.Round(ms.DefaultIfEmpty().Min(), 1),
    };

    static JsonObject Row(string name, Plan plan, double[] lateness, long storage, long schedulingStorage, TimeSpan scheduling, int scheduledLate)
    {
        var missing = plan.Count - lateness.Length;
        return new JsonObject
        {
            ["scenario"] = name,
            ["deadlines"] = plan.Count,
            ["lead_s"] = plan.Lead.TotalSeconds,
            ["window_s"] = plan.Window.TotalSeconds,
            ["requests"] = (long)lateness.Length,
            ["errors"] = (long)missing,
            ["missing"] = missing,
            ["p50_ms"] = Math.Round(Drive.Percentile(lateness, 0.5), 1),
            ["p99_ms"] = Math.Round(Drive.Percentile(lateness, 0.99), 1),
            ["max_ms"] = Math.Round(lateness.DefaultIfEmpty().Max(), 1),
            ["min_ms"] = Math.Round(lateness.DefaultIfEmpty().Min(), 1),
            ["early"] = lateness.Count(l => l < 0),
            ["late_over_1s"] = lateness.Count(l => l > 1000),
            ["scheduled_after_due"] = scheduledLate,
            ["scheduling_s"] = Math.Round(scheduling.TotalSeconds, 1),
            ["storage_requests_total"] = storage,
            ["storage_requests_scheduling"] = schedulingStorage,
            ["storage_requests_per_deadline"] = Math.Round((double)storage / plan.Count, 2),
            ["storage_requests_scheduling_per_deadline"] = Math.Round((double)schedulingStorage / plan.Count, 2),
        };
    }

    static void Print(JsonObject r) =>
        Console.WriteLine($"  {r["requests"]}/{r["deadlines"]} fired; lateness p50 {r["p50_ms"]} ms, p99 {r["p99_ms"]} ms, max {r["max_ms"]} ms, " +
                          $"min {r["min_ms"]} ms ({r["early"]} early); {r["storage_requests_per_deadline"]} storage req/deadline " +
                          $"({r["storage_requests_scheduling_per_deadline"]} scheduling)");

    /// <summary>The lateness table of the results (both engines side by side).</summary>
    public static string Markdown(IEnumerable<JsonNode?> rows)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| deadlines | fired | p50 ms | p99 ms | max ms | min ms | early | over 1 s | storage req/deadline (scheduling) | settings |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in rows)
        {
            var s = r!["settings"]!;
            var settings = s["partition_count"] is not null
                ? $"{s["partition_count"]} partitions, max polling {s["max_queue_polling_interval_s"]} s, control batch {s["control_queue_batch_size"]}"
                : $"1 queue, batch {s["pump_batch_size"]}, polling 50 ms…2 s, " + (s["wait_out_s"]!.GetValue<double>() >= 1
                    ? "visibility rounded down to the second, the handler waits out the fraction"
                    : "visibility rounded up to the second");
            sb.AppendLine($"| {r["scenario"]} | {r["requests"]}/{r["deadlines"]} | {r["p50_ms"]} | {r["p99_ms"]} | {r["max_ms"]} | {r["min_ms"]} | {r["early"]} | {r["late_over_1s"]} | " +
                          $"{r["storage_requests_per_deadline"]} ({r["storage_requests_scheduling_per_deadline"]}) | {settings} |");
            if (r["timer_resumed_lateness_ms"] is { } t)
                sb.AppendLine($"| … its orchestration resumed after the timer (before the activity) | {r["requests"]}/{r["deadlines"]} | {t["p50"]} | {t["p99"]} | {t["max"]} | {t["min"]} | – | – | – | – |");
        }
        return sb.ToString();
    }
}
