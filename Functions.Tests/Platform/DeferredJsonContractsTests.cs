using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Platform;
using Serverless.Platform.Hosting;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>
/// Request bodies read through a deferred contract (resolved on first read, not at start-up) read as the API's own
/// contract reads them: for well-formed JSON the same values and the same errors, texts, paths and positions alike;
/// malformed JSON refused by both, the deferred read at the syntax error's position.
/// </summary>
public sealed class DeferredJsonContractsTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    /// <summary>Well-formed JSON, right and wrong for the types: read alike, to the byte of every error.</summary>
    private static readonly string[] Payloads =
    [
        "{}", "[]", "null", "123", "\"text\"", "true", "{\"amount\":\"12\"}", "{\"amount\":12.5,\"name\":null}",
        "{\"email\":\"a@example.com\",\"password\":\"pw\",\"name\":\"N\",\"phone\":\"+15550100\"}",
        "{\"items\":[{\"id\":\"x\",\"quantity\":1}],\"unknown\":{\"deep\":[1,2,3]}}", "{\"amount\":1e400}", "{\"a\":\"\\uD800\"}",
        "{\"status\":1,\"amount\":-1,\"email\":[]}", "[{}]",
    ];

    /// <summary>
    /// Malformed JSON: refused by both, at the syntax error's line and byte. The deferred contract's read checks the
    /// body's syntax before its shape, so its error has no field path, and a body that is both malformed and of the
    /// wrong shape is refused as malformed.
    /// </summary>
    private static readonly string[] Malformed = ["{\"a\":", "[1,2", "{\"id\":1,}", "{/*c*/}", "{\"a\" 1}", "{'a':1}", "{\"a\":tru}"];

    [Fact]
    public void Every_request_body_type_reads_through_the_deferred_contract_as_through_the_api_contract()
    {
        var api = app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var deferring = DeferredJsonContracts.Deferring(api).SerializerOptions;
        var bodies = app.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints)
            .SelectMany(e => e.Metadata.OfType<IAcceptsMetadata>())
            .Select(m => m.RequestType).OfType<Type>().Where(t => t != typeof(string) && t != typeof(Stream)).Distinct().ToList();
        Assert.True(bodies.Count > 40, $"only {bodies.Count} body types found: the endpoint metadata is not what this test expects");

        foreach (var type in bodies)
        {
            foreach (var payload in Payloads)
            {
                var expected = Read(payload, type, api);
                var actual = Read(payload, type, deferring);
                Assert.True(expected == actual, $"{type} reading {payload}:\n api:      {expected}\n deferred: {actual}");
            }
            foreach (var payload in Malformed)
            {
                var ex = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(payload, api.GetTypeInfo(type)));
                var deferred = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(payload, deferring.GetTypeInfo(type)));
                Assert.Equal(0, deferred.LineNumber);
                Assert.Equal(SyntaxErrorByte(payload), deferred.BytePositionInLine);
                Assert.Equal("$", deferred.Path);
                Assert.NotNull(ex.Path);
            }
        }
    }

    /// <summary>Where a plain parse of the payload meets its syntax error.</summary>
    private static long? SyntaxErrorByte(string payload) =>
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(payload).Dispose()).BytePositionInLine;

    [Fact]
    public void The_api_contract_is_resolved_on_the_first_read_not_when_the_deferred_contract_is()
    {
        var api = new JsonOptions().SerializerOptions;
        PlatformRegistration.ConfigureJson(api);
        var asked = new List<Type>();
        api.TypeInfoResolver = new Counting(api.TypeInfoResolver!, asked);
        var deferring = DeferredJsonContracts.Deferring(api).SerializerOptions;

        var contract = (JsonTypeInfo<ReadinessResponse>)deferring.GetTypeInfo(typeof(ReadinessResponse));
        Assert.Equal(JsonTypeInfoKind.None, contract.Kind);
        Assert.DoesNotContain(typeof(ReadinessResponse), asked);
        // object's contract is built as is (every generated request delegate asks for it).
        Assert.DoesNotContain("Forwarding", deferring.GetTypeInfo(typeof(object)).Converter.GetType().Name, StringComparison.Ordinal);

        var read = JsonSerializer.Deserialize("{\"service\":\"s\",\"status\":\"running\"}", contract);
        Assert.Equal(new ReadinessResponse("s", "running"), read);
        Assert.Single(asked, t => t == typeof(ReadinessResponse));
        Assert.Equal("{\"service\":\"s\",\"status\":\"running\"}", JsonSerializer.Serialize(read!, contract));
        Assert.Single(asked, t => t == typeof(ReadinessResponse));
    }

    [Fact]
    public async Task The_routes_give_endpoints_the_deferring_json_options_and_every_other_service_as_is()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        builder.Services.ConfigureHttpJsonOptions(o => PlatformRegistration.ConfigureJson(o.SerializerOptions));
        builder.Services.AddKeyedSingleton("key", "keyed value");
        await using var web = builder.Build();

        var routes = DeferredJsonContracts.Routes(web);
        Assert.Same(routes, DeferredJsonContracts.Routes(web));
        Assert.Same(((IEndpointRouteBuilder)web).DataSources, routes.DataSources);

        var apiOptions = web.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var seen = routes.ServiceProvider.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        Assert.NotSame(apiOptions, seen);
        Assert.Equal(JsonTypeInfoKind.None, seen.GetTypeInfo(typeof(ReadinessResponse)).Kind);
        Assert.Equal(JsonTypeInfoKind.Object, apiOptions.GetTypeInfo(typeof(ReadinessResponse)).Kind);
        Assert.Same(web.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostEnvironment>(), routes.ServiceProvider.GetRequiredService<Microsoft.Extensions.Hosting.IHostEnvironment>());
        Assert.Equal("keyed value", routes.ServiceProvider.GetRequiredKeyedService<string>("key"));
    }

    /// <summary>What a read gives: the value as the API writes it back, or the error's type, text and path.</summary>
    private static string Read(string payload, Type type, JsonSerializerOptions options)
    {
        try
        {
            var value = JsonSerializer.Deserialize(payload, options.GetTypeInfo(type));
            return value is null ? "null" : "value " + JsonSerializer.Serialize(value, type, options);
        }
        catch (JsonException ex)
        {
            return $"{ex.GetType().Name}: {ex.Message} (path {ex.Path}, line {ex.LineNumber}, byte {ex.BytePositionInLine})";
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    private sealed class Counting(IJsonTypeInfoResolver inner, List<Type> asked) : IJsonTypeInfoResolver
    {
        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
        {
            lock (asked)
                asked.Add(type);
            return inner.GetTypeInfo(type, options);
        }
    }
}
