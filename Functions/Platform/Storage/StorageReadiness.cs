using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Hosting;

namespace Serverless.Platform.Storage;

/// <summary>
/// Creates the declared tables, queues and containers once the account answers, then runs the start-up work that
/// needs storage (first admin, development seed). Until then requests answer 503 and <c>/health</c> says why,
/// in one line, instead of the app failing to start with a stack trace.
/// <para>
/// Creating them costs a request each (about 60), so it is done once per catalog: a marker row in the
/// <see cref="CatalogTable"/> table records the fingerprint of the catalog last created, and a start that finds it
/// equal to its own costs that one read (a cold start's storage work). A new table, queue or container in a
/// deployment changes the fingerprint, and that start creates them all again. One lost afterwards (deleted by hand,
/// an emulator restarted in memory) is re-created when a request meets it missing (<see cref="ReprovisionAsync"/>).
/// </para>
/// <para>
/// The same row records the start-up work that is done for good on the account (<see cref="IOnceStartupTask"/>:
/// migrations, backfills), one column each, so a later start skips it with no request of its own. A new catalog
/// rewrites the row without them: that start runs each such task again (each checks its own marker row first), and
/// records it again.
/// </para>
/// </summary>
public sealed class StorageReadiness(
    StorageAccount storage,
    IEnumerable<IStartupTask> startupTasks,
    IServiceProvider services,
    TimeProvider time,
    ILogger<StorageReadiness> logger) : BackgroundService
{
    /// <summary>The table of the marker row: which catalog the account was last provisioned for.</summary>
    public const string CatalogTable = "storagecatalog";
    public const string MarkerPartition = "catalog";
    public const string MarkerRow = "provisioned";

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _provisioning;

    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    /// <summary>Why storage is not ready, for /health and logs; null once ready.</summary>
    public string? Problem { get; private set; } = "Storage has not been checked yet.";

    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task? _work;
    private Task<Marker>? _markerRead;
    private bool _markerTaken;

    /// <summary>
    /// Starts reading the catalog marker now, while the rest of start-up (the configuration check among it) goes on:
    /// the storage client's first request is most of the storage work's time. It only reads and says nothing; the
    /// storage work (<see cref="Begin"/>, after the configuration check) takes its answer, or meets its failure and
    /// reports it as its own. Once per process.
    /// </summary>
    public void PrefetchMarker()
    {
        lock (_gate)
        {
            if (_markerTaken || _markerRead is not null)
                return;
            _markerRead = Task.Run(() => ReadMarkerAsync(_stopping.Token));
        }
    }

    /// <summary>The early read if there was one (the first attempt only), else a read now.</summary>
    private Task<Marker> TakeMarkerRead(CancellationToken cancellationToken)
    {
        Task<Marker>? early;
        lock (_gate)
        {
            early = _markerRead;
            _markerRead = null;
            _markerTaken = true;
        }
        return early ?? ReadMarkerAsync(cancellationToken);
    }

    /// <summary>
    /// Starts the storage work now, on the thread pool, rather than when the host starts its services (Program.cs
    /// calls it once the configuration check has passed, so storage work overlaps the rest of start-up). Once only.
    /// </summary>
    public void Begin()
    {
        lock (_gate)
            _work ??= Task.Run(() => RunAsync(_stopping.Token));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Begin();
        await using var stop = stoppingToken.Register(() => _stopping.Cancel());
        await _work!;
    }

    // Disposed once as the singleton and once as the hosted service: cancelling twice is harmless, and a source
    // without a timer holds nothing to release.
    public override void Dispose()
    {
        _stopping.Cancel();
        base.Dispose();
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        var reported = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                StartupTimeline.Mark("storage: provisioning");
                var marker = await ProvisionOnceAsync(stoppingToken);
                StartupTimeline.Mark(marker.Fingerprint is null ? "storage: provisioned" : "storage: provisioned already (marker row)");
                var finished = new List<string>();
                foreach (var task in startupTasks)
                {
                    if (task is IOnceStartupTask once && marker.Finished.Contains(once.Name))
                    {
                        once.FinishedBefore();
                        StartupTimeline.Mark($"storage: {task.GetType().Name} finished before (marker row)");
                        continue;
                    }
                    await using var scope = services.CreateAsyncScope();
                    await task.RunAsync(scope.ServiceProvider, stoppingToken);
                    if (task is IOnceStartupTask { Finished: true } done)
                        finished.Add(done.Name);
                    StartupTimeline.Mark($"storage: {task.GetType().Name} done");
                }
                await RecordFinishedAsync(finished, stoppingToken);
                Problem = null;
                _ready.TrySetResult();
                logger.LogInformation("Storage ready at {Storage} ({Tables} tables, {Queues} queues, {Containers} containers)",
                    storage.Description, storage.Catalog.Tables.Count, storage.Catalog.Queues.Count, storage.Catalog.Containers.Count);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && !StorageFailure.IsUnavailable(ex))
            {
                // A bug in start-up work: keep serving (health says why) and try again later rather than exit.
                Problem = $"Start-up work failed: {ex.GetType().Name}: {StorageFailure.Describe(ex)}";
                logger.LogError(ex, "Start-up work failed; retrying");
                delay = TimeSpan.FromSeconds(30);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Problem = $"Storage account at {storage.Description} is unreachable ({StorageFailure.Describe(ex)}). " +
                          "Start Azurite (./dev run does) or check the AzureWebJobsStorage setting.";
                if (!reported)
                {
                    // One clear line, not a stack trace per retry.
                    logger.LogError("{Problem} Retrying until it answers.", Problem);
                    reported = true;
                }
            }
            await Task.Delay(delay, stoppingToken);
            delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 15));
        }
    }

    /// <summary>
    /// Re-creates whatever the account lost (an emulator restarted in memory, a table deleted by hand). Called when
    /// a request finds a table, queue or container missing; concurrent callers share one attempt.
    /// </summary>
    public async Task ReprovisionAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _provisioning, 1) == 1)
            return;
        try
        {
            await ProvisionAsync(cancellationToken);
        }
        finally
        {
            Volatile.Write(ref _provisioning, 0);
        }
    }

    /// <summary>The catalog's tables, queues and containers, in one string that changes when any of them does.</summary>
    public static string Fingerprint(StorageCatalog catalog)
    {
        var names = catalog.Tables.Select(t => "table:" + t).Concat(catalog.Queues.Select(q => "queue:" + q))
            .Concat(catalog.Containers.Select(c => "container:" + c)).Order(StringComparer.Ordinal);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', names))));
    }

    /// <summary>What the marker row says: the catalog last created (null: none, or this start just created it) and the once-tasks finished.</summary>
    private sealed record Marker(string? Fingerprint, IReadOnlySet<string> Finished)
    {
        public static readonly Marker None = new(null, new HashSet<string>());
    }

    private const string FinishedPrefix = "Finished";

    /// <summary>The column that records a once-task finished.</summary>
    public static string FinishedColumn(string name) => FinishedPrefix + name;

    /// <summary>
    /// Creates the catalog unless the marker row says this account has it already: the row as read, or
    /// <see cref="Marker.None"/> when this start created the catalog (and rewrote the row, recording no task).
    /// </summary>
    private async Task<Marker> ProvisionOnceAsync(CancellationToken cancellationToken)
    {
        var fingerprint = Fingerprint(storage.Catalog);
        // The read started early (PrefetchMarker) on the first attempt; its failure is that attempt's failure.
        var marker = await TakeMarkerRead(cancellationToken);
        if (marker.Fingerprint == fingerprint)
            return marker;
        await ProvisionAsync(cancellationToken);
        var table = storage.Table(CatalogTable);
        // Written last: a start cut short before it provisions again.
        await table.UpsertEntityAsync(new TableEntity(MarkerPartition, MarkerRow) { ["Fingerprint"] = fingerprint, ["At"] = time.GetUtcNow() },
            TableUpdateMode.Replace, cancellationToken);
        return Marker.None;
    }

    /// <summary>Adds the once-tasks this start finished to the marker row (merged: other instances may record theirs).</summary>
    private async Task RecordFinishedAsync(List<string> finished, CancellationToken cancellationToken)
    {
        if (finished.Count == 0)
            return;
        var row = new TableEntity(MarkerPartition, MarkerRow);
        var now = time.GetUtcNow();
        foreach (var name in finished)
            row[FinishedColumn(name)] = now;
        await storage.Table(CatalogTable).UpsertEntityAsync(row, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>The marker row; <see cref="Marker.None"/> when there is none (or no marker table: a new account or prefix).</summary>
    private async Task<Marker> ReadMarkerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var read = await storage.Table(CatalogTable).GetEntityIfExistsAsync<TableEntity>(MarkerPartition, MarkerRow, cancellationToken: cancellationToken);
            if (!read.HasValue)
                return Marker.None;
            var row = read.Value!;
            var finished = row.Keys.Where(k => k.StartsWith(FinishedPrefix, StringComparison.Ordinal) && row[k] is not null)
                .Select(k => k[FinishedPrefix.Length..]).ToHashSet(StringComparer.Ordinal);
            return new Marker(row.GetString("Fingerprint"), finished);
        }
        catch (RequestFailedException ex) when (StorageFailure.IsMissingResource(ex) || ex.Status == 404)
        {
            return Marker.None;
        }
    }

    private async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        var work = new List<Task>();
        // The marker's own table too, whether or not the catalog declares it (a catalog built without the platform's).
        foreach (var table in storage.Catalog.Tables.Append(CatalogTable).Distinct(StringComparer.Ordinal))
            work.Add(storage.Table(table).CreateIfNotExistsAsync(cancellationToken));
        foreach (var queue in storage.Catalog.Queues)
            work.Add(storage.Queue(queue).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        foreach (var container in storage.Catalog.Containers)
            work.Add(storage.Container(container).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        await Task.WhenAll(work);
    }
}

