using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Serverless.Print.Shops;

namespace Serverless.Bench;

/// <summary>One wrk run: throughput, latency and errors, as wrk's done() reports them.</summary>
public sealed record WrkResult(long Requests, double DurationSeconds, long Errors, long Non2xx, double P50Ms, double P99Ms, double MaxMs)
{
    public double Rps => Requests / DurationSeconds;
}

public static class BenchRun
{
    public const int Connections = 32, Threads = 2;

    /// <summary>Metering requests of the current scenario that got no answer (added to its errors).</summary>
    static int SampleFailures;

    public static async Task<int> RunAsync(bool smoke)
    {
        var root = Infra.FindRoot();
        var duration = smoke ? 2 : 15;
        var warmup = smoke ? 1 : 5;
        Infra.EnsurePortsFree();
        var scripts = Directory.CreateTempSubdirectory("bench-lua-");
        await using var infra = new Infra(root);
        // The upload scenario's PDF is made first: a generator that fails stops the run before anything starts.
        var pdf = UploadRun.WritePdf(scripts.FullName);
        var result = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("o"),
            ["commit"] = Git(root, "rev-parse --short HEAD"),
            ["smoke"] = smoke,
            ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString() },
            ["load"] = new JsonObject { ["tool"] = "wrk", ["threads"] = Threads, ["connections"] = Connections, ["duration_s"] = duration, ["warmup_s"] = warmup },
        };
        try
        {
            Console.WriteLine("Starting Azurite (in memory, 127.0.0.1:10200-10202) and the app (Release, standalone, :7200)...");
            await infra.StartAzuriteAsync(null);
            await infra.StartAppAsync();

            // Ceiling (b): the same storage operations straight through the SDK, same concurrency (the app runs
            // meanwhile, idle, its pumps polling, as during the scenarios).
            Console.WriteLine($"Ceiling (b): Azurite through the Azure SDK, {Connections} tasks, {duration} s per operation set...");
            var sdk = new SdkCeiling(Infra.ConnectionString);
            await sdk.SetupAsync();
            var ceilingB = new Dictionary<string, double>();
            foreach (var kind in new[] { "health", "create", "get", "login", "profile", "balance", "walletpay", "shops", "stats" })
            {
                await sdk.RunAsync(kind, Connections, TimeSpan.FromSeconds(warmup));
                ceilingB[kind] = await sdk.RunAsync(kind, Connections, TimeSpan.FromSeconds(duration));
                Console.WriteLine($"  {kind,-8} {ceilingB[kind],10:F0} scenario-equivalents/s ({SdkCeiling.Describe(kind)})");
            }
            // The scenarios get a fresh Azurite (and app): the ceiling's rows and messages must not slow them (Azurite's
            // in-memory store scans them), and deleting its queue instead would leave thousands of unreferenced message
            // extents to Azurite's queue GC (a pass every 60 s), which removes them one by one with a LokiJS
            // findAndRemove that is quadratic in their number: ~4,000 of them blocked Azurite's only thread for ~30 s,
            // two minutes into the run, right after the create warm-up.
            Console.WriteLine("Restarting Azurite (in memory, empty) and the app for the scenarios...");
            infra.StopApp();
            infra.KillAzurite();
            await infra.StartAzuriteAsync(null);
            await infra.StartAppAsync();
            using var http = new HttpClient { BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30) };
            var token = await Login(http);
            var seededId = await CreatePreOrder(http, token);
            var customerToken = await PrintLogin(http);
            var printAdminToken = await PrintAdminLogin(http);
            Console.WriteLine($"Seeding {ShopsBench.Count:N0} shops into the shop index ({ShopsBench.Near} within 3 km of the point searched)...");
            await ShopsBench.SeedAsync(new TableServiceClient(Infra.ConnectionString).GetTableClient(ShopKeys.TableName));

            var createBody = JsonSerializer.Serialize(CreateBody());
            var loginBody = JsonSerializer.Serialize(new { username = "demo-merchant", password = "demo-merchant-password" });
            // One paisa a time from the seeded ₹500: a full run spends a few tens of rupees, always scenario A.
            var walletPayBody = JsonSerializer.Serialize(new { amount = 0.01m, use_wallet = true, print_type = "private" });
            var scenarios = new List<Scenario>
            {
                new("minimal GET / (ceiling a)", "GET", "/", null, null, "none"),
                new("GET /health", "GET", "/health", null, null, "health"),
                new("pre-order create", "POST", "/api/pre-orders", createBody, token, "create"),
                new("pre-order get", "GET", $"/api/pre-orders/{seededId}", null, token, "get"),
                new("login", "POST", "/api/auth/login", loginBody, null, "login"),
                new("print profile get", "GET", "/profile", null, customerToken, "profile"),
                new("print wallet payment (scenario A)", "POST", "/create-payment-order", walletPayBody, customerToken, "walletpay"),
                new("print wallet balance", "GET", "/wallet/balance", null, customerToken, "balance"),
                // Azurite evaluates every table query by scanning the whole table (10,000 shops): 8 connections keep its queue
                // under wrk's 10 s timeout; 32 add only waiting.
                new("print shops near a point", "GET", ShopsBench.Path, null, customerToken, "shops", Connections: 8),
                // Its 8 open-shops queries meet the same whole-table scans (10,000 shops seeded above): 8 connections, as there.
                new("print admin dashboard stats", "GET", "/admin/dashboard/stats", null, printAdminToken, "stats", Connections: 8),
            };

            var rows = new JsonArray();
            double? ceilingA = null;
            foreach (var s in scenarios)
            {
                var script = WriteScript(scripts.FullName, s);
                var connections = s.Connections ?? Connections;
                Console.WriteLine($"Scenario {s.Name}: warm-up {warmup} s, then wrk -t{Threads} -c{connections} -d{duration}s...");
                await Wrk(script, s.Path, warmup, connections);
                SampleFailures = 0;
                var storageCount = await StorageRequests(http, s);
                var (wrk, rssMax) = await WrkSampling(script, s.Path, duration, infra.App!, connections);
                var (peak, _) = Infra.Rss(infra.App!);
                if (s.Kind == "none")
                    ceilingA = wrk.Rps;
                var row = new JsonObject
                {
                    ["scenario"] = s.Name,
                    ["connections"] = connections,
                    ["method"] = s.Method,
                    ["path"] = s.Path.StartsWith("/api/pre-orders/") ? "/api/pre-orders/{id}" : s.Path,
                    ["requests"] = wrk.Requests,
                    ["rps"] = Math.Round(wrk.Rps, 1),
                    ["p50_ms"] = Math.Round(wrk.P50Ms, 2),
                    ["p99_ms"] = Math.Round(wrk.P99Ms, 2),
                    ["max_ms"] = Math.Round(wrk.MaxMs, 2),
                    ["errors"] = wrk.Errors + wrk.Non2xx + SampleFailures,
                    ["metering_request_failures"] = SampleFailures,
                    ["non_2xx"] = wrk.Non2xx,
                    ["socket_errors"] = wrk.Errors,
                    ["storage_requests_per_request"] = storageCount.Median,
                    ["storage_requests_samples"] = new JsonArray(storageCount.All.Select(n => (JsonNode?)n).ToArray()),
                    ["app_peak_rss_mib"] = Math.Round(peak / 1024.0, 1),
                    ["app_max_sampled_rss_mib"] = Math.Round(rssMax / 1024.0, 1),
                };
                if (s.Kind != "none")
                {
                    var ratioA = wrk.Rps / ceilingA!.Value;
                    var ratioB = wrk.Rps / ceilingB[s.Kind];
                    row["ratio_to_minimal_endpoint"] = Math.Round(ratioA, 3);
                    row["sdk_ceiling_rps"] = Math.Round(ceilingB[s.Kind], 1);
                    row["ratio_to_sdk_ceiling"] = Math.Round(ratioB, 3);
                    // The bounding ceiling is the lower of the two: the scenario can beat neither.
                    var bound = ceilingB[s.Kind] < ceilingA.Value ? "b" : "a";
                    row["bounding_ceiling"] = bound;
                    row["ratio_to_bounding_ceiling"] = Math.Round(bound == "b" ? ratioB : ratioA, 3);
                }
                rows.Add(row);
            }
            // The ledger: no endpoint spends from one yet, so the product's Ledger runs in this process against the
            // same Azurite (the app idle meanwhile), with the same concurrency and durations as the wrk scenarios.
            // Uploads need a fresh paid payment order each and a multipart body: driven from here, not wrk.
            rows.Add(await UploadRun.RunAsync(UploadRun.Name, pdf, customerToken, infra.App!, warmup, duration));
            rows.Add(await PaymentRun.RunAsync("sandbox intent round trip", token, Connections, warmup, duration));
            // Commerce: one product with a token for every create the run can make (tens per second here). Azurite evaluates
            // a table query by scanning the whole table, so more tokens than that only slow every preview and create.
            var commerceToken = await CommerceRun.SignInAsync(http);
            var commerceProduct = await CommerceRun.SeedProductAsync(smoke ? 500 : 3_000);
            rows.Add(await CommerceRun.RunAsync("commerce order preview", create: false, commerceToken, commerceProduct, warmup, duration));
            rows.Add(await CommerceRun.RunAsync("commerce order create", create: true, commerceToken, commerceProduct, warmup, duration));
            // Checkout: the development seed's store creates orders (a new ecommerceOrderId each), creates one again and reads one.
            foreach (var row in await CheckoutRun.RunAllAsync(warmup, duration))
                rows.Add(row);
            rows.Add(await LedgerRun.RunAsync($"ledger: {Connections} spenders, one wallet", 1, Connections, warmup, duration));
            rows.Add(await LedgerRun.RunAsync($"ledger: {Connections} spenders, {Connections} wallets", Connections, Connections, warmup, duration));
            result["scenarios"] = rows;
            result["ceiling_a_rps"] = ceilingA is { } a ? Math.Round(a, 1) : null;
            result["ceiling_b_rps"] = new JsonObject(ceilingB.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 1))));
            result["app_peak_rss_mib"] = Math.Round(Infra.Rss(infra.App!).Peak / 1024.0, 1);
            infra.StopApp();

            // Cold start: process start to the first 200 on /health, the app and the empty app, the median of 5 (smoke: 1).
            var cold = await ColdStartRun.MeasureAsync(infra, root, smoke ? 1 : 5);
            result["cold_start"] = cold;

            // Deadlines last, on a fresh Azurite with no app: after the scenarios above, Azurite's one thread is so busy
            // with what they left (one full run: the first deadline 47 s late at p50, the Durable Task worker a minute
            // to start) that the figures would be Azurite's backlog, not either engine. Ours (the product's scheduler
            // and pump in this process) and then the Durable Task Framework's timers (its own task hub).
            Console.WriteLine("Restarting Azurite (in memory, empty) for the deadlines...");
            infra.KillAzurite();
            await infra.StartAzuriteAsync(null);
            foreach (var row in await DeadlinesRun.RunAllAsync(smoke))
                rows.Add(row);

            var file = Path.Combine(root, "bench/results", $"{DateTime.UtcNow:yyyy-MM-dd}-{result["commit"]}{(smoke ? "-smoke" : "")}.json");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine();
            Console.WriteLine(Markdown(result));
            Console.WriteLine($"Wrote {Path.GetRelativePath(root, file)}");
            var errors = rows.Sum(r => r!["errors"]!.GetValue<long>());
            var idle = rows.Where(r => r!["requests"]!.GetValue<long>() == 0).Select(r => r!["scenario"]!.ToString()).ToList();
            if (errors > 0)
                Console.Error.WriteLine($"bench: {errors} errors (non-2xx or socket errors, failed movements); the figures are not valid.");
            if (idle.Count > 0)
                Console.Error.WriteLine($"bench: no request completed in: {string.Join(", ", idle)}.");
            return errors > 0 || idle.Count > 0 ? 1 : 0;
        }
        finally
        {
            scripts.Delete(recursive: true);
        }
    }

    public static string Markdown(JsonObject result)
    {
        var sb = new StringBuilder();
        var load = result["load"]!;
        sb.AppendLine($"Commit {result["commit"]}, {result["date"]}, {result["machine"]!["cores"]} cores; wrk -t{load["threads"]} -c{load["connections"]} -d{load["duration_s"]}s after {load["warmup_s"]} s warm-up{(result["smoke"]!.GetValue<bool>() ? " (SMOKE: figures are not meaningful)" : "")}");
        sb.AppendLine();
        sb.AppendLine("| scenario | req/s | p50 ms | p99 ms | max ms | errors | storage req/req | peak RSS MiB | SDK ceiling req/s | ratio to a | ratio to b | ratio to bounding |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in result["scenarios"]!.AsArray())
        {
            string F(string key) => r![key] is { } v ? v.ToString() : "–";
            var bound = r!["bounding_ceiling"] is { } b ? $"{F("ratio_to_bounding_ceiling")} ({b})" : "–";
            if (r["settings"] is not null && r["deadlines"] is not null)
                continue; // A deadlines row: its own table below.
            if (r["etag_loop"] is not null)
            {
                // A ledger row: movements/s, the mean storage requests per movement (its range), and the ETag loop as (b).
                var range = r["storage_requests_min"]!.ToString() == r["storage_requests_max"]!.ToString() ? "" : $" ({F("storage_requests_min")}–{F("storage_requests_max")})";
                sb.AppendLine($"| {F("scenario")} | {F("rps")} | {F("p50_ms")} | {F("p99_ms")} | {F("max_ms")} | {F("errors")} | {F("storage_requests_per_request")}{range} | – | {F("etag_loop_rps")} (ETag loop) | – | {F("ratio_to_etag_loop")} | – |");
                continue;
            }
            if (r["storage_requests_checkout"] is not null)
            {
                // The payment row: round trips/s, latency of checkout + confirmation, storage of the two requests.
                sb.AppendLine($"| {F("scenario")} | {F("rps")} | {F("p50_ms")} | {F("p99_ms")} | {F("max_ms")} | {F("errors")} | {F("storage_requests_per_request")} ({F("storage_requests_checkout")} + {F("storage_requests_confirmation")}) | – | – | – | – | – |");
                continue;
            }
            var samples = r["storage_requests_samples"]?.AsArray().Select(x => x!.GetValue<int>()).ToList() ?? [];
            // The upload row keeps every upload's count as its median and range instead of 5 samples.
            if (r["storage_requests_min"] is { } min && r["storage_requests_max"] is { } max)
                samples = [min.GetValue<int>(), max.GetValue<int>()];
            var storage = samples.Count > 0 && samples.Min() != samples.Max() ? $"{F("storage_requests_per_request")} ({samples.Min()}–{samples.Max()})" : F("storage_requests_per_request");
            sb.AppendLine($"| {F("scenario")} | {F("rps")} | {F("p50_ms")} | {F("p99_ms")} | {F("max_ms")} | {F("errors")} | {storage} | {F("app_peak_rss_mib")} | {F("sdk_ceiling_rps")} | {F("ratio_to_minimal_endpoint")} | {F("ratio_to_sdk_ceiling")} | {bound} |");
        }
        if (result["scenarios"]!.AsArray().Any(r => r!["scenario"]?.ToString() == UploadRun.Name))
        {
            sb.AppendLine();
            sb.AppendLine($"The upload row is driven over HTTP by {UploadRun.Workers} workers, not wrk: req/s is uploads/s (each worker also creates its wallet-paid payment order, untimed), "
                          + "latency is the upload request alone, storage req/req is the median over every upload (its range).");
        }
        var ledger = result["scenarios"]!.AsArray().Where(r => r!["etag_loop"] is not null).ToList();
        if (ledger.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Ledger rows are driven in-process (the product's `Ledger.DebitAsync`, no HTTP, 32 tasks): req/s is movements/s, latency is per movement, "
                          + "storage req/req is the mean per movement (its range), and (b) is the single-row ETag update loop at the same concurrency: ratio to b = ledger ÷ ETag loop.");
            sb.AppendLine();
            sb.AppendLine("| baseline: ETag update loop | updates/s | p50 ms | p99 ms | max ms | storage req/update | 412 per update | updates over 10 attempts |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in ledger)
            {
                var l = r!["etag_loop"]!;
                sb.AppendLine($"| {r["scenario"]} | {l["rps"]} | {l["p50_ms"]} | {l["p99_ms"]} | {l["max_ms"]} | {l["storage_requests_per_update"]} | {l["conflicts_412_per_update"]} | {l["updates_over_seam_attempts"]} |");
            }
        }
        var deadlines = result["scenarios"]!.AsArray().Where(r => r!["settings"] is not null && r["deadlines"] is not null).ToList();
        if (deadlines.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Deadlines: lateness = side effect time − due time (negative: early), over every deadline; storage requests are all either engine sent "
                          + "from the first schedule to the last side effect (polling included), per deadline, the scheduling part in brackets.");
            sb.AppendLine();
            sb.Append(DeadlinesRun.Markdown(deadlines));
        }
        sb.AppendLine();
        sb.Append(ColdStartRun.Markdown(result["cold_start"]));
        return sb.ToString();
    }

    /// <summary>A wrk scenario; <paramref name="Connections"/> overrides the usual 32 where the emulator cannot serve that many in time.</summary>
    public sealed record Scenario(string Name, string Method, string Path, string? Body, string? Token, string Kind, int? Connections = null);

    static string Lua(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    static string WriteScript(string dir, Scenario s)
    {
        var lua = new StringBuilder();
        lua.AppendLine($"wrk.method = {Lua(s.Method)}");
        if (s.Body is not null)
        {
            lua.AppendLine($"wrk.body = {Lua(s.Body)}");
            lua.AppendLine("wrk.headers[\"Content-Type\"] = \"application/json\"");
        }
        if (s.Token is not null)
            lua.AppendLine($"wrk.headers[\"Authorization\"] = {Lua("Bearer " + s.Token)}");
        lua.AppendLine("""
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("BENCHJSON {\"requests\":%.0f,\"duration_us\":%.0f,\"connect\":%.0f,\"read\":%.0f,\"write\":%.0f,\"status\":%.0f,\"timeout\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f}\n",
                summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
                latency:percentile(50), latency:percentile(99), latency.max))
            end
            """);
        var file = System.IO.Path.Combine(dir, s.Kind + ".lua");
        File.WriteAllText(file, lua.ToString());
        return file;
    }

    static async Task<WrkResult> Wrk(string script, string path, int seconds, int connections = Connections)
    {
        var psi = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { $"-t{Threads}", $"-c{connections}", $"-d{seconds}s", "--timeout", "10s", "--latency", "-s", script, Infra.AppUrl + path })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit((seconds + 30) * 1000))
        {
            p.Kill();
            throw new TimeoutException("wrk did not finish.");
        }
        var text = await stdout;
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("BENCHJSON "))
                   ?? throw new InvalidOperationException($"wrk printed no result:\n{text}\n{await stderr}");
        using var doc = JsonDocument.Parse(line["BENCHJSON ".Length..]);
        var j = doc.RootElement;
        double D(string k) => j.GetProperty(k).GetDouble();
        return new WrkResult((long)D("requests"), D("duration_us") / 1e6, (long)(D("connect") + D("read") + D("write") + D("timeout")),
            (long)D("status"), D("p50_us") / 1000, D("p99_us") / 1000, D("max_us") / 1000);
    }

    static async Task<(WrkResult, long RssMaxKb)> WrkSampling(string script, string path, int seconds, Process app, int connections = Connections)
    {
        using var cts = new CancellationTokenSource();
        long max = 0;
        var sampler = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                max = Math.Max(max, Infra.Rss(app).Current);
                try { await Task.Delay(100, cts.Token); } catch (OperationCanceledException) { }
            }
        });
        var result = await Wrk(script, path, seconds, connections);
        cts.Cancel();
        await sampler;
        return (result, max);
    }

    /// <summary>X-Storage-Requests of 5 requests of the scenario: the median, and every value for the JSON.</summary>
    static async Task<(int? Median, int[] All)> StorageRequests(HttpClient http, Scenario s)
    {
        var all = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            try
            {
                if (await StorageRequestsOnce(http, s) is { } n)
                    all.Add(n);
            }
            catch (Exception e) when (e is TaskCanceledException or HttpRequestException)
            {
                // Counted as an error of the scenario: a request that does not answer within 30 s is a failure.
                Console.Error.WriteLine($"  {s.Name}: a metering request failed after {http.Timeout.TotalSeconds:F0} s or less: {e.GetType().Name}: {e.Message}");
                SampleFailures++;
            }
        }
        all.Sort();
        return (all.Count == 0 ? null : all[all.Count / 2], all.ToArray());
    }

    static async Task<int?> StorageRequestsOnce(HttpClient http, Scenario s)
    {
        using var request = new HttpRequestMessage(new HttpMethod(s.Method), s.Path);
        if (s.Body is not null)
            request.Content = new StringContent(s.Body, Encoding.UTF8, "application/json");
        if (s.Token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", s.Token);
        var sw = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        int? count = response.Headers.TryGetValues("X-Storage-Requests", out var values) && int.TryParse(values.First(), out var n) ? n : null;
        if (!response.IsSuccessStatusCode)
        {
            // The count of a failed request (a 503 after retries, say) is not the scenario's cost: an error, not a sample.
            Console.Error.WriteLine($"  {s.Name}: a metering request answered {(int)response.StatusCode} after {sw.ElapsedMilliseconds} ms " +
                                    $"(X-Storage-Requests {count?.ToString() ?? "absent"}): {Truncate(await response.Content.ReadAsStringAsync(), 200)}");
            SampleFailures++;
            return null;
        }
        return count;
    }

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";

    public static object CreateBody() => new
    {
        amount = 25.00m,
        currency = "USD",
        description = "Bench pre-order",
        expiration_date = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-ddTHH:mm:ssZ"),
        customer = new { name = "Bench Customer", email = "bench@example.com", phone = "+1234567890" },
    };

    public static async Task<string> Login(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/api/auth/login", new { username = "demo-merchant", password = "demo-merchant-password" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>The development seed's print-shop customer.</summary>
    public static async Task<string> PrintLogin(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/login", new { username = "demo-customer", password = "demo-password" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>The platform's bootstrap admin (<c>Admin__Email</c> / <c>Admin__Password</c> of the local settings), signed in to the print surface.</summary>
    public static async Task<string> PrintAdminLogin(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/login", new { username = "admin@example.com", password = "admin-password" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public static async Task<string> CreatePreOrder(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/pre-orders") { Content = JsonContent.Create(CreateBody()) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        if ((int)response.StatusCode != 201)
            throw new InvalidOperationException($"Creating a pre-order answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    static string Git(string root, string args)
    {
        try
        {
            var psi = new ProcessStartInfo("git", args) { WorkingDirectory = root, RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return s.Length > 0 ? s : "nogit";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "nogit";
        }
    }
}

/// <summary>Ceiling (b): what Azurite sustains for a scenario's storage operations, driven straight through the SDK.</summary>
public sealed class SdkCeiling(string connectionString)
{
    readonly TableServiceClient tables = new(connectionString);
    readonly QueueServiceClient queues = new(connectionString);
    readonly Azure.Storage.Blobs.BlobServiceClient blobs = new(connectionString);
    TableClient orders = null!, links = null!, deadlines = null!, clients = null!, users = null!, shops = null!;
    QueueClient queue = null!;
    Azure.Storage.Blobs.BlobContainerClient container = null!;

    public static string Describe(string kind) => kind switch
    {
        "health" => "table point read (missing row) + queue properties + blob container properties, in parallel",
        "create" => "link insert, order insert, deadline upsert, queue send",
        "get" => "one table point read",
        "login" => "one table point read (the client row; no password hashing)",
        "profile" => "one table point read (the profile row, which the session check reads and the answer is made from)",
        "balance" => "two table point reads (the profile row for the session check, then the wallet's balance row)",
        "shops" => $"one table point read (the profile row) + {ShopsBench.Ranges.Count} range queries in parallel over {ShopsBench.Count:N0} shops (the cells around the point)",
        "stats" => "two point reads (the session: the admin has no print profile row, so the account is read) + 24 stat-row point reads (8 shards × total, "
                   + "day, month), 8 commission balance reads, the admin's claim and account, and 8 open-shops queries over the shops table, all in parallel",
        "walletpay" => "two point reads (profile, wallet balance row) + one entity-group transaction in the wallet's one partition (balance row, statement, movement and order rows)",
        _ => kind,
    };

    public async Task SetupAsync()
    {
        orders = tables.GetTableClient("benchceilorders");
        links = tables.GetTableClient("benchceillinks");
        deadlines = tables.GetTableClient("benchceildeadlines");
        clients = tables.GetTableClient("benchceilclients");
        users = tables.GetTableClient("benchceilusers");
        foreach (var t in new[] { orders, links, deadlines, clients, users })
            await t.CreateIfNotExistsAsync();
        queue = queues.GetQueueClient("benchceildeadlines");
        await queue.CreateIfNotExistsAsync();
        container = blobs.GetBlobContainerClient("benchceil");
        await container.CreateIfNotExistsAsync();
        await orders.UpsertEntityAsync(Order("merchant", "seeded"));
        await users.UpsertEntityAsync(new TableEntity("users", "print-0000000000000000001")
        {
            ["Role"] = "customer", ["FullName"] = "Bench Customer", ["Username"] = "bench", ["Email"] = "bench@example.com",
            ["Phone"] = "9000000001", ["ReferralCode"] = "ABCDEFGH", ["SessionVersion"] = 0,
        });
        shops = tables.GetTableClient("benchceilshops");
        await ShopsBench.SeedAsync(shops);
        await clients.UpsertEntityAsync(new TableEntity("demo-merchant", "") { ["SecretHash"] = new string('h', 120), ["Kind"] = "merchant", ["Name"] = "Demo" });
    }

    static TableEntity Order(string pk, string rk) => new(pk, rk)
    {
        ["AmountMinor"] = 2500L, ["Currency"] = "USD", ["Description"] = "Bench pre-order", ["Status"] = "pending",
        ["CustomerName"] = "Bench Customer", ["CustomerEmail"] = "bench@example.com", ["CustomerPhone"] = "+1234567890",
        ["ExpiresAt"] = DateTimeOffset.UtcNow.AddDays(30), ["CreatedAt"] = DateTimeOffset.UtcNow,
    };

    /// <summary>Scenario-equivalents per second over <paramref name="duration"/> with <paramref name="concurrency"/> tasks.</summary>
    public async Task<double> RunAsync(string kind, int concurrency, TimeSpan duration)
    {
        long done = 0;
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var i = 0;
            while (sw.Elapsed < duration)
            {
                await Once(kind, $"{w}-{i++}-{Guid.NewGuid():N}");
                Interlocked.Increment(ref done);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return done / sw.Elapsed.TotalSeconds;
    }

    async Task Once(string kind, string id)
    {
        switch (kind)
        {
            case "get":
                await orders.GetEntityAsync<TableEntity>("merchant", "seeded");
                break;
            case "login":
                await clients.GetEntityAsync<TableEntity>("demo-merchant", "");
                break;
            case "profile":
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                break;
            case "create":
                await links.AddEntityAsync(new TableEntity(id, "") { ["MerchantId"] = "merchant" });
                await orders.AddEntityAsync(Order("merchant", id));
                await deadlines.UpsertEntityAsync(new TableEntity("pre-order-expiry", id) { ["DueAt"] = DateTimeOffset.UtcNow.AddDays(30), ["Payload"] = id }, TableUpdateMode.Replace);
                await queue.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"name\":\"pre-order-expiry\",\"key\":\"{id}\"}}")), TimeSpan.FromDays(6));
                break;
            case "health":
                await Task.WhenAll(MissingRow(), queue.GetPropertiesAsync(), container.GetPropertiesAsync());
                break;
            case "balance":
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                break;
            case "shops":
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                await ShopsBench.QueryAsync(shops);
                break;
            case "stats":
                await users.GetEntityIfExistsAsync<TableEntity>("users", "print-0000000000000000002");
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                await Task.WhenAll(Enumerable.Range(0, 34).Select(i => users.GetEntityIfExistsAsync<TableEntity>("stats-" + (i % 8), "row-" + (i / 8)))
                    .Select(t => (Task)t)
                    .Concat(Enumerable.Range(0, 8).Select(shard => OpenShopsAsync(shard))));
                break;
            case "walletpay":
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                await users.GetEntityAsync<TableEntity>("users", "print-0000000000000000001");
                await users.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("wallet", "balance") { ["Available"] = 1L, ["Version"] = 1L }),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("wallet", "stmt|" + id) { ["Amount"] = -1L }),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("wallet", "move|" + id) { ["Amount"] = 1L }),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("wallet", "order|" + id) { ["AmountMinor"] = 1L }),
                ]);
                break;
        }
    }

    async Task OpenShopsAsync(int shard)
    {
        await foreach (var _ in shops.QueryAsync<TableEntity>($"PartitionKey eq 'open-{shard}'", select: ["RowKey"]))
        {
        }
    }

    async Task MissingRow() => await orders.GetEntityIfExistsAsync<TableEntity>("health", "probe", ["PartitionKey"]);
}

static class JsonArrayExtensions
{
    public static long Sum(this JsonArray array, Func<JsonNode?, long> f) => array.Select(f).Sum();
}
