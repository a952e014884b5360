using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Serverless.Platform.Observability;
using Serverless.Platform.Storage;
using Serverless.Tests.Platform.Webhooks;
using Xunit.Abstractions;

namespace Serverless.Tests.Measurements;

/// <summary>The standalone pumps running, as under <c>./dev run</c>: the queue is polled in the background.</summary>
public sealed class WebhookPumpsRunningFactory : WebhookFactory
{
    public WebhookPumpsRunningFactory() => With("Triggers:RunPumps", "true");
}

/// <summary>
/// Measures (never asserts) how long after <c>PublishAsync</c> is called the receiver gets the first attempt.
/// A measurement, not a test of speed: run with
/// <c>dotnet test Functions.Tests --filter "FullyQualifiedName~Measurements.Webhook" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class WebhookLatencyMeasurement(WebhookPumpsRunningFactory app, ITestOutputHelper output) : IClassFixture<WebhookPumpsRunningFactory>
{
    [Fact]
    public async Task First_attempt_latency_with_the_standalone_pumps_is_measured()
    {
        var owner = "latency-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await app.RegisterAsync(owner);

        var samples = await LatencySamples.MeasureAsync(app, owner, hook, deliver: () => Task.CompletedTask);

        output.WriteLine($"Standalone pumps, {samples.Delivered.Count} events one after another, publish -> receiver (ms): {LatencySamples.Summary(samples.Delivered)}");
        output.WriteLine($"  of which PublishAsync (ms): {LatencySamples.Summary(samples.Publish)}; storage requests per publish: {samples.PublishStorage.Average():0.#}");
    }
}

/// <summary>The same without background polling: publish, then drain at once, as when the message is in hand.</summary>
[Trait("Category", "Measurement")]
public sealed class WebhookHandlerLatencyMeasurement(WebhookFactory app, ITestOutputHelper output) : IClassFixture<WebhookFactory>
{
    [Fact]
    public async Task First_attempt_latency_of_the_handler_alone_is_measured()
    {
        var owner = "latency-direct-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await app.RegisterAsync(owner);
        // The handler's own storage requests, as the trigger invoker reports them for each run.
        var handlerStorage = new ConcurrentQueue<int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PlatformTelemetry.Name && instrument.Name == "storage.requests_per_operation")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => t is { Key: "operation", Value: "WebhookDelivery" }))
                handlerStorage.Enqueue(value);
        });
        listener.Start();

        var samples = await LatencySamples.MeasureAsync(app, owner, hook, deliver: app.DrainAsync);

        output.WriteLine($"Publish then drain at once, {samples.Delivered.Count} events, publish -> receiver (ms): {LatencySamples.Summary(samples.Delivered)}");
        output.WriteLine($"  storage requests per delivery run (handler only; the pump adds a receive and a delete): {handlerStorage.Average():0.#}");
    }
}

internal static class LatencySamples
{
    private const int Events = 40;

    /// <summary>Publishes events one after another; the first is a warm-up (connections, JIT) and is not counted.</summary>
    public static async Task<(List<double> Delivered, List<double> Publish, List<int> PublishStorage)> MeasureAsync(
        WebhookFactory app, string owner, WebhookReceiver.Hook hook, Func<Task> deliver)
    {
        var (delivered, publish, publishStorage) = (new List<double>(), new List<double>(), new List<int>());
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
            await deliver();
            if (!await hook.WaitForAsync(i + 1, TimeSpan.FromSeconds(30)))
                break;
            if (i == 0)
                continue;
            publish.Add(Stopwatch.GetElapsedTime(start, published).TotalMilliseconds);
            delivered.Add(Stopwatch.GetElapsedTime(start, hook.Received[i].ReceivedAtTicks).TotalMilliseconds);
            publishStorage.Add(requests);
        }
        return (delivered, publish, publishStorage);
    }

    public static string Summary(List<double> values)
    {
        if (values.Count == 0)
            return "no samples";
        var sorted = values.Order().ToList();
        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return $"min {sorted[0]:0.0}, median {At(0.5):0.0}, p95 {At(0.95):0.0}, max {sorted[^1]:0.0}, mean {sorted.Average():0.0}";
    }
}
