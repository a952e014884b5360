using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Platform.Hosting;

/// <summary>
/// Under the Functions host, timers and queue messages arrive as <c>POST /{FunctionName}</c> with the host's
/// invocation payload: <c>{"Data": {"&lt;binding&gt;": ...}, "Metadata": {...}}</c>. These endpoints exist only in
/// host mode, answer only on loopback, and hand the payload to the same handler the standalone pumps call.
/// A 2xx completes the invocation; anything else fails it (and the host retries or poisons the message).
/// </summary>
public static class HostInvocations
{
    public const string QueueBinding = "message";
    public const string TimerBinding = "timer";

    public static void MapHostInvocations(this IEndpointRouteBuilder app)
    {
        var registry = app.ServiceProvider.GetRequiredService<TriggerRegistry>();
        foreach (var timer in registry.Timers)
        {
            app.MapPost("/" + timer.Name, (HttpContext context, TriggerInvoker invoker, TimeProvider time) =>
                    InvokeTimerAsync(context, timer, invoker, time))
                .WithMetadata(HostInternalEndpoint.Instance).ExcludeFromDescription();
        }
        foreach (var queue in registry.Queues)
        {
            app.MapPost("/" + queue.Name, (HttpContext context, TriggerInvoker invoker) => InvokeQueueAsync(context, queue, invoker))
                .WithMetadata(HostInternalEndpoint.Instance).ExcludeFromDescription();
        }
    }

    private static async Task<IResult> InvokeTimerAsync(HttpContext context, TimerTrigger timer, TriggerInvoker invoker, TimeProvider time)
    {
        if (!IsFromHost(context))
            return Results.NotFound();
        var payload = await ReadPayloadAsync(context);
        var info = payload?["Data"]?[TimerBinding];
        var pastDue = info?["IsPastDue"]?.GetValueKind() == JsonValueKind.True;
        return await CompleteAsync(() => invoker.InvokeAsync(timer, time.GetUtcNow(), pastDue, context.RequestAborted));
    }

    private static async Task<IResult> InvokeQueueAsync(HttpContext context, QueueTrigger queue, TriggerInvoker invoker)
    {
        if (!IsFromHost(context))
            return Results.NotFound();
        var payload = await ReadPayloadAsync(context);
        if (payload?["Data"]?[QueueBinding] is not { } data)
            return Results.BadRequest(new { error = $"The invocation has no '{QueueBinding}' binding data." });
        var message = MessageText(data);
        var metadata = payload["Metadata"];
        var id = metadata?["Id"]?.ToString() ?? "";
        var dequeueCount = long.TryParse(metadata?["DequeueCount"]?.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 1;
        return await CompleteAsync(() => invoker.InvokeAsync(queue, message, id, dequeueCount, context.RequestAborted));
    }

    /// <summary>
    /// The host sends a string message JSON-encoded, and the text of a message that is itself a JSON string
    /// encoded once more; a message it recognised as JSON may arrive as the object itself.
    /// </summary>
    public static string MessageText(JsonNode data)
    {
        if (data.GetValueKind() != JsonValueKind.String)
            return data.ToJsonString();
        var text = data.GetValue<string>();
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            try
            {
                return JsonSerializer.Deserialize<string>(text) ?? text;
            }
            catch (JsonException)
            {
                // A message that merely starts and ends with a quote: take it as it is.
            }
        }
        return text;
    }

    private static async Task<JsonNode?> ReadPayloadAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<IResult> CompleteAsync(Func<Task> invoke)
    {
        var response = new JsonObject { ["Outputs"] = new JsonObject(), ["Logs"] = new JsonArray(), ["ReturnValue"] = null };
        try
        {
            await invoke();
            return Results.Json(response);
        }
        catch (Exception ex)
        {
            response["Logs"]!.AsArray().Add($"{ex.GetType().Name}: {ex.Message}");
            return Results.Json(response, statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    private static bool IsFromHost(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
}

/// <summary>Marks endpoints that serve the Functions host itself (readiness, trigger invocations): not HTTP functions.</summary>
public sealed class HostInternalEndpoint
{
    public static readonly HostInternalEndpoint Instance = new();

    private HostInternalEndpoint()
    {
    }
}
