using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Platform.Deadlines;
using Serverless.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Serverless.Tests.Measurements;

/// <summary>The app on the real clock with its standalone pumps running, recording when each deadline ran.</summary>
public sealed class RealClockFactory : PlatformFactory
{
    public ConcurrentDictionary<string, TimeSpan> Lateness { get; } = new();
    public ConcurrentDictionary<string, int> Runs { get; } = new();

    public RealClockFactory() => With("Triggers:RunPumps", "true");

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        services.RemoveAll<TimeProvider>();
        services.AddSingleton(TimeProvider.System);
        services.AddDeadlineHandler("measured", invocation =>
        {
            Lateness.TryAdd(invocation.Key, TimeProvider.System.GetUtcNow() - invocation.DueAt);
            Runs.AddOrUpdate(invocation.Key, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        });
    }
}

/// <summary>
/// Measurements, not tests of speed: excluded from ./dev test, run with
/// <c>dotnet test Functions.Tests --filter Category=Measurement --logger "console;verbosity=detailed"</c>.
/// They print figures and assert only correctness.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class DeadlineLatenessMeasurement(RealClockFactory app, ITestOutputHelper output) : IClassFixture<RealClockFactory>
{
    [Fact]
    public async Task Lateness_of_1000_deadlines_due_within_one_minute()
    {
        const int count = 1000;
        var scheduler = app.Get<DeadlineScheduler>();
        var start = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(20);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (i, ct) => await scheduler.ScheduleAsync("measured", "d" + i, start + TimeSpan.FromMilliseconds(i * 60), ct));
        output.WriteLine($"scheduled {count} deadlines in {(TimeProvider.System.GetUtcNow() - start + TimeSpan.FromSeconds(20)).TotalSeconds:F1} s");

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while (app.Lateness.Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(count, app.Lateness.Count);
        Assert.All(app.Runs.Values, runs => Assert.Equal(1, runs));
        var sorted = app.Lateness.Values.Select(l => l.TotalMilliseconds).Order().ToArray();
        double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        output.WriteLine($"deadline lateness over {count}: p50 {Percentile(0.50):F0} ms, p90 {Percentile(0.90):F0} ms, " +
                         $"p99 {Percentile(0.99):F0} ms, max {sorted[^1]:F0} ms, min {sorted[0]:F0} ms");
    }
}
