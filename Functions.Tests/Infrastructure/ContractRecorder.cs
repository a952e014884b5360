extern alias JsonSchemaNet;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JsonSchemaNet::Json.Schema;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// Holds every answer the test suite gets from the app to the app's own OpenAPI document. Each response of a documented
/// operation must have its status listed for that operation, a content type the document lists for that status, and,
/// for JSON, a body that validates against the document's schema. A response that does not fails the request that got
/// it (the test sees an exception naming the operation and what is wrong), unless <c>CONTRACT_REPORT_ONLY</c> is set,
/// in which case it is only written to <see cref="FindingsFile"/>. The operations and statuses seen are counted, so
/// <c>ContractCoverageTests</c> can tell which operations no test called.
/// </summary>
public static partial class ContractRecorder
{
    private static readonly ConcurrentDictionary<string, byte> SeenOperations = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, byte> DocumentedOperations = new(StringComparer.Ordinal);
    private static readonly ConcurrentBag<string> FindingsList = [];
    private static readonly ConcurrentDictionary<string, ContractDocument> Documents = new(StringComparer.Ordinal);

    public static bool ReportOnly => Environment.GetEnvironmentVariable("CONTRACT_REPORT_ONLY") is { Length: > 0 } value && value != "0";

    /// <summary>Where findings go in report-only mode (one line each), and the operations seen and documented.</summary>
    public static string? FindingsFile => Environment.GetEnvironmentVariable("CONTRACT_FINDINGS_FILE");

    /// <summary>Operations (<c>GET /path/{id}</c>) that some test called and got a documented success (below 400) from.</summary>
    public static IReadOnlyCollection<string> Seen => SeenOperations.Keys.ToArray();

    /// <summary>Every operation of every document the run checked answers against.</summary>
    public static IReadOnlyCollection<string> Documented => DocumentedOperations.Keys.ToArray();

    public static IReadOnlyCollection<string> Findings => FindingsList.ToArray();

    /// <summary>The middleware, first in the app's pipeline, for <see cref="PlatformFactory"/>.</summary>
    public sealed class StartupFilter : IStartupFilter
    {
        private Task<ContractDocument>? _document;
        private readonly Lock _lock = new();
        private IServiceProvider? _services;

        private Task<ContractDocument> DocumentAsync()
        {
            lock (_lock)
                return _document ??= LoadAsync(_services!);
        }

        /// <summary>
        /// The app's document, from its document provider (not over HTTP: that would be a request of its own). Apps with
        /// the same endpoints have the same document, so one is built and compiled per set of endpoints in the run.
        /// </summary>
        private static async Task<ContractDocument> LoadAsync(IServiceProvider services)
        {
            var endpoints = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
                .Select(e => $"{string.Join(',', e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])} {e.RoutePattern.RawText} {e.DisplayName}")
                .Order(StringComparer.Ordinal);
            var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', endpoints))));
            if (Documents.TryGetValue(key, out var known))
                return known;
            var document = await services.GetRequiredKeyedService<Microsoft.AspNetCore.OpenApi.IOpenApiDocumentProvider>("v1").GetOpenApiDocumentAsync();
            using var text = new StringWriter();
            document.SerializeAsV31(new Microsoft.OpenApi.OpenApiJsonWriter(text));
            return Documents.GetOrAdd(key, _ => new ContractDocument(text.ToString()));
        }

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            _services = app.ApplicationServices;
            app.Use(async (context, call) =>
            {
                if (HttpMethods.IsOptions(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                    || context.Request.Path.StartsWithSegments("/openapi") || context.Request.Path.StartsWithSegments("/docs"))
                {
                    await call(context);
                    return;
                }
                // A JSON request body of a reasonable size is kept, to hold it to the document once the app accepted it.
                byte[]? request = null;
                if (context.Request.ContentLength is null or (> 0 and <= MaxKept) && IsJson(context.Request.ContentType))
                {
                    // Up to MaxKept bytes are read (a body sent without a length may be longer); the app reads the same bytes.
                    var kept = new byte[MaxKept + 1];
                    var length = 0;
                    int read;
                    while (length < kept.Length && (read = await context.Request.Body.ReadAsync(kept.AsMemory(length), context.RequestAborted)) > 0)
                        length += read;
                    var head = kept[..length];
                    if (length <= MaxKept)
                    {
                        request = head;
                        context.Request.Body = new MemoryStream(head, writable: false);
                    }
                    else
                        context.Request.Body = new ConcatenatedStream(new MemoryStream(head, writable: false), context.Request.Body);
                }
                var original = context.Response.Body;
                using var buffer = new MemoryStream();
                context.Response.Body = buffer;
                try
                {
                    await call(context);
                }
                finally
                {
                    context.Response.Body = original;
                }
                var problem = await CheckAsync(context, buffer, request);
                if (problem is not null)
                {
                    FindingsList.Add(problem);
                    if (FindingsFile is { } file)
                        lock (FindingsList)
                            File.AppendAllText(file, problem.ReplaceLineEndings(" ") + "\n");
                    if (!ReportOnly)
                        throw new InvalidOperationException("The answer does not match the OpenAPI document: " + problem);
                }
                buffer.Position = 0;
                await buffer.CopyToAsync(original, context.RequestAborted);
            });
            next(app);
        };

