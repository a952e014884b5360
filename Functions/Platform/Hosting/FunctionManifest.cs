using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing.Patterns;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Hosting;

/// <summary>One function folder: its name and the content of its function.json.</summary>
public sealed record FunctionDefinition(string Name, JsonObject FunctionJson);

/// <summary>
/// Generates the Functions host's function folders from the app itself: one HTTP function per named endpoint
/// (httpTrigger in, http out, same methods and route), one per timer and one per queue function. Never written by
/// hand, so the host's view of the app cannot drift from the code.
/// The host forwards only the methods a function lists, so the first function of each route also lists OPTIONS:
/// a CORS preflight reaches the app, which answers it (or, without <c>Cors__AllowedOrigins</c>, answers 405). One
/// function per route only, because the host refuses two functions whose routes are equal and whose methods overlap.
/// </summary>
public sealed class FunctionManifest(EndpointDataSource endpoints, TriggerRegistry triggers, StorageAccount storage)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public IReadOnlyList<FunctionDefinition> Build()
    {
        var functions = new List<FunctionDefinition>();
        var unnamed = new List<string>();
        var answering = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // Routes whose own endpoint takes OPTIONS need no other function to list it.
        var routesWithOptions = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(HttpMethods.Options, StringComparer.OrdinalIgnoreCase) == true)
            .Select(e => HostRoute(e.RoutePattern)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<HostInternalEndpoint>() is not null)
                continue;
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods;
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            if (name is null || methods is null || methods.Count == 0)
            {
                unnamed.Add(endpoint.RoutePattern.RawText ?? endpoint.DisplayName ?? "?");
                continue;
            }
            var route = HostRoute(endpoint.RoutePattern);
            if (!methods.Contains(HttpMethods.Options, StringComparer.OrdinalIgnoreCase) && routesWithOptions.Add(route))
                methods = [.. methods, HttpMethods.Options];
            // One route may carry several functions (a page on GET, its API on POST), but each method goes to one of them.
            foreach (var request in methods.Select(m => $"{m.ToUpperInvariant()} /{route}"))
                if (!answering.TryAdd(request, name))
                    throw new InvalidOperationException($"Functions '{answering[request]}' and '{name}' both answer {request}.");
            functions.Add(new FunctionDefinition(name, HttpFunction(methods, route)));
        }
        if (unnamed.Count > 0)
            throw new InvalidOperationException(
                "Every endpoint needs .WithName(...) and explicit HTTP methods to become a function: " + string.Join(", ", unnamed));

        functions.AddRange(triggers.Timers.Select(t => new FunctionDefinition(t.Name, new JsonObject
        {
            ["bindings"] = new JsonArray(new JsonObject
            {
                ["type"] = "timerTrigger", ["direction"] = "in", ["name"] = HostInvocations.TimerBinding, ["schedule"] = t.Schedule,
            }),
        })));
        functions.AddRange(triggers.Queues.Select(q => new FunctionDefinition(q.Name, new JsonObject
        {
            ["bindings"] = new JsonArray(new JsonObject
            {
                ["type"] = "queueTrigger", ["direction"] = "in", ["name"] = HostInvocations.QueueBinding,
                ["queueName"] = storage.QueueName(q.QueueName), ["connection"] = StorageAccount.ConnectionSetting,
            }),
        })));

        var clash = functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new InvalidOperationException($"Two functions are named '{clash.Key}'.");
        // A trigger's invocation path must never be reachable as a public HTTP route.
        var triggerNames = triggers.Timers.Select(t => t.Name).Concat(triggers.Queues.Select(q => q.Name)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var shadowing = functions.FirstOrDefault(f => f.FunctionJson["bindings"]![0]!["route"]?.GetValue<string>() is { } r && triggerNames.Contains(r));
        if (shadowing is not null)
            throw new InvalidOperationException($"HTTP function '{shadowing.Name}' uses a trigger's name as its route.");
        return functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Writes one folder per function, each with its function.json; returns how many.</summary>
    public int WriteTo(string directory)
    {
        var functions = Build();
        Directory.CreateDirectory(directory);
        foreach (var function in functions)
        {
            var folder = Path.Combine(directory, function.Name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "function.json"), function.FunctionJson.ToJsonString(Indented) + "\n");
        }
        return functions.Count;
    }

    private static JsonObject HttpFunction(IReadOnlyList<string> methods, string route) => new()
    {
        ["bindings"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "httpTrigger", ["direction"] = "in", ["name"] = "req", ["authLevel"] = "anonymous",
                ["methods"] = new JsonArray(methods.Select(m => (JsonNode)JsonValue.Create(m.ToLowerInvariant())).ToArray()),
                ["route"] = route,
            },
            new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }),
    };

    /// <summary>The host reads ASP.NET Core route templates, without the leading slash; catch-alls take one star.</summary>
    public static string HostRoute(RoutePattern pattern) =>
        (pattern.RawText ?? "").Trim('/').Replace("{**", "{*", StringComparison.Ordinal);
}

public static class FunctionNamingExtensions
{
    /// <summary>
    /// Names every endpoint a library maps in one call (documentation pages and their assets), so each becomes a
    /// function: <paramref name="prefix"/> plus the route's last literal segment.
    /// </summary>
    public static TBuilder WithFunctionNamesFromRoutes<TBuilder>(this TBuilder builder, string prefix) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            if (endpoint is not RouteEndpointBuilder route || endpoint.Metadata.OfType<IEndpointNameMetadata>().Any())
                return;
            var literal = route.RoutePattern.PathSegments.LastOrDefault(s => s.IsSimple && s.Parts[0].IsLiteral)?.Parts[0] as RoutePatternLiteralPart;
            var isParameterPage = route.RoutePattern.PathSegments.LastOrDefault()?.IsSimple == true
                                  && route.RoutePattern.PathSegments[^1].Parts[0].IsParameter;
            var suffix = isParameterPage || literal is null ? "" : "_" + new string(literal.Content.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
            endpoint.Metadata.Add(new EndpointNameMetadata(prefix + suffix));
        });
        return builder;
    }
}
