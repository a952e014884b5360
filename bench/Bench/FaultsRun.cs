using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Serverless.Bench;

/// <summary>
/// ./dev faults: SIGKILL Azurite under a pre-order load and restart it on its data; stop the webhook receiver and
/// restart it. Exits non-zero on any loss, any 5xx other than 503, a 503 without Retry-After or a request that hangs.
/// Azurite runs with bench/azurite-durable.js preloaded, so it acknowledges only writes that are on disk, as Azure
/// Storage does; <paramref name="stockAzurite"/> runs it without (saves every 5 s), which must fail with losses.
/// </summary>
public static class FaultsRun
{
    static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(bool smoke, bool stockAzurite, bool tamper = false)
    {
        var root = Infra.FindRoot();
        Infra.EnsurePortsFree();
        var data = Directory.CreateTempSubdirectory("faults-azurite-");
        var failures = new List<string>();
        try
        {
            await using var infra = new Infra(root);
            Console.WriteLine(stockAzurite
                ? $"Starting stock Azurite on disk ({data.FullName}; it saves every 5 s, so this run is expected to lose writes), the app (Release, :7200) and a webhook receiver (:7201)..."
                : $"Starting Azurite on disk ({data.FullName}; every write saved before it is acknowledged), the app (Release, :7200) and a webhook receiver (:7201)...");
            await infra.StartAzuriteAsync(data.FullName, durable: !stockAzurite);
            // Quick webhook retries are the product's schedule (5 s after the first failure); nothing is shortened here.
            await infra.StartAppAsync(extra: MoneyPhases.AppSettings(smoke));
            // No redirects followed: the sandbox page answers 302 to the web app's page once the payment is recorded.
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(Infra.AppUrl), Timeout = RequestTimeout };
            var token = await BenchRun.Login(http);
            var admin = await AdminToken(http);
            var receiver = new Receiver();
            await receiver.StartAsync();
            using (var put = new HttpRequestMessage(HttpMethod.Put, "/api/admin/merchants/demo-merchant/webhook")
                   { Content = JsonContent.Create(new { url = $"http://127.0.0.1:{Infra.ReceiverPort}/hook", enabled = true }) })
            {
                put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                using var r = await http.SendAsync(put);
                if (!r.IsSuccessStatusCode)
                    throw new InvalidOperationException($"Setting the webhook answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
            }

            // ---- 1. Storage killed under load ----
            var before = TimeSpan.FromSeconds(smoke ? 3 : 8);
            var outage = TimeSpan.FromSeconds(smoke ? 3 : 6);
            var load = new Load(http, token, smoke ? 4 : 8);
            var loadTask = load.RunAsync();
            await Task.Delay(before);
            var killedAt = load.Clock.Elapsed;
            Console.WriteLine($"SIGKILL Azurite (pid {infra.Azurite!.Id}) at {killedAt.TotalSeconds:F1} s into the load ({load.Acked.Count} acknowledged so far)...");
            infra.KillAzurite();
            // A 201 that leaves the app just after the kill had its writes done before it (in flight at the kill).
            var deadAt = load.Clock.Elapsed + TimeSpan.FromSeconds(1);
            await Task.Delay(outage);
            Console.WriteLine("Restarting Azurite on the same data...");
            var restartedAt = load.Clock.Elapsed;
            await infra.StartAzuriteAsync(data.FullName, durable: !stockAzurite);
            // The app is not restarted: /health must come back by itself.
            var recovery = await Infra.WaitHealthyAsync(infra.App!, TimeSpan.FromSeconds(60));
            Console.WriteLine($"/health answered 200 again {recovery.TotalSeconds:F1} s after the restart, without restarting the app.");
            await Task.Delay(TimeSpan.FromSeconds(2));
            load.Stop();
            await loadTask;
            var recoveredAt = restartedAt + recovery;

            var acked = load.Acked.ToArray();
            var lost = new List<string>();
            var wrongStatus = new List<string>();
            var readable = 0;
            foreach (var (id, at) in acked)
            {
                using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/pre-orders/{id}");
                get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var r = await http.SendAsync(get);
                if (r.StatusCode == HttpStatusCode.OK)
                {
                    var status = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString();
                    if (status == "pending")
                        readable++;
                    else
                        wrongStatus.Add($"{id}: {status}");
                }
                else if (r.StatusCode == HttpStatusCode.NotFound)
                    lost.Add($"{id} (acknowledged {(at - killedAt).TotalSeconds:+0.0;-0.0} s from the kill)");
                else
                    failures.Add($"GET {id} after recovery answered {(int)r.StatusCode}");
            }
            var ackedBeforeKill = acked.Count(a => a.At < deadAt);
            var ackedDuringOutage = acked.Count(a => a.At >= deadAt && a.At < recoveredAt);
            var outageStatuses = load.Statuses.Where(s => s.At >= killedAt && s.At < restartedAt).ToList();
            var s503 = load.Statuses.Count(s => s.Code == 503);
            var s503NoRetryAfter = load.Statuses.Count(s => s.Code == 503 && !s.RetryAfter);
            var other5xx = load.Statuses.Where(s => s.Code >= 500 && s.Code != 503).ToList();
            var slowest = load.Statuses.Count == 0 ? 0 : load.Statuses.Max(s => s.Ms);
            if (other5xx.Count > 0)
                failures.Add($"{other5xx.Count} responses were 5xx other than 503 ({string.Join(", ", other5xx.Select(s => s.Code).Distinct())})");
            if (s503NoRetryAfter > 0)
                failures.Add($"{s503NoRetryAfter} responses were 503 without Retry-After");
            if (load.Hung > 0)
                failures.Add($"{load.Hung} requests did not finish within {RequestTimeout.TotalSeconds:F0} s");
            if (load.TransportErrors > 0)
                failures.Add($"{load.TransportErrors} requests failed without an HTTP answer (connection errors)");
            if (outageStatuses.Count(s => s.Code == 503) == 0)
                failures.Add("no request answered 503 while storage was gone");
            if (lost.Count > 0)
                failures.Add($"{lost.Count} pre-orders acknowledged with 201 are not readable: {string.Join(", ", lost.Take(5))}");
            if (wrongStatus.Count > 0)
                failures.Add($"{wrongStatus.Count} pre-orders read back with an unexpected status: {string.Join(", ", wrongStatus.Take(5))}");

            // ---- 2. Webhook receiver stopped, then restarted ----
            var paidCount = smoke ? 3 : 5;
            Console.WriteLine($"Stopping the webhook receiver; paying {paidCount} pre-orders while it is down...");
            await receiver.StopAsync();
            var paid = new List<string>();
            for (var i = 0; i < paidCount; i++)
            {
                var id = await BenchRun.CreatePreOrder(http, token);
                if (await PayPreOrderAsync(http, id) is { } error)
                    throw new InvalidOperationException($"Paying {id}: {error}");
                paid.Add(id);
            }
            // The first attempts fail (connection refused); the retry comes 5 s (±10%) later.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Console.WriteLine("Restarting the webhook receiver...");
            await receiver.StartAsync();
            var waitUntil = Stopwatch.StartNew();
            while (waitUntil.Elapsed < TimeSpan.FromSeconds(60) && paid.Any(id => !receiver.DataIds.ContainsKey(id)))
                await Task.Delay(200);
            await Task.Delay(TimeSpan.FromSeconds(3)); // late duplicates, if any, arrive now
            await receiver.StopAsync();

            var eventsLost = paid.Count(id => !receiver.DataIds.ContainsKey(id));
            var rawDeliveries = receiver.Deliveries.Values.Sum();
            var uniqueIds = receiver.Deliveries.Count;
            var duplicateDeliveries = rawDeliveries - uniqueIds;
            var eventsPerPaid = paid.Select(id => receiver.DataIds.TryGetValue(id, out var n) ? n : 0).ToList();
            if (eventsLost > 0)
                failures.Add($"{eventsLost} of {paid.Count} pre_order.paid events never reached the receiver");
            if (eventsPerPaid.Any(n => n > 1))
                failures.Add("a pre-order's paid event arrived under more than one webhook-id (duplicate events, not retries)");

            // The delivery log lists each attempt, the failed first one included.
            using var list = new HttpRequestMessage(HttpMethod.Get, "/api/admin/merchants/demo-merchant/webhook/deliveries");
            list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
            using var listed = await http.SendAsync(list);
            var deliveries = (await listed.Content.ReadFromJsonAsync<JsonElement>());
            var logRows = deliveries.ValueKind == JsonValueKind.Array ? deliveries.EnumerateArray().ToList() : [];
            var withFailedAttempt = logRows.Count(d => d.GetProperty("attempts").GetArrayLength() >= 2
                && d.GetProperty("attempts").EnumerateArray().Any(a => a.GetProperty("outcome").GetString() != "delivered"));
            var delivered = logRows.Count(d => d.GetProperty("state").GetString() == "delivered");
            var maxAttempts = logRows.Count == 0 ? 0 : logRows.Max(d => d.GetProperty("attempt_count").GetInt32());
            if (withFailedAttempt < paid.Count)
                failures.Add($"the delivery log shows a failed attempt for {withFailedAttempt} of {paid.Count} deliveries");

            Console.WriteLine();
            Console.WriteLine("| storage killed under pre-order load | count |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine($"| requests sent | {load.Statuses.Count + load.Hung + load.TransportErrors} |");
            Console.WriteLine($"| acknowledged (201) | {acked.Length} |");
            Console.WriteLine($"| acknowledged before the kill (or in flight at it, answered within 1 s) | {ackedBeforeKill} |");
            Console.WriteLine($"| acknowledged while storage was gone or recovering | {ackedDuringOutage} |");
            Console.WriteLine($"| readable afterwards with status pending | {readable} |");
            Console.WriteLine($"| lost (acknowledged, not readable) | {lost.Count} |");
            Console.WriteLine($"| 503 (all with Retry-After: {(s503NoRetryAfter == 0 ? "yes" : "NO")}) | {s503} |");
            Console.WriteLine($"| 5xx other than 503 | {other5xx.Count} |");
            Console.WriteLine($"| requests past the {RequestTimeout.TotalSeconds:F0} s timeout / connection errors | {load.Hung} / {load.TransportErrors} |");
            Console.WriteLine($"| slowest answer (ms) | {slowest:F0} |");
            Console.WriteLine($"| /health 200 after Azurite restart (s, app not restarted) | {recovery.TotalSeconds:F1} |");
            Console.WriteLine();
            Console.WriteLine("| webhook receiver stopped, then restarted | count |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine($"| pre_order.paid events expected | {paid.Count} |");
            Console.WriteLine($"| received (distinct webhook-id) | {uniqueIds} |");
            Console.WriteLine($"| lost | {eventsLost} |");
            Console.WriteLine($"| duplicated (raw deliveries beyond one per webhook-id, removed by de-duplication) | {duplicateDeliveries} |");
            Console.WriteLine($"| delivery log: delivered / with a failed attempt logged / most attempts | {delivered} / {withFailedAttempt} / {maxAttempts} |");
            Console.WriteLine();

            // ---- 3. Storage killed under a money load; 4. the app killed mid-load ----
            await MoneyPhases.StorageKillAsync(infra, http, admin, data.FullName, stockAzurite, smoke, tamper, failures);
            await MoneyPhases.AppKillAsync(infra, http, token, admin, receiver, smoke, failures);

            if (failures.Count == 0)
            {
                Console.WriteLine("faults: no loss, no 500, no hang; every ledger invariant holds.");
                return 0;
            }
            foreach (var f in failures)
                Console.Error.WriteLine($"faults: FAIL: {f}");
            return 1;
        }
        finally
        {
            try { data.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The customer presses Pay on the pre-order's page, then "Pay" on the sandbox's checkout page; null when
    /// the sandbox recorded the payment (its 302), else what went wrong.</summary>
    internal static async Task<string?> PayPreOrderAsync(HttpClient http, string id)
    {
        using var checkout = await http.PostAsync($"/pay/{id}/checkout", null);
        if (checkout.StatusCode != HttpStatusCode.OK)
            return $"checkout answered {(int)checkout.StatusCode}: {await checkout.Content.ReadAsStringAsync()}";
        var url = (await checkout.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkout_url").GetString()!;
        using var confirm = await http.PostAsync(new Uri(url).PathAndQuery,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));
        return confirm.StatusCode == HttpStatusCode.Redirect ? null
            : $"the sandbox page answered {(int)confirm.StatusCode}: {await confirm.Content.ReadAsStringAsync()}";
    }

    internal static async Task<string> AdminToken(HttpClient http)
    {
        var r = await http.PostAsJsonAsync("/platform/auth/token", new { login = "admin@example.com", password = "admin-password" });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public sealed record Status(TimeSpan At, int Code, bool RetryAfter, double Ms);

    /// <summary>Concurrent creates until stopped; records every 201 with the time it was acknowledged.</summary>
    sealed class Load(HttpClient http, string token, int workers)
    {
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public readonly ConcurrentQueue<(string Id, TimeSpan At)> Acked = new();
        public readonly ConcurrentQueue<Status> StatusQueue = new();
        public List<Status> Statuses => [.. StatusQueue];
        int hung, transport;
        public int Hung => hung;
        public int TransportErrors => transport;
        readonly CancellationTokenSource stop = new();

        public void Stop() => stop.Cancel();

        public Task RunAsync() => Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            // Bounded: at most 10,000 requests per worker, and the run stops it after a minute at most.
            for (var i = 0; i < 10_000 && !stop.IsCancellationRequested && Clock.Elapsed < TimeSpan.FromMinutes(2); i++)
            {
                var started = Clock.Elapsed;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/pre-orders") { Content = JsonContent.Create(BenchRun.CreateBody()) };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    using var response = await http.SendAsync(request);
                    var ms = (Clock.Elapsed - started).TotalMilliseconds;
                    StatusQueue.Enqueue(new Status(started, (int)response.StatusCode, response.Headers.RetryAfter is not null, ms));
                    if (response.StatusCode == HttpStatusCode.Created)
                        Acked.Enqueue(((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!, Clock.Elapsed));
                    else if ((int)response.StatusCode == 503)
                        await Task.Delay(200); // a client would honour Retry-After; a short pause keeps the log readable
                }
                catch (TaskCanceledException)
                {
                    Interlocked.Increment(ref hung);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref transport);
                }
            }
        })));
    }

    /// <summary>The merchant's webhook endpoint: counts deliveries per webhook-id and events per pre-order.</summary>
    internal sealed class Receiver
    {
        public readonly ConcurrentDictionary<string, int> Deliveries = new();
        public readonly ConcurrentDictionary<string, int> DataIds = new();
        /// <summary>Distinct events per "event type|data id" (after de-duplication by webhook-id).</summary>
        public readonly ConcurrentDictionary<string, int> Events = new();
        /// <summary>When each "event type|data id" first arrived.</summary>
        public readonly ConcurrentDictionary<string, DateTimeOffset> FirstArrival = new();
        WebApplication? app;

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{Infra.ReceiverPort}");
            app = builder.Build();
            app.MapPost("/hook", async (HttpContext context) =>
            {
                var id = context.Request.Headers["webhook-id"].ToString();
                using var doc = await JsonDocument.ParseAsync(context.Request.Body);
                // De-duplication by webhook-id: the first delivery of an id is processed, later ones only counted.
                if (Deliveries.AddOrUpdate(id, 1, (_, n) => n + 1) == 1
                    && doc.RootElement.TryGetProperty("data", out var data) && data.TryGetProperty("id", out var orderId))
                {
                    DataIds.AddOrUpdate(orderId.GetString()!, 1, (_, n) => n + 1);
                    var type = doc.RootElement.TryGetProperty("event", out var e) ? e.GetString() : null;
                    Events.AddOrUpdate($"{type}|{orderId.GetString()}", 1, (_, n) => n + 1);
                    FirstArrival.TryAdd($"{type}|{orderId.GetString()}", DateTimeOffset.UtcNow);
                }
                return Results.NoContent();
            });
            await app.StartAsync();
        }

        public async Task StopAsync()
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
                app = null;
            }
        }
    }
}
