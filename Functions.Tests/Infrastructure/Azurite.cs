using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// One real Azurite per test run, started from the repository's node_modules, in memory, on free ports. Test
/// classes share it and keep apart by storage name prefix, so they run in parallel and leave nothing behind.
/// </summary>
public static class Azurite
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly Lazy<Task<string>> Started = new(StartAsync);
    private static Process? _process;

    /// <summary>The connection string of the running emulator (started on first use).</summary>
    public static Task<string> ConnectionStringAsync() => Started.Value;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>A connection string that points at nothing: for tests of storage being unreachable.</summary>
    public static string Unreachable()
    {
        var port = FreePort();
        return Build(port, port, port);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> StartAsync()
    {
        var script = Path.Combine(RepositoryRoot, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
            throw new InvalidOperationException($"Azurite is not installed at {script}: run ./dev test (it runs npm ci).");
        int blob = FreePort(), queue = FreePort(), table = FreePort();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                "--require", Path.Combine(RepositoryRoot, "Functions.Tests", "Infrastructure", "exit-with-parent.js"),
                script, "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl", "--loose",
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment = { ["EXIT_WITH_PARENT_PID"] = Environment.ProcessId.ToString() },
        };
        var listening = 0;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.Contains("successfully listening", StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref listening) == 3)
                ready.TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("Azurite exited: " + output));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return Build(blob, queue, table);
    }

    private static void Stop()
    {
        try
        {
            if (_process is { HasExited: false })
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static string Build(int blob, int queue, int table) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AccountKey + ";" +
        $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Could not find the repository root (Serverless.sln) above " + AppContext.BaseDirectory);
    }
}
