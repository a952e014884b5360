using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Hosting;

public sealed record HealthResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("storage")] StorageHealth Storage);

public sealed record StorageHealth(
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("tables")] string Tables,
    [property: JsonPropertyName("queues")] string Queues,
    [property: JsonPropertyName("blobs")] string Blobs,
    [property: JsonPropertyName("problem")] string? Problem);

public sealed record ReadinessResponse([property: JsonPropertyName("service")] string Service, [property: JsonPropertyName("status")] string Status);

/// <summary><c>GET /health</c>: is storage reachable (200) or not (503, with the reason); <c>GET /</c> for the host.</summary>
public static class HealthApi
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", Readiness).WithName("Readiness").WithMetadata(HostInternalEndpoint.Instance).ExcludeFromDescription();
        app.MapGet("/health", Check).WithName("Health").WithTags("Platform").AllowAnonymous()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Storage reachability: 200 when tables, queues and blobs answer, 503 otherwise.")
            .WithDescription("Open to anyone. Probes the storage account's tables, queues and blobs (for at most 5 seconds) and answers " +
            "200 with status healthy and each one's state (ok, or unused when the app has none), or 503 with status " +
            "unhealthy, the states (unreachable for one that did not answer), the reason in storage.problem and " +
            "Retry-After: 5; it is also 503 until the app's start-up work on storage has succeeded. The storage " +
            "account's address is shown outside production only.");
    }

    /// <summary>The Functions host polls this until it answers; it must not depend on storage.</summary>
    public static Ok<ReadinessResponse> Readiness() => TypedResults.Ok(new ReadinessResponse("serverless-functions", "running"));

    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> Check(
        StorageAccount storage, StorageReadiness readiness, IHostEnvironment environment, HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var token = timeout.Token;

        var tables = Probe(() => storage.Table(IdBlockAllocator.TableName).GetEntityIfExistsAsync<TableEntity>("health", "probe", ["PartitionKey"], token));
        var queues = storage.Catalog.Queues.FirstOrDefault() is { } queue
            ? Probe(() => storage.Queue(queue).GetPropertiesAsync(token))
            : Task.FromResult("unused");
        var blobs = storage.Catalog.Containers.FirstOrDefault() is { } container
            ? Probe(() => storage.Container(container).GetPropertiesAsync(cancellationToken: token))
            : Task.FromResult("unused");
        await Task.WhenAll(tables, queues, blobs);

        var answered = new[] { tables.Result, queues.Result, blobs.Result }.All(s => s is "ok" or "unused");
        var problem = answered
            ? readiness.Problem
            : $"Storage account at {storage.Description} is unreachable. Start Azurite (./dev run does) or check the AzureWebJobsStorage setting.";
        var healthy = problem is null;
        // Where the account is helps a developer; in production it is nobody else's business.
        var account = environment.IsProduction() ? null : storage.Description;
        var body = new HealthResponse(healthy ? "healthy" : "unhealthy",
            new StorageHealth(account, tables.Result, queues.Result, blobs.Result, problem));
        if (healthy)
        {
            StartupTimeline.MarkOnce("first healthy /health");
            return TypedResults.Ok(body);
        }
        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<string> Probe(Func<Task> probe)
    {
        try
        {
            await probe();
            return "ok";
        }
        catch (Exception ex) when (StorageFailure.IsUnavailable(ex) || ex is OperationCanceledException)
        {
            return "unreachable";
        }
    }
}
