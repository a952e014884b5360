using System.Diagnostics;
using System.Globalization;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Observability;

/// <summary>
/// Counts the storage requests each HTTP request makes, records them per endpoint, and (in Development, tests and
/// benchmarks) returns the count in <c>X-Storage-Requests</c>.
/// </summary>
public sealed class StorageMeteringMiddleware(RequestDelegate next, bool exposeHeader)
{
    public const string HeaderName = "X-Storage-Requests";

    public async Task InvokeAsync(HttpContext context)
    {
        using var scope = StorageMeter.Begin();
        var meter = scope.Meter;
        if (exposeHeader)
        {
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[HeaderName] = meter.Count.ToString(CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
        }
        try
        {
            await next(context);
        }
        finally
        {
            var operation = context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "unmatched";
            PlatformTelemetry.StorageRequestsPerOperation.Record(meter.Count, new TagList { { "operation", operation } });
        }
    }
}
