using System.Diagnostics;

namespace Serverless.Platform.Hosting;

/// <summary>
/// Where start-up time goes: with <c>STARTUP_TIMINGS=1</c> in the environment each phase writes one line to standard
/// error, milliseconds since the process started (<c>startup +412 ms app built (CPU 520 ms; jitted 2100 methods in 180 ms so far)</c>: the process's CPU time over all its threads, and the JIT's share). Off, a mark costs one
/// branch. Read by hand or by the bench's cold start (bench/README.md, "Cold start").
/// </summary>
public static class StartupTimeline
{
    public const string Variable = "STARTUP_TIMINGS";

    public static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) is "1" or "true";

    private static readonly DateTime ProcessStart = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;

    private static int _once;

    /// <summary>When timing: each hosted service's start is marked (they start one after the other, before Kestrel listens).</summary>
    public static void TimeHostedServices(IServiceCollection services)
    {
        if (!Enabled)
            return;
        for (var i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(IHostedService) || d.IsKeyedService)
                continue;
            services[i] = ServiceDescriptor.Singleton<IHostedService>(sp => new Timed(Resolve(sp, d)));
        }
    }

    private static IHostedService Resolve(IServiceProvider sp, ServiceDescriptor d) =>
        (IHostedService)(d.ImplementationInstance ?? d.ImplementationFactory?.Invoke(sp)
                         ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!));

    private sealed class Timed(IHostedService inner) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await inner.StartAsync(cancellationToken);
            Mark($"started {inner.GetType().Name}");
        }

        public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);
    }

    /// <summary>The first time only (the first healthy answer).</summary>
    public static void MarkOnce(string phase)
    {
        if (Enabled && Interlocked.Exchange(ref _once, 1) == 0)
            Mark(phase);
    }

    public static void Mark(string phase)
    {
        if (Enabled)
            Console.Error.WriteLine($"startup +{(DateTime.UtcNow - ProcessStart).TotalMilliseconds:F0} ms {phase} " +
                                    $"(CPU {Environment.CpuUsage.TotalTime.TotalMilliseconds:F0} ms; jitted {System.Runtime.JitInfo.GetCompiledMethodCount()} methods in {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:F0} ms so far)");
    }
}