/// <summary>Work that runs once storage is ready, in every environment (for example creating the first admin).</summary>
public interface IStartupTask
{
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}

/// <summary>
/// Start-up work that is done for good on an account once it has run to the end (a migration, a backfill): the storage
/// catalog's marker row then records it (<see cref="StorageReadiness"/>), and later starts skip it without a request.
/// It keeps its own marker row too, which it checks first whenever it does run.
/// </summary>
public interface IOnceStartupTask : IStartupTask
{
    /// <summary>Its name in the marker row: letters and digits, unique among the tasks.</summary>
    string Name { get; }

    /// <summary>True once the work is done for good on this account (its own marker is written); read after <see cref="IStartupTask.RunAsync"/>.</summary>
    bool Finished { get; }

    /// <summary>An earlier start recorded it finished: <see cref="IStartupTask.RunAsync"/> is not called this start.</summary>
    void FinishedBefore();
}

/// <summary>Classifies storage failures: "storage is down or missing a resource" (503) versus a real bug (500).</summary>
public static class StorageFailure
{
    private static readonly HashSet<string> MissingResourceCodes = new(StringComparer.Ordinal)
    {
        "TableNotFound", "QueueNotFound", "ContainerNotFound",
    };

    public static bool IsUnavailable(Exception ex) => ex switch
    {
        RequestFailedException rfe => rfe.Status == 0 || rfe.Status >= 500 || IsMissingResource(rfe)
                                      || (rfe.Status == 403 && rfe.ErrorCode is "AuthorizationFailure" or "AuthenticationFailed"),
        HttpRequestException => true,
        System.Net.Sockets.SocketException => true,
        TimeoutException => true,
        AggregateException agg => agg.InnerExceptions.Count > 0 && agg.InnerExceptions.All(IsUnavailable),
        Azure.Identity.AuthenticationFailedException => true,
        TaskCanceledException tce when tce.InnerException is TimeoutException => true,
        _ => ex.InnerException is not null && IsUnavailable(ex.InnerException),
    };

    public static bool IsMissingResource(Exception ex) =>
        ex is RequestFailedException { Status: 404 } rfe && rfe.ErrorCode is { } code && MissingResourceCodes.Contains(code);

    public static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null && inner is AggregateException or RequestFailedException { Status: 0 })
            inner = inner.InnerException;
        var message = inner.Message.Split('\n')[0].Trim();
        return message.Length > 160 ? message[..160] + "..." : message;
    }
}
