using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Bench;

/// <summary>
/// Cold start: process start to the first 200 on <c>GET /health</c>, for the product and for an empty ASP.NET Core app
/// (<c>bench/EmptyApp</c>) started the same way, each build alternately so both meet the same machine; the ratio
/// product ÷ empty is the figure to hold to (issue: at most 1.5 for the packaged build).
/// <para>
/// Both are started as the Functions host starts a custom handler on Flex Consumption: the executable with
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> set (the app then listens on loopback there and reads no local.settings.json),
/// every setting as an environment variable (the app settings: <c>local.settings.sample.json</c>'s values with the
/// bench's storage account and the two settings Production requires), in the Production environment (so no
/// development seed).
/// </para>
/// </summary>
public static class ColdStartRun
{
    /// <summary>The builds measured: the key in the JSON, the product's start, the empty app's start.</summary>
    sealed record Build(string Key, string Name, Func<string, ProcessStartInfo?> Product, Func<string, ProcessStartInfo?> Empty, string Missing);

    static readonly Build[] Builds =
    [
        new("standalone", "standalone (dotnet <app>.dll, Release build)",
            root => Dll(root, "Functions/bin/Release/net10.0/Functions.dll"),
            root => Dll(root, "bench/EmptyApp/bin/Release/net10.0/EmptyApp.dll"),
            "not built (dotnet build -c Release)"),
        new("packaged", "packaged (self-contained, composite ReadyToRun, as ./dev package publishes)",
            root => Executable(root, "artifacts/functionapp", "Functions"),
            root => Executable(root, "artifacts/emptyapp", "EmptyApp"),
            "not built (./dev bench publishes both)"),
    ];

    /// <summary>Only the cold starts: a fresh Azurite, the app once to create its tables (as a deployed account has them), then the runs.</summary>
    public static async Task<int> RunAloneAsync(bool smoke, int? runsOverride, bool timeline)
    {
        var root = Infra.FindRoot();
        Infra.EnsurePortsFree();
        await using var infra = new Infra(root);
        Console.WriteLine("Starting Azurite (in memory) and the app once, so the account has its tables, queues and containers...");
        await infra.StartAzuriteAsync(null);
        await infra.StartAppAsync();
        infra.StopApp();
        var cold = await MeasureAsync(infra, root, runsOverride ?? (smoke ? 1 : 5));
        Console.WriteLine();
        Console.WriteLine(Markdown(cold));
        if (timeline)
            foreach (var build in Builds)
                if (build.Product(root) is { } psi)
                    await TimelineAsync(infra, build, psi);
        return 0;
    }

