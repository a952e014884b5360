using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Bench;

/// <summary>
/// The sandbox intent round trip over HTTP against the running app: a merchant creates a pre-order (not timed), the
/// customer presses Pay (<c>POST /pay/{id}/checkout</c>: the intent and the sandbox's order), then "Pay" on the
/// sandbox's checkout page (<c>POST /payments/sandbox/{order}</c>: the sandbox's signed event through the inbound
/// webhook path, the intent's success and the pre-order paid, each through the outbox), and the round trip checks
/// that the pre-order reads paid. Storage requests come from each response's <c>X-Storage-Requests</c>.
/// </summary>
public static class PaymentRun
{
    sealed record Trip(bool Ok, double CheckoutMs, double ConfirmMs, int CheckoutStorage, int ConfirmStorage, string? Error);

    /// <summary>Only this scenario, one customer and then 32 (<c>Bench payments</c>): for looking into the round trip itself.</summary>
    public static Task<int> RunAloneAsync(bool smoke) => Drive.AloneAsync(async http =>
    {
        var token = await BenchRun.Login(http);
        return
        [
            await RunAsync("sandbox intent round trip, 1 customer", token, 1, smoke ? 1 : 3, smoke ? 2 : 10),
            await RunAsync("sandbox intent round trip, 32 customers", token, 32, smoke ? 1 : 5, smoke ? 2 : 15),
        ];
    });

    public static async Task<JsonObject> RunAsync(string name, string token, int connections, int warmupSeconds, int durationSeconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = connections * 2 })
        {
            BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30),
        };
        Console.WriteLine($"Scenario {name}: warm-up {warmupSeconds} s, then {connections} customers for {durationSeconds} s...");
        await DriveAsync(http, token, connections, TimeSpan.FromSeconds(warmupSeconds));
        var (trips, elapsed) = await DriveAsync(http, token, connections, TimeSpan.FromSeconds(durationSeconds));

        var ok = trips.Where(t => t.Ok).ToArray();
        var failed = trips.Length - ok.Length;
        static double Percentile(IEnumerable<double> values, double p) => Drive.Percentile(values, p);
        var roundTrip = ok.Select(t => t.CheckoutMs + t.ConfirmMs).ToArray();
        double Median(IEnumerable<int> values) => Percentile(values.Select(v => (double)v), 0.5);
        var checkoutStorage = Median(ok.Select(t => t.CheckoutStorage));
        var confirmStorage = Median(ok.Select(t => t.ConfirmStorage));
        Console.WriteLine($"  {ok.Length / elapsed:F1} paid round trips/s; checkout p50 {Percentile(ok.Select(t => t.CheckoutMs), 0.5):F1} ms, " +
                          $"confirmation p50 {Percentile(ok.Select(t => t.ConfirmMs), 0.5):F1} ms; storage requests per payment " +
                          $"{checkoutStorage} + {confirmStorage}; {failed} failed");
        if (trips.FirstOrDefault(t => !t.Ok) is { } first)
            Console.Error.WriteLine($"  {name}: {failed} round trips failed; the first: {first.Error}");
        var row = Drive.Row(name, "HTTP: create a pre-order (untimed), POST /pay/{id}/checkout, POST the sandbox checkout form, check the pre-order is paid",
            connections, trips.Length, failed, elapsed, roundTrip);
        row["checkout_p50_ms"] = Math.Round(Percentile(ok.Select(t => t.CheckoutMs), 0.5), 2);
        row["confirmation_p50_ms"] = Math.Round(Percentile(ok.Select(t => t.ConfirmMs), 0.5), 2);
        row["storage_requests_per_request"] = checkoutStorage + confirmStorage;
        row["storage_requests_checkout"] = checkoutStorage;
        row["storage_requests_confirmation"] = confirmStorage;
        return row;
    }

    static Task<(Trip[] Trips, double Seconds)> DriveAsync(HttpClient http, string token, int connections, TimeSpan duration) =>
        Drive.WorkersAsync(connections, duration, () => RoundTripAsync(http, token), error => new Trip(false, 0, 0, 0, 0, error));

    static async Task<Trip> RoundTripAsync(HttpClient http, string token)
    {
        var id = await BenchRun.CreatePreOrder(http, token);

        var started = Stopwatch.GetTimestamp();
        using var checkout = await http.PostAsync($"/pay/{id}/checkout", null);
        var checkoutMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (checkout.StatusCode != HttpStatusCode.OK)
            return Failed($"checkout answered {(int)checkout.StatusCode}: {await checkout.Content.ReadAsStringAsync()}");
        var url = (await checkout.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkout_url").GetString()!;

        started = Stopwatch.GetTimestamp();
        using var confirm = await http.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));
        var confirmMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (confirm.StatusCode != HttpStatusCode.Redirect)
            return Failed($"the sandbox page answered {(int)confirm.StatusCode}: {await confirm.Content.ReadAsStringAsync()}");

        using var status = await http.GetAsync($"/pay/{id}/status");
        var paid = (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString();
        if (paid != "paid")
            return Failed($"pre-order {id} reads {paid} after its payment");
        return new Trip(true, checkoutMs, confirmMs, Drive.StorageRequests(checkout), Drive.StorageRequests(confirm), null);
    }

    static Trip Failed(string error) => new(false, 0, 0, 0, 0, error);
}
