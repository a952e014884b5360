using System.Diagnostics;

namespace Serverless.Platform.Hosting;

/// <summary>
/// Where start-up time goes: with <c>STARTUP_TIMINGS=1</c> in the environment each phase writes one line to standard
/// error, milliseconds since the process started (<c>startup +412 ms built the app</c>). Off, a mark costs one
/// branch. Read by hand or by the bench's cold start (bench/README.md, "Cold start").
/// </summary>
public static class StartupTimeline
{
    public const string Variable = "STARTUP_TIMINGS";

    public static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) is "1" or "true";

    private static readonly DateTime ProcessStart = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;

    private static int _once;

    /// <summary>The first time only (the first healthy answer).</summary>
    public static void MarkOnce(string phase)
    {
        if (Enabled && Interlocked.Exchange(ref _once, 1) == 0)
            Mark(phase);
    }

    public static void Mark(string phase)
    {
        if (Enabled)
            Console.Error.WriteLine($"startup +{(DateTime.UtcNow - ProcessStart).TotalMilliseconds:F0} ms {phase}");
    }
}
