using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Serverless.Platform.Observability;

/// <summary>The app's own activity source and meter; exported with the ASP.NET Core and HTTP client ones.</summary>
public static class PlatformTelemetry
{
    public const string Name = "Serverless";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Every request sent to the storage account, by service.</summary>
    public static readonly Counter<long> StorageRequests =
        Meter.CreateCounter<long>("storage.requests", unit: "{request}", description: "Requests sent to Azure Storage.");

    /// <summary>Storage requests made by one HTTP request or trigger run: the cost figure per operation.</summary>
    public static readonly Histogram<int> StorageRequestsPerOperation =
        Meter.CreateHistogram<int>("storage.requests_per_operation", unit: "{request}",
            description: "Storage requests made while serving one HTTP request or trigger invocation.");

    public static readonly Counter<long> TriggerRuns =
        Meter.CreateCounter<long>("trigger.runs", unit: "{run}", description: "Timer and queue trigger invocations, by outcome.");
}