    /// <summary>One more start of the app with STARTUP_TIMINGS=1: its phases, as it prints them.</summary>
    static async Task TimelineAsync(Infra infra, Build build, ProcessStartInfo psi)
    {
        psi.Environment["STARTUP_TIMINGS"] = "1";
        // BENCH_TIMELINE_ENV="A=1;B=2": more environment for this start only (a diagnostic port for dotnet-trace, say).
        foreach (var (k, v) in Pairs(Environment.GetEnvironmentVariable("BENCH_TIMELINE_ENV")))
            psi.Environment[k] = v;
        // BENCH_JIT_LOG=<dir>: every method this start jits, in <dir>/<build>.txt (the runtime's JitStdOutFile).
        if (Environment.GetEnvironmentVariable("BENCH_JIT_LOG") is { Length: > 0 } jitLog)
        {
            Directory.CreateDirectory(jitLog);
            psi.Environment["DOTNET_JitStdOutFile"] = Path.Combine(jitLog, build.Key + ".txt");
            psi.Environment["DOTNET_JitDisasmSummary"] = "1";
        }
        var lines = new List<string>();
        var sw = Stopwatch.StartNew();
        // The app's first line comes after its runtime has started, well after this handler is added.
        var p = infra.Start(psi);
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line && line.StartsWith("startup ", StringComparison.Ordinal)) lock (lines) lines.Add(line); };
        try
        {
            await Infra.WaitHealthyAsync(p, TimeSpan.FromSeconds(60));
            var healthy = sw.Elapsed.TotalMilliseconds;
            await Task.Delay(200);
            Console.WriteLine($"Start-up timeline, {build.Key} (STARTUP_TIMINGS=1; the bench saw the first 200 after {healthy:F0} ms):");
            lock (lines)
                foreach (var line in lines)
                    Console.WriteLine("  " + line);
        }
        finally
        {
            Infra.Stop(p);
        }
    }

    public static async Task<JsonObject> MeasureAsync(Infra infra, string root, int runs)
    {
        var cold = new JsonObject
        {
            ["how"] = "process start to the first 200 on GET /health, polled every 10 ms; started as the Functions host starts a custom handler " +
                      "(FUNCTIONS_CUSTOMHANDLER_PORT, settings as environment variables, Production); product and empty app alternately",
            ["runs"] = runs,
        };
        foreach (var build in Builds)
        {
            var product = build.Product(root);
            var empty = build.Empty(root);
            if (product is null || empty is null)
            {
                Console.WriteLine($"Cold start {build.Name}: skipped, {build.Missing}.");
                cold[build.Key] = null;
                continue;
            }
            var productTimes = new List<double>();
            var emptyTimes = new List<double>();
            var productCpu = new List<double>();
            var emptyCpu = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                var (wall, cpu) = await TimeAsync(infra, empty);
                emptyTimes.Add(wall);
                emptyCpu.Add(cpu);
                (wall, cpu) = await TimeAsync(infra, product);
                productTimes.Add(wall);
                productCpu.Add(cpu);
            }
            var productMedian = Median(productTimes);
            var emptyMedian = Median(emptyTimes);
            var ratio = productMedian / emptyMedian;
            Console.WriteLine($"Cold start {build.Name}: app median {productMedian:F0} ms ({Join(productTimes)}), " +
                              $"empty app median {emptyMedian:F0} ms ({Join(emptyTimes)}), ratio {ratio:F2}; " +
                              $"CPU used by then, median: app {Median(productCpu):F0} ms, empty app {Median(emptyCpu):F0} ms");
            cold[build.Key] = new JsonObject
            {
                ["median_ms"] = Math.Round(productMedian, 0),
                ["runs_ms"] = Array(productTimes),
                ["empty_median_ms"] = Math.Round(emptyMedian, 0),
                ["empty_runs_ms"] = Array(emptyTimes),
                ["ratio_to_empty"] = Math.Round(ratio, 2),
                ["cpu_median_ms"] = Math.Round(Median(productCpu), 0),
                ["empty_cpu_median_ms"] = Math.Round(Median(emptyCpu), 0),
            };
        }
        return cold;
    }

    public static string Markdown(JsonNode? cold)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| cold start (process start → first 200 on /health, as a custom handler, Production) | app median ms | empty app median ms | ratio app ÷ empty | app runs ms | empty app runs ms | CPU by then, app / empty ms |");
        sb.AppendLine("|---|---:|---:|---:|---|---|---:|");
        foreach (var build in Builds)
        {
            var c = cold?[build.Key];
            sb.AppendLine(c is null
                ? $"| {build.Key} | – | – | – | {build.Missing} | | |"
                : $"| {build.Key} | {c["median_ms"]} | {c["empty_median_ms"]} | {c["ratio_to_empty"]} | {Join(c["runs_ms"]!)} | {Join(c["empty_runs_ms"]!)} | {c["cpu_median_ms"]} / {c["empty_cpu_median_ms"]} |");
        }
        return sb.ToString();
    }

    /// <summary>Milliseconds to the first 200, and the CPU the process had used by then (all its threads, user and kernel).</summary>
    static async Task<(double Wall, double Cpu)> TimeAsync(Infra infra, ProcessStartInfo psi)
    {
        var sw = Stopwatch.StartNew();
        var p = infra.Start(psi);
        try
        {
            await Infra.WaitHealthyAsync(p, TimeSpan.FromSeconds(60));
            var wall = sw.Elapsed.TotalMilliseconds;
            p.Refresh();
            return (wall, p.TotalProcessorTime.TotalMilliseconds);
        }
        finally
        {
            Infra.Stop(p);
        }
    }

    static ProcessStartInfo? Dll(string root, string dll)
    {
        var path = Path.Combine(root, dll);
        if (!File.Exists(path))
            return null;
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(path)! };
        psi.ArgumentList.Add(path);
        return Configure(psi, root);
    }

    static ProcessStartInfo? Executable(string root, string directory, string name)
    {
        var dir = Path.Combine(root, directory);
        var path = Path.Combine(dir, name);
        return File.Exists(path) ? Configure(new ProcessStartInfo(path) { WorkingDirectory = dir }, root) : null;
    }

    /// <summary>
    /// The environment the Functions host gives a custom handler: the app settings (the sample's values, with the
    /// bench's storage account and the same overrides as the other scenarios), the port to listen on, Production.
    /// </summary>
    static ProcessStartInfo Configure(ProcessStartInfo psi, string root)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "local.settings.sample.json"))))
            foreach (var setting in doc.RootElement.GetProperty("Values").EnumerateObject())
                psi.Environment[setting.Name] = setting.Value.ToString();
        foreach (var (k, v) in Infra.AppEnvironment(root))
            psi.Environment[k] = v;
        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("LOCAL_SETTINGS_PATH");
        psi.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = Infra.AppPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // What Production requires beyond the sample (the app refuses to start without them). The rate feed is only
        // read by a timer, which the Functions host (absent here) would trigger: nothing contacts it.
        psi.Environment["Checkout__MarketRatesUrl"] = "https://rates.invalid/feed";
        psi.Environment["Commerce__GasFeeSigningKey"] = "bench-gas-fee-signing-key-0123456789abcdef";
        foreach (var (k, v) in Extra)
            psi.Environment[k] = v;
        return psi;
    }

    /// <summary>BENCH_COLD_ENV="A=1;B=2": more environment for both apps' cold starts (to try a setting without a rebuild).</summary>
    static readonly IReadOnlyList<(string, string)> Extra = Pairs(Environment.GetEnvironmentVariable("BENCH_COLD_ENV"));

    static List<(string, string)> Pairs(string? list) =>
        (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries)
        .Select(s => s.Split('=', 2)).Where(p => p.Length == 2).Select(p => (p[0], p[1])).ToList();

    static double Median(List<double> times)
    {
        var sorted = times.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    static JsonArray Array(IEnumerable<double> times) => new(times.Select(t => (JsonNode?)Math.Round(t, 0)).ToArray());

    static string Join(IEnumerable<double> times) => string.Join(", ", times.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)));

    static string Join(JsonNode times) => string.Join(", ", times.AsArray().Select(x => x!.ToString()));
}
