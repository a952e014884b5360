using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Serverless.Platform.Hosting;

/// <summary>
/// Endpoints mapped through <see cref="Routes"/> resolve the JSON contracts of their request bodies on the first
/// request that reads one, not when the endpoints are built at start-up.
/// <para>
/// The generated request delegates ask the API's serializer options for each body type's contract when they are built.
/// A contract is built complete: a converter and a property contract per property, each a generic type of its own, so
/// the bodies cost about 1,900 type loads and 740 jitted methods on the endpoints' build (bench/README.md, "Cold
/// start"). The delegates built through these routes see instead a copy of the API's options whose contract for each
/// type forwards: its converter reads (and writes) through the API's own contract for that type, resolved and kept on
/// first use. Values, and the errors of well-formed JSON (texts, paths, positions), are the API contract's own; the
/// OpenAPI document reads the API's own options. Malformed JSON is refused at its syntax error's line and byte before
/// its shape is looked at, so that error names no field (DeferredJsonContractsTests).
/// </para>
/// </summary>
public static class DeferredJsonContracts
{
    private const string RoutesKey = "Serverless.DeferredJsonContracts.Routes";

    /// <summary>The app's endpoint route builder, as seen by endpoints that read their bodies through deferred contracts.</summary>
    public static IEndpointRouteBuilder Routes(WebApplication app)
    {
        var properties = ((IApplicationBuilder)app).Properties;
        if (properties.TryGetValue(RoutesKey, out var existing) && existing is IEndpointRouteBuilder routes)
            return routes;
        var api = app.Services.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions;
        routes = new DeferringRouteBuilder(app, new DeferringServices(app.Services, Options.Create(Deferring(api))));
        properties[RoutesKey] = routes;
        return routes;
    }

    /// <summary>A copy of <paramref name="api"/> whose contracts forward to <paramref name="api"/>'s (except <c>object</c>'s, built as is).</summary>
    internal static HttpJsonOptions Deferring(JsonSerializerOptions api)
    {
        var options = new HttpJsonOptions();
        var copy = options.SerializerOptions;
        PlatformRegistration.ConfigureJson(copy);
        copy.PropertyNamingPolicy = api.PropertyNamingPolicy;
        copy.DictionaryKeyPolicy = api.DictionaryKeyPolicy;
        copy.PropertyNameCaseInsensitive = api.PropertyNameCaseInsensitive;
        copy.MaxDepth = api.MaxDepth;
        copy.TypeInfoResolver = new ForwardingResolver(api, copy.TypeInfoResolver!);
        copy.MakeReadOnly();
        return options;
    }

    private sealed class ForwardingResolver(JsonSerializerOptions api, IJsonTypeInfoResolver own) : IJsonTypeInfoResolver
    {
        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
        {
            // object's contract is small and every delegate asks for it; types that cannot be a type argument are left as is.
            if (type == typeof(object) || type.IsPointer || type.IsByRef || type.IsByRefLike || type.ContainsGenericParameters)
                return own.GetTypeInfo(type, options);
            var forwarding = (IForwarding)Activator.CreateInstance(typeof(Forwarding<>).MakeGenericType(type))!;
            return forwarding.Contract(options, api);
        }
    }

    private interface IForwarding
    {
        JsonTypeInfo Contract(JsonSerializerOptions options, JsonSerializerOptions api);
    }

    /// <summary>Reads and writes <typeparamref name="T"/> through the API's own contract, resolved on first use.</summary>
    private sealed class Forwarding<T> : JsonConverter<T>, IForwarding
    {
        private JsonSerializerOptions _api = null!;
        private JsonTypeInfo<T>? _contract;

        public JsonTypeInfo Contract(JsonSerializerOptions options, JsonSerializerOptions api)
        {
            _api = api;
            return JsonMetadataServices.CreateValueInfo<T>(options, this);
        }

        private JsonTypeInfo<T> ApiContract => _contract ??= (JsonTypeInfo<T>)_api.GetTypeInfo(typeof(T));

        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize(ref reader, ApiContract);

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, value, ApiContract);
    }

    /// <summary>The app's services, but for the API's JSON options, which are the deferring copy.</summary>
    private sealed class DeferringServices(IServiceProvider inner, IOptions<HttpJsonOptions> json) : IKeyedServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IOptions<HttpJsonOptions>) ? json : inner.GetService(serviceType);

        public object? GetKeyedService(Type serviceType, object? serviceKey) =>
            ((IKeyedServiceProvider)inner).GetKeyedService(serviceType, serviceKey);

        public object GetRequiredKeyedService(Type serviceType, object? serviceKey) =>
            ((IKeyedServiceProvider)inner).GetRequiredKeyedService(serviceType, serviceKey);
    }

    private sealed class DeferringRouteBuilder(IEndpointRouteBuilder app, IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;

        public ICollection<EndpointDataSource> DataSources => app.DataSources;

        public IApplicationBuilder CreateApplicationBuilder() => app.CreateApplicationBuilder();
    }
}
