using System.Diagnostics;
using Microsoft.Extensions.Configuration.Memory;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Observability;

/// <summary>
/// The log levels the app starts from, beneath every other source (local.settings.json, app settings, environment),
/// so any of them can change a level: a request that goes well logs nothing at Information, and
/// <c>Logging__RequestLines=true</c> adds one line per request (<see cref="RequestLineMiddleware"/>).
/// </summary>
public static class RequestLogging
{
    /// <summary>On: one Information line per request. Off by default.</summary>
    public const string RequestLinesSetting = "Logging:RequestLines";

    public static readonly IReadOnlyDictionary<string, string?> DefaultLevels = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        // Hosting ("Request starting", "Request finished"), routing, endpoints and results: several lines per request.
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // HttpClientFactory: four lines per outgoing call; webhook attempts and provider failures log their own.
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
        // Resilience pipelines: "Execution attempt" for every successful call; failed attempts and retries are warnings.
        ["Logging:LogLevel:Polly"] = "Warning",
    };

    public static void AddDefaultLogLevels(this ConfigurationManager configuration) =>
        ((IConfigurationBuilder)configuration).Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultLevels });

    public static bool RequestLinesOn(this IConfiguration configuration) => configuration.GetValue(RequestLinesSetting, false);
}

/// <summary>
/// One line per request: method, path (never the query, which may carry a token), status, duration and the storage
/// requests it cost. Sits inside the storage meter and outside error handling, so the status is the one sent.
/// </summary>
public sealed partial class RequestLineMiddleware(RequestDelegate next, ILogger<RequestLineMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            RequestLine(logger, request.Method, (request.PathBase + request.Path).Value ?? "/", context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, StorageMeter.Current?.Count ?? 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} {StatusCode} in {ElapsedMs:0.0} ms, {StorageRequests} storage requests")]
    private static partial void RequestLine(ILogger logger, string method, string path, int statusCode, double elapsedMs, int storageRequests);
}
