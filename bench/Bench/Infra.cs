using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;

namespace Serverless.Bench;

/// <summary>Processes this tool starts (and only those): Azurite, the app, wrk. Every one is killed by its own PID.</summary>
public sealed class Infra : IAsyncDisposable
{
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    /// <summary>BENCH_PORT_OFFSET moves every port this tool uses (Azurite 10200-10202, app 7200, receiver 7201) by the
    /// same amount, so two checkouts can run the bench or faults at once.</summary>
    static readonly int PortOffset = int.TryParse(Environment.GetEnvironmentVariable("BENCH_PORT_OFFSET"), out var o) ? o : 0;
    public static readonly int BlobPort = 10200 + PortOffset, QueuePort = 10201 + PortOffset, TablePort = 10202 + PortOffset,
        AppPort = 7200 + PortOffset, ReceiverPort = 7201 + PortOffset;
    public static readonly string AppUrl = $"http://127.0.0.1:{AppPort}";

    public static string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AccountKey +
        $";BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1" +
        $";TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public string Root { get; }
    public Process? Azurite { get; private set; }
    public Process? App { get; private set; }
    private readonly List<Process> started = [];

    public Infra(string root)
    {
        Root = root;
        // Ctrl-C or SIGTERM: stop what this run started (and nothing else) before exiting.
        Console.CancelKeyPress += (_, _) => StopAll();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    }

    void StopAll()
    {
        foreach (var p in started.ToArray())
            Stop(p);
    }

    public static string FindRoot()
    {
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Run from inside the repository (Serverless.sln not found).");
    }

    public static void EnsurePortsFree()
    {
        foreach (var port in new[] { BlobPort, QueuePort, TablePort, AppPort, ReceiverPort })
            if (PortOpen(port))
                throw new InvalidOperationException($"Port {port} on 127.0.0.1 is in use; another bench or faults run may still be going.");
    }

    public static bool PortOpen(int port)
    {
        try
        {
            using var client = new TcpClient();
            var task = client.ConnectAsync("127.0.0.1", port);
            return task.Wait(200) && client.Connected;
        }
        catch
        {
            return false;
        }
    }

