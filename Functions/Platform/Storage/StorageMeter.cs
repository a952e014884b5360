using Azure.Core;
using Azure.Core.Pipeline;
using Serverless.Platform.Observability;

namespace Serverless.Platform.Storage;

/// <summary>
/// Counts storage requests made on behalf of one unit of work (an HTTP request or a trigger run). Storage is what
/// this app pays for per request, so the count is reported as a metric and, where enabled, as a response header.
/// </summary>
public sealed class StorageMeter
{
    private static readonly AsyncLocal<StorageMeter?> CurrentMeter = new();
    private int _count;

    public static StorageMeter? Current => CurrentMeter.Value;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Starts counting for the current async flow; dispose to stop.</summary>
    public static Scope Begin()
    {
        var meter = new StorageMeter();
        var previous = CurrentMeter.Value;
        CurrentMeter.Value = meter;
        return new Scope(meter, previous);
    }

    internal void Increment() => Interlocked.Increment(ref _count);

    public readonly struct Scope(StorageMeter meter, StorageMeter? previous) : IDisposable
    {
        public StorageMeter Meter => meter;

        public void Dispose() => CurrentMeter.Value = previous;
    }
}

/// <summary>Runs once per attempt sent to storage (retries included: each one is billed).</summary>
internal sealed class StorageMeteringPolicy(string service) : HttpPipelineSynchronousPolicy
{
    private readonly KeyValuePair<string, object?> _tag = new("storage.service", service);

    public override void OnSendingRequest(HttpMessage message)
    {
        StorageMeter.Current?.Increment();
        PlatformTelemetry.StorageRequests.Add(1, _tag);
    }
}