        private const int MaxKept = 256 * 1024;

        private static bool IsJson(string? contentType) =>
            contentType is not null && MediaTypeHeaderValue.TryParse(contentType, out var type)
            && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

        /// <summary>
        /// A request the app accepted (below 400) must be one the document allows: its JSON body valid against the
        /// request schema, its query values against their parameters' schemas. Otherwise the document is stricter than
        /// the handler, and a client generated from it would refuse to send what the API takes.
        /// </summary>
        private static string? CheckAccepted(string name, Operation operation, HttpContext context, byte[]? request)
        {
            if (request is { Length: > 0 } && operation.RequestBody is { } schema)
            {
                JsonElement json;
                try
                {
                    // A UTF-8 byte order mark may be ignored by a JSON reader (RFC 8259 §8.1), as the app's reader does.
                    json = JsonDocument.Parse(request.AsMemory(request.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0)).RootElement;
                }
                catch (JsonException)
                {
                    return $"{name} accepted a request body that is not JSON.";
                }
                if (Refusal(schema, json) is { } refusal)
                    return $"{name} accepted a request body the document's schema refuses: {refusal} — body {Sample(json.GetRawText())}";
            }
            foreach (var (parameter, (parameterSchema, type)) in operation.Query)
            {
                if (!context.Request.Query.TryGetValue(parameter, out var values) || values.Count != 1 || values[0] is not { } value)
                    continue;
                JsonNode? node = type switch
                {
                    "integer" when long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
                    "number" when decimal.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
                    "boolean" when bool.TryParse(value, out var flag) => JsonValue.Create(flag),
                    _ => JsonValue.Create(value),
                };
                var element = JsonSerializer.SerializeToElement(node);
                if (Refusal(parameterSchema, element) is { } refusal)
                    return $"{name} accepted the query value {parameter}={value}, which the document refuses: {refusal}";
            }
            return null;
        }

        private static string? Refusal(JsonSchema schema, JsonElement json)
        {
            var result = schema.Evaluate(json, new EvaluationOptions { OutputFormat = OutputFormat.List });
            return result.IsValid ? null : string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Distinct().Take(6));
        }

