using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Serverless.Platform.Observability;
using Serverless.Platform.Storage;
using Xunit.Abstractions;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>The standalone pumps running, as under <c>./dev run</c>: the queue is polled in the background.</summary>
public sealed class WebhookPumpsRunningFactory : WebhookFactory
{
    public WebhookPumpsRunningFactory() => With("Triggers:RunPumps", "true");
}

/// <summary>
/// Measures (never asserts) how long after <c>PublishAsync</c> returns the receiver gets the first attempt.
/// Run with: <c>dotnet test Functions.Tests --filter "FullyQualifiedName~WebhookLatency" --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class WebhookLatencyTests(WebhookPumpsRunningFactory app, ITestOutputHelper output) : IClassFixture<WebhookPumpsRunningFactory>
{
    private const int Events = 40;

    [Fact]
    public async Task First_attempt_latency_with_the_standalone_pumps_is_measured()
    {
        var owner = "latency-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await app.RegisterAsync(owner);
        var publish = new List<double>();
        var delivered = new List<double>();
        var storageRequests = new List<int>();
        for (var i = 0; i <= Events; i++)
        {
            var start = Stopwatch.GetTimestamp();
            int requests;
            using (var meter = StorageMeter.Begin())
            {
                await app.Publisher.PublishAsync(owner, "latency.test", new JsonObject { ["n"] = i });
                requests = meter.Meter.Count;
            }
            var published = Stopwatch.GetTimestamp();
            if (!await hook.WaitForAsync(i + 1, TimeSpan.FromSeconds(30)))
                break;
            if (i == 0)
                continue; // warm-up: first connection, JIT
            publish.Add(Stopwatch.GetElapsedTime(start, published).TotalMilliseconds);
            delivered.Add(Stopwatch.GetElapsedTime(start, hook.Received[i].ReceivedAtTicks).TotalMilliseconds);
            storageRequests.Add(requests);
        }

        output.WriteLine($"Standalone pumps, {delivered.Count} events one after another, publish -> receiver (ms): {Summary(delivered)}");
        output.WriteLine($"  of which PublishAsync (ms): {Summary(publish)}; storage requests per publish: {storageRequests.DefaultIfEmpty().Average():0.#}");
    }

    internal static string Summary(List<double> values)
    {
        if (values.Count == 0)
            return "no samples";
        var sorted = values.Order().ToList();
        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return $"min {sorted[0]:0.0}, median {At(0.5):0.0}, p95 {At(0.95):0.0}, max {sorted[^1]:0.0}, mean {sorted.Average():0.0}";
    }
}

/// <summary>The same measurement without background polling: the handler's own cost.</summary>
public sealed class WebhookHandlerLatencyTests(WebhookFactory app, ITestOutputHelper output) : IClassFixture<WebhookFactory>
{
    private const int Events = 40;

    [Fact]
    public async Task First_attempt_latency_of_the_handler_alone_is_measured()
    {
        // What a delivery costs once the message is in hand (as under the host, or a pump that just polled):
        // publish, then drain at once; no polling wait.
        var owner = "latency-direct-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await app.RegisterAsync(owner);
        var delivered = new List<double>();
        var handlerStorage = new System.Collections.Concurrent.ConcurrentQueue<int>();
        // The handler's storage requests, as the trigger invoker reports them for each run.
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PlatformTelemetry.Name && instrument.Name == "storage.requests_per_operation")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "operation", Value: "WebhookDelivery" })
                    handlerStorage.Enqueue(value);
            }
        });
        listener.Start();
        for (var i = 0; i <= Events; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await app.Publisher.PublishAsync(owner, "latency.test", new JsonObject { ["n"] = i });
            await app.DrainAsync();
            if (i > 0)
                delivered.Add(Stopwatch.GetElapsedTime(start, hook.Received[i].ReceivedAtTicks).TotalMilliseconds);
        }

        output.WriteLine($"Publish then drain at once, {delivered.Count} events, publish -> receiver (ms): {WebhookLatencyTests.Summary(delivered)}");
        output.WriteLine($"  storage requests per delivery run (handler only; the pump adds a receive and a delete): {handlerStorage.Average():0.#}");
    }
}
