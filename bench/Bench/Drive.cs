using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Bench;

/// <summary>What the HTTP-driven scenarios share: workers back to back for a while, and percentiles of what they measured.</summary>
public static class Drive
{
    /// <summary>
    /// <paramref name="workers"/> tasks call <paramref name="once"/> back to back until <paramref name="duration"/> has
    /// passed; a call that throws a transport or parsing error is recorded through <paramref name="failed"/>.
    /// </summary>
    public static async Task<(T[] Results, double Seconds)> WorkersAsync<T>(int workers, TimeSpan duration, Func<Task<T>> once,
        Func<string, T> failed)
    {
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            var results = new List<T>();
            while (clock.Elapsed < duration)
            {
                try
                {
                    results.Add(await once());
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or JsonException
                                              or KeyNotFoundException)
                {
                    results.Add(failed($"{e.GetType().Name}: {e.Message}"));
                }
            }
            return results;
        })).ToArray();
        var all = (await Task.WhenAll(tasks)).SelectMany(r => r).ToArray();
        return (all, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0.5, 0.99) of <paramref name="values"/>; 0 when there are none.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    /// <summary>One timed request of a scenario: whether it answered as expected, its latency and its <c>X-Storage-Requests</c>.</summary>
    public sealed record Call(bool Ok, double Ms, int Storage, string? Error)
    {
        public static Call Failed(string error) => new(false, 0, 0, error);
    }

    /// <summary>The app's count of the storage requests a request made (<c>X-Storage-Requests</c>); -1 when absent.</summary>
    public static int StorageRequests(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Storage-Requests", out var values) && int.TryParse(values.First(), out var n) ? n : -1;

    /// <summary>A client of the app for <paramref name="workers"/> workers, with the scenario's credentials set by <paramref name="authorize"/>.</summary>
    public static HttpClient Client(int workers, Action<HttpRequestHeaders> authorize)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers * 2 })
        {
            BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30),
        };
        authorize(http.DefaultRequestHeaders);
        return http;
    }

    /// <summary>Times <paramref name="send"/> (to the whole response) and checks its status; the response's body is read only on a failure.</summary>
    public static async Task<Call> TimedAsync(string what, HttpStatusCode expected, Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await send();
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return response.StatusCode == expected
            ? new Call(true, ms, StorageRequests(response), null)
            : Call.Failed($"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// A scenario driven over HTTP: <paramref name="workers"/> call <paramref name="once"/> for the warm-up, then for
    /// the measured run; its row has req/s, p50/p99/max of the successful calls and the median of their storage
    /// requests with its range.
    /// </summary>
    public static async Task<JsonObject> ScenarioAsync(string name, string driver, int workers, int warmupSeconds, int durationSeconds,
        Func<Task<Call>> once)
    {
        Console.WriteLine($"Scenario {name}: warm-up {warmupSeconds} s, then {workers} workers for {durationSeconds} s...");
        await WorkersAsync(workers, TimeSpan.FromSeconds(warmupSeconds), once, Call.Failed);
        var (calls, elapsed) = await WorkersAsync(workers, TimeSpan.FromSeconds(durationSeconds), once, Call.Failed);

        var ok = calls.Where(c => c.Ok).ToArray();
        var failed = calls.Length - ok.Length;
        var latency = ok.Select(c => c.Ms).ToArray();
        var storage = ok.Select(c => c.Storage).DefaultIfEmpty(-1).ToArray();
        var median = (int)Percentile(storage.Select(s => (double)s), 0.5);
        Console.WriteLine($"  {ok.Length / elapsed:F1}/s; p50 {Percentile(latency, 0.5):F1} ms, p99 {Percentile(latency, 0.99):F1} ms; " +
                          $"storage requests {median} ({storage.Min()}–{storage.Max()}); {failed} failed");
        if (calls.FirstOrDefault(c => !c.Ok) is { } first)
            Console.Error.WriteLine($"  {name}: {failed} calls failed; the first: {first.Error}");
        var row = Row(name, driver, workers, calls.Length, failed, elapsed, latency);
        row["storage_requests_per_request"] = median;
        row["storage_requests_min"] = storage.Min();
        row["storage_requests_max"] = storage.Max();
        return row;
    }

    /// <summary>The figures every HTTP-driven row has: load, req/s of the successful calls, their latency percentiles and the errors.</summary>
    public static JsonObject Row(string name, string driver, int workers, int calls, int failed, double seconds, double[] latency) => new()
    {
        ["scenario"] = name,
        ["driver"] = driver,
        ["connections"] = workers,
        ["requests"] = (long)calls,
        ["rps"] = Math.Round((calls - failed) / seconds, 1),
        ["p50_ms"] = Math.Round(Percentile(latency, 0.5), 2),
        ["p99_ms"] = Math.Round(Percentile(latency, 0.99), 2),
        ["max_ms"] = Math.Round(latency.DefaultIfEmpty().Max(), 2),
        ["errors"] = (long)failed,
    };

    /// <summary>
    /// Scenarios run alone (<c>Bench payments</c>, <c>commerce</c>, <c>checkout</c>): a fresh in-memory Azurite and the
    /// app, then <paramref name="scenarios"/> with a plain client of the app; prints every row and answers the exit
    /// code (1 when a row has errors or completed no request).
    /// </summary>
    public static async Task<int> AloneAsync(Func<HttpClient, Task<JsonObject[]>> scenarios)
    {
        Infra.EnsurePortsFree();
        await using var infra = new Infra(Infra.FindRoot());
        await infra.StartAzuriteAsync(null);
        await infra.StartAppAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30) };
        var rows = await scenarios(http);
        foreach (var row in rows)
            Console.WriteLine(row.ToJsonString());
        return rows.All(r => r["errors"]!.GetValue<long>() == 0 && r["requests"]!.GetValue<long>() > 0) ? 0 : 1;
    }
}