        private async Task<string?> CheckAsync(HttpContext context, MemoryStream body, byte[]? request)
        {
            if (context.GetEndpoint() is not RouteEndpoint endpoint
                || endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true })
                return null;
            var contract = await DocumentAsync();
            var path = PathOf(endpoint.RoutePattern);
            var method = context.Request.Method.ToLowerInvariant();
            var name = $"{method.ToUpperInvariant()} {path}";
            if (!contract.Operations.TryGetValue((path, method), out var operation))
                return $"{name} is served but not in the document.";
            var status = context.Response.StatusCode;
            var response = operation.Response(status);
            if (response is null)
                return $"{name} answered {status}, which the document does not list for it (it lists {string.Join(", ", operation.Statuses)}).";
            if (status < 400)
            {
                SeenOperations.TryAdd(name, 0);
                if (CheckAccepted(name, operation, context, request) is { } accepted)
                    return accepted;
            }
            var mediaType = context.Response.ContentType is { } header && MediaTypeHeaderValue.TryParse(header, out var parsed)
                ? parsed.MediaType.Value!.ToLowerInvariant()
                : null;
            if (body.Length == 0)
                return null;
            if (response.Content.Count == 0)
                return $"{name} answered {status} with a {mediaType ?? "body without a content type"}, where the document says no body.";
            if (mediaType is null || !response.Content.TryGetValue(mediaType, out var schema))
                return $"{name} answered {status} as {mediaType ?? "no content type"}; the document lists {string.Join(", ", response.Content.Keys)}. " +
                       $"Body: {Sample(Encoding.UTF8.GetString(body.ToArray()))}";
            if (schema is null || !(mediaType.EndsWith("/json", StringComparison.Ordinal) || mediaType.EndsWith("+json", StringComparison.Ordinal)))
                return null;
            JsonElement json;
            try
            {
                json = JsonDocument.Parse(body.ToArray()).RootElement;
            }
            catch (JsonException e)
            {
                return $"{name} answered {status} with a body that is not JSON: {e.Message}";
            }
            return Refusal(schema, json) is { } refusal
                ? $"{name} answered {status} with a body the document's schema refuses: {refusal} — body {Sample(json.GetRawText())}"
                : null;
        }

        private static string Sample(string text) => text.Length > 400 ? text[..400] + "…" : text;
    }

    /// <summary><c>/orders/{id:long}</c> as the document writes it: <c>/orders/{id}</c>.</summary>
    internal static string PathOf(RoutePattern pattern)
    {
        var raw = "/" + (pattern.RawText ?? "").Trim('/');
        return RouteParameter().Replace(raw, m => "{" + m.Groups["name"].Value + "}");
    }

    [GeneratedRegex(@"\{\**(?<name>[A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex RouteParameter();

    public sealed record Operation(IReadOnlyDictionary<string, ResponseContract> Responses, JsonSchema? RequestBody,
        IReadOnlyDictionary<string, (JsonSchema Schema, string? Type)> Query)
    {
        public IEnumerable<string> Statuses => Responses.Keys;

        public ResponseContract? Response(int status) =>
            Responses.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture))
            ?? Responses.GetValueOrDefault($"{status / 100}XX")
            ?? Responses.GetValueOrDefault("default");
    }

    /// <summary>A documented response: its media types, each with its compiled schema (null when it has none).</summary>
    public sealed record ResponseContract(IReadOnlyDictionary<string, JsonSchema?> Content);

    /// <summary>A document, its components registered once, each response schema compiled once.</summary>
    public sealed class ContractDocument
    {
        private const string ComponentsId = "https://contract.test/components";
        private static int _ids;

        public IReadOnlyDictionary<(string Path, string Method), Operation> Operations { get; }

        public ContractDocument(string text)
        {
            var document = JsonNode.Parse(text)!.AsObject();
            var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
            var components = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$id"] = ComponentsId,
                ["$defs"] = Rewrite(document["components"]?["schemas"]?.DeepClone() ?? new JsonObject()),
            };
            JsonSchema.FromText(components.ToJsonString(), options);
            var operations = new Dictionary<(string, string), Operation>();
            foreach (var (path, item) in document["paths"]!.AsObject())
            {
                foreach (var (method, op) in item!.AsObject())
                {
                    if (method is "parameters" or "summary" or "description" or "servers")
                        continue;
                    DocumentedOperations.TryAdd($"{method.ToUpperInvariant()} {path}", 0);
                    var responses = new Dictionary<string, ResponseContract>(StringComparer.OrdinalIgnoreCase);
                    foreach (var (status, response) in op!["responses"]?.AsObject() ?? [])
                    {
                        var content = new Dictionary<string, JsonSchema?>(StringComparer.OrdinalIgnoreCase);
                        foreach (var (media, mediaObject) in response!["content"]?.AsObject() ?? [])
                        {
                            var schema = mediaObject?["schema"];
                            content[media.ToLowerInvariant()] = schema is null ? null : Compile(schema, options);
                        }
                        responses[status] = new ResponseContract(content);
                    }
                    var requestSchema = op!["requestBody"]?["content"]?["application/json"]?["schema"];
                    var query = new Dictionary<string, (JsonSchema, string?)>(StringComparer.Ordinal);
                    foreach (var parameter in op!["parameters"]?.AsArray() ?? [])
                    {
                        if (parameter?["in"]?.GetValue<string>() == "query" && parameter["schema"] is { } parameterSchema && parameter["name"]?.GetValue<string>() is { } parameterName)
                            query[parameterName] = (Compile(parameterSchema, options), TypeOf(parameterSchema));
                    }
                    operations[(path, method)] = new Operation(responses, requestSchema is null ? null : Compile(requestSchema, options), query);
                }
            }
            Operations = operations;
        }

        private static JsonSchema Compile(JsonNode schema, BuildOptions options)
        {
            var wrapped = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$id"] = $"https://contract.test/response/{Interlocked.Increment(ref _ids)}",
                ["allOf"] = new JsonArray(Rewrite(schema.DeepClone())),
            };
            return JsonSchema.FromText(wrapped.ToJsonString(), options);
        }

        /// <summary>The one JSON type a parameter's schema names, not counting null (<c>["null", "integer"]</c> is integer).</summary>
        private static string? TypeOf(JsonNode schema) => schema["type"] switch
        {
            JsonValue value => value.GetValue<string>(),
            JsonArray types => types.Select(t => t?.GetValue<string>()).FirstOrDefault(t => t is not null and not "null"),
            _ => null,
        };

        /// <summary>References to <c>#/components/schemas/X</c> point at the registered components.</summary>
        private static JsonNode Rewrite(JsonNode node)
        {
            var text = node.ToJsonString().Replace("\"#/components/schemas/", $"\"{ComponentsId}#/$defs/", StringComparison.Ordinal);
            return JsonNode.Parse(text)!;
        }
    }
}

/// <summary>A read-only stream of one stream's bytes, then another's: the part of a body already read, then the rest.</summary>
internal sealed class ConcatenatedStream(Stream first, Stream second) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await first.ReadAsync(buffer, cancellationToken);
        return read > 0 ? read : await second.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
