using System.Diagnostics;
using System.Text.RegularExpressions;
using Cronos;
using Serverless.Platform.Observability;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Hosting;

/// <summary>A timer: a function name, a 6-field NCRONTAB schedule (seconds first, UTC) and its work.</summary>
public sealed record TimerTrigger(string Name, string Schedule, Func<TimerInvocation, Task> Handler)
{
    public CronExpression Cron { get; } = CronExpression.Parse(Schedule, CronFormat.IncludeSeconds);
}

/// <summary>A queue handler: a function name, the logical queue it reads and its work.</summary>
public sealed record QueueTrigger(string Name, string QueueName, Func<QueueInvocation, Task> Handler);

public sealed record TimerInvocation(IServiceProvider Services, DateTimeOffset ScheduledAt, bool IsPastDue, CancellationToken CancellationToken);

/// <summary>One delivery of a queue message: its text as the sender wrote it, and how often it has been tried.</summary>
public sealed record QueueInvocation(IServiceProvider Services, string Message, string MessageId, long DequeueCount, CancellationToken CancellationToken);

/// <summary>
/// Every timer and queue function of the app. Surfaces register theirs with <see cref="TriggerRegistrationExtensions"/>;
/// standalone, in-process pumps run them; under the Functions host, the host does and calls <c>POST /{Name}</c>.
/// </summary>
public sealed partial class TriggerRegistry
{
    public TriggerRegistry(IEnumerable<TimerTrigger> timers, IEnumerable<QueueTrigger> queues)
    {
        Timers = timers.ToList();
        Queues = queues.ToList();
        var names = Timers.Select(t => t.Name).Concat(Queues.Select(q => q.Name)).ToList();
        foreach (var name in names)
        {
            if (!FunctionName().IsMatch(name))
                throw new InvalidOperationException($"Trigger name '{name}' is not a valid function name.");
        }
        var duplicate = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Two triggers are named '{duplicate.Key}'.");
    }

    public IReadOnlyList<TimerTrigger> Timers { get; }

    public IReadOnlyList<QueueTrigger> Queues { get; }

    public TimerTrigger? FindTimer(string name) => Timers.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    public QueueTrigger? FindQueue(string name) => Queues.FirstOrDefault(q => string.Equals(q.Name, name, StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,127}$")]
    internal static partial Regex FunctionName();
}

public static class TriggerRegistrationExtensions
{
    public static IServiceCollection AddTimerTrigger(this IServiceCollection services, string name, string schedule,
        Func<TimerInvocation, Task> handler)
    {
        services.AddSingleton(new TimerTrigger(name, schedule, handler));
        return services;
    }

    /// <summary>Registers a queue function; the queue and its poison queue are declared for creation too.</summary>
    public static IServiceCollection AddQueueTrigger(this IServiceCollection services, string name, string queueName,
        Func<QueueInvocation, Task> handler)
    {
        services.AddStorage(s => s.Queue(queueName));
        services.AddSingleton(new QueueTrigger(name, queueName, handler));
        return services;
    }
}

/// <summary>
/// Runs one trigger invocation the same way whoever fired it: in its own DI scope, counted, traced and logged.
/// An exception propagates to the caller, which decides what failure means (retry, poison, non-2xx to the host).
/// </summary>
public sealed class TriggerInvoker(IServiceScopeFactory scopes, ILogger<TriggerInvoker> logger)
{
    public Task InvokeAsync(TimerTrigger timer, DateTimeOffset scheduledAt, bool isPastDue, CancellationToken cancellationToken) =>
        RunAsync(timer.Name, "timer", services => timer.Handler(new TimerInvocation(services, scheduledAt, isPastDue, cancellationToken)));

    public Task InvokeAsync(QueueTrigger queue, string message, string messageId, long dequeueCount, CancellationToken cancellationToken) =>
        RunAsync(queue.Name, "queue", services => queue.Handler(new QueueInvocation(services, message, messageId, dequeueCount, cancellationToken)));

    private async Task RunAsync(string name, string kind, Func<IServiceProvider, Task> run)
    {
        using var activity = PlatformTelemetry.Source.StartActivity($"{kind} {name}", ActivityKind.Consumer);
        activity?.SetTag("faas.trigger", kind == "timer" ? "timer" : "pubsub");
        activity?.SetTag("faas.name", name);
        using var meter = StorageMeter.Begin();
        var outcome = "success";
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await run(scope.ServiceProvider);
        }
        catch (Exception ex)
        {
            outcome = "failure";
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            logger.LogWarning(ex, "{Kind} function {Function} failed", kind, name);
            throw;
        }
        finally
        {
            var tags = new TagList { { "faas.name", name }, { "outcome", outcome } };
            PlatformTelemetry.TriggerRuns.Add(1, tags);
            PlatformTelemetry.StorageRequestsPerOperation.Record(meter.Meter.Count, new TagList { { "operation", name } });
        }
    }
}
