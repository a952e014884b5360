using System.Diagnostics;
using System.Text.Json;

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
}
