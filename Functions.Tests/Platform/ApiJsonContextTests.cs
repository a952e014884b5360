using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Platform.Http;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>Every type an endpoint reads or writes as JSON has a build-time contract (start-up builds none by reflection).</summary>
public sealed class ApiJsonContextTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public void Every_endpoint_body_and_response_type_has_a_generated_contract_first_in_the_chain()
    {
        var options = app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var chain = options.TypeInfoResolverChain.ToList();
        var reflection = chain.FindIndex(r => r is System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver);
        Assert.InRange(chain.IndexOf(ApiJsonContext.Default), 0, reflection < 0 ? chain.Count : reflection - 1);

        var types = new HashSet<Type>();
        foreach (var endpoint in app.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
            foreach (var metadata in endpoint.Metadata)
            {
                if (metadata is IProducesResponseTypeMetadata { Type: { } produced } && produced != typeof(void))
                    types.Add(produced);
                if (metadata is IAcceptsMetadata { RequestType: { } accepted })
                    types.Add(accepted);
            }
        types.RemoveWhere(t => t == typeof(string) || t == typeof(Stream));
        // Each generated request delegate resolves object's contract as it is built.
        types.Add(typeof(object));
        Assert.True(types.Count > 100, $"only {types.Count} types found: the endpoint metadata is not what this test expects");

        var missing = types.Where(t => ((System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver)ApiJsonContext.Default).GetTypeInfo(t, new JsonSerializerOptions(options)) is null)
            .Select(t => t.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "Add [JsonSerializable(typeof(...))] to ApiJsonContext for: " + string.Join(", ", missing));
    }
}
