namespace Serverless.Platform.Hosting;

/// <summary>
/// How the standalone pumps read queues, mirroring the Functions host's queue settings in host.json so a handler
/// behaves the same either way.
/// </summary>
public sealed class TriggerOptions
{
    public const string Section = "Triggers";

    /// <summary>Run timers and queue handlers in-process. Defaults to on standalone, off under the host.</summary>
    public bool? RunPumps { get; set; }

    /// <summary>Messages fetched per poll (the host's <c>batchSize</c>).</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>How long a fetched message stays invisible while its handler runs.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Delay before a failed message is tried again (the host's <c>visibilityTimeout</c>).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries before a message moves to <c>&lt;queue&gt;-poison</c> (the host's <c>maxDequeueCount</c>).</summary>
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>Longest wait between polls of an empty queue (the host's <c>maxPollingInterval</c>).</summary>
    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromSeconds(2);
}