    /// <summary>
    /// Azurite in memory (<paramref name="location"/> null) or on disk at <paramref name="location"/>. On disk it runs
    /// with <c>bench/azurite-durable.js</c> preloaded (unless <paramref name="durable"/> is false): every write is
    /// saved before Azurite acknowledges it, instead of every 5 s.
    /// </summary>
    public async Task StartAzuriteAsync(string? location, bool durable = true)
    {
        var args = new List<string>();
        if (location is not null && durable)
            args.AddRange(["-r", Path.Combine(Root, "bench/azurite-durable.js")]);
        args.AddRange(
        [
            Path.Combine(Root, "node_modules/azurite/dist/src/azurite.js"), "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl",
            "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
            "--blobPort", BlobPort.ToString(), "--queuePort", QueuePort.ToString(), "--tablePort", TablePort.ToString(),
        ]);
        if (location is null)
            args.Add("--inMemoryPersistence");
        else
            args.AddRange(["--location", location]);
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        Azurite = Start(psi);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(PortOpen(TablePort) && PortOpen(QueuePort) && PortOpen(BlobPort)))
        {
            if (Azurite.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"Azurite did not start on {BlobPort}-{TablePort} (--verbose prints its standard error).");
            await Task.Delay(100);
        }
        await AnsweringThroughSharedPoolAsync(deadline);
    }

    /// <summary>
    /// Until each of the three services answers a request sent through the Azure SDK's shared connection pool, one try
    /// at a time. After a restart that pool can still hold connections to the Azurite just killed, and the SDK's own
    /// few retries (the product's StorageAccount allows 3 tries) can all meet dead ones; each failed try here drops one.
    /// </summary>
    private async Task AnsweringThroughSharedPoolAsync(DateTime deadline)
    {
        var once = new Azure.Data.Tables.TableClientOptions();
        once.Retry.MaxRetries = 0;
        var tables = new Azure.Data.Tables.TableServiceClient(ConnectionString, once);
        var queueOptions = new Azure.Storage.Queues.QueueClientOptions();
        queueOptions.Retry.MaxRetries = 0;
        var queues = new Azure.Storage.Queues.QueueServiceClient(ConnectionString, queueOptions);
        var blobOptions = new Azure.Storage.Blobs.BlobClientOptions();
        blobOptions.Retry.MaxRetries = 0;
        var blobs = new Azure.Storage.Blobs.BlobServiceClient(ConnectionString, blobOptions);
        Func<Task>[] probes =
        [
            async () => { await foreach (var _ in tables.QueryAsync(maxPerPage: 1)) break; },
            () => queues.GetPropertiesAsync(),
            () => blobs.GetPropertiesAsync(),
        ];
        foreach (var probe in probes)
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await probe();
                    break;
                }
                catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or IOException)
                {
                    if (Azurite is not { HasExited: false } || DateTime.UtcNow > deadline)
                        throw new InvalidOperationException($"Azurite on {BlobPort}-{TablePort} does not answer ({attempt} tries): {e.Message}", e);
                    if (Verbose)
                        Console.Error.WriteLine($"[bench] storage try {attempt} after a start failed: {e.Message}");
                }
            }
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void KillAzurite()
    {
        if (Azurite is { HasExited: false } p)
        {
            p.Kill(); // SIGKILL on Linux
            p.WaitForExit(5000);
        }
        Azurite = null;
    }

    public static Dictionary<string, string> AppEnvironment(string root) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["DOTNET_ENVIRONMENT"] = "Development",
        ["ASPNETCORE_URLS"] = AppUrl,
        ["AzureWebJobsStorage"] = ConnectionString,
        ["Storage__Prefix"] = "",
        ["PublicBaseUrl"] = AppUrl,
        ["LOCAL_SETTINGS_PATH"] = Path.Combine(root, "local.settings.sample.json"),
        ["Logging__LogLevel__Default"] = "Warning",
        ["RateLimits__PerCaller__PermitLimit"] = "100000000",
        ["RateLimits__Auth__PermitLimit"] = "100000000",
        ["Metering__ExposeStorageCount"] = "true",
        ["Jwt__SigningKey"] = SampleSetting(root, "Jwt__SigningKey"),
    };

    public static string SampleSetting(string root, string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "local.settings.sample.json")));
        return doc.RootElement.GetProperty("Values").GetProperty(name).GetString()!;
    }

    /// <summary>The standalone Release build (<c>dotnet Functions.dll</c>), or the packaged executable.</summary>
    public static ProcessStartInfo AppStartInfo(string root, bool packaged, IDictionary<string, string>? extra = null)
    {
        ProcessStartInfo psi;
        if (packaged)
        {
            var dir = Path.Combine(root, "artifacts/functionapp");
            psi = new ProcessStartInfo(Path.Combine(dir, "Functions")) { WorkingDirectory = dir };
        }
        else
        {
            psi = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.Combine(root, "Functions/bin/Release/net10.0") };
            psi.ArgumentList.Add(Path.Combine(root, "Functions/bin/Release/net10.0/Functions.dll"));
        }
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        foreach (var (k, v) in AppEnvironment(root))
            psi.Environment[k] = v;
        if (extra is not null)
            foreach (var (k, v) in extra)
                psi.Environment[k] = v;
        return psi;
    }

    public async Task StartAppAsync(bool packaged = false, IDictionary<string, string>? extra = null)
    {
        App = Start(AppStartInfo(Root, packaged, extra));
        await WaitHealthyAsync(App, TimeSpan.FromSeconds(60));
    }

    public static async Task<TimeSpan> WaitHealthyAsync(Process process, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The app exited with code {process.ExitCode} before /health answered 200.");
            try
            {
                using var response = await http.GetAsync(AppUrl + "/health");
                if ((int)response.StatusCode == 200)
                    return sw.Elapsed;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("/health did not answer 200 in time.");
    }

    public Process Start(ProcessStartInfo psi)
    {
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName}.");
        // Drain output so the child never blocks on a full pipe; the app logs only warnings here (--verbose prints them).
        if (psi.RedirectStandardOutput)
            p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line && Verbose) Console.Error.WriteLine($"[{Path.GetFileName(psi.FileName)}] {line}"); };
        if (psi.RedirectStandardError)
            p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line && Verbose) Console.Error.WriteLine($"[{Path.GetFileName(psi.FileName)}] {line}"); };
        if (psi.RedirectStandardOutput)
            p.BeginOutputReadLine();
        if (psi.RedirectStandardError)
            p.BeginErrorReadLine();
        started.Add(p);
        return p;
    }

    public static bool Verbose { get; set; }

    public static void Stop(Process? p)
    {
        if (p is null)
            return;
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void StopApp()
    {
        Stop(App);
        App = null;
    }

    public ValueTask DisposeAsync()
    {
        StopAll();
        return ValueTask.CompletedTask;
    }

    /// <summary>Peak resident set (VmHWM) and current (VmRSS) of a process, in KiB.</summary>
    public static (long Peak, long Current) Rss(Process p)
    {
        long peak = 0, current = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
            {
                if (line.StartsWith("VmHWM:"))
                    peak = long.Parse(line[6..].Trim().Split(' ')[0]);
                else if (line.StartsWith("VmRSS:"))
                    current = long.Parse(line[6..].Trim().Split(' ')[0]);
            }
        }
        catch (IOException)
        {
        }
        return (peak, current);
    }
}
