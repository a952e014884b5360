using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>
/// A request no endpoint matches (an unknown path, or a known path with a method it does not take) under a surface's
/// prefix is answered in that surface's error shape, like every other error of the surface.
/// </summary>
public sealed class UnmatchedRouteTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    private const string NotFound = "No resource exists at this path.";
    private const string WrongMethod = "This path does not accept that HTTP method.";

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string expectedBody)
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedBody), body), $"{method} {path} answered {body?.ToJsonString()}");
        return response;
    }

    [Theory]
    [InlineData("GET", "/plugins/nope", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found","code":"not_found"}""")]
    [InlineData("GET", "/plugins/admin/stores/s1/nope", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found","code":"not_found"}""")]
    [InlineData("GET", "/checkout/o1/nope/more", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found","code":"not_found"}""")]
    [InlineData("GET", "/api/pre-orders/x/y/z", $$$"""{"error":{"code":"not_found","message":"{{{NotFound}}}"}}""")]
    [InlineData("GET", "/api/nope", $$$"""{"error":{"code":"not_found","message":"{{{NotFound}}}"}}""")]
    [InlineData("GET", "/pay/p1/nope", $$$"""{"error":{"code":"not_found","message":"{{{NotFound}}}"}}""")]
    [InlineData("GET", "/v1/nope", $$"""{"error":"not_found","message":"{{NotFound}}"}""")]
    [InlineData("POST", "/connect/authorize", $$"""{"error":"invalid_request","error_description":"{{NotFound}}"}""")]
    [InlineData("POST", "/companies/7/nope", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found"}""")]
    [InlineData("GET", "/admin/companies/7/nope", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found"}""")]
    [InlineData("GET", "/auth/nope", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found"}""")]
    [InlineData("GET", "/currencies/USD", $$"""{"statusCode":404,"message":"{{NotFound}}","error":"Not Found"}""")]
    [InlineData("GET", "/profile/nope", $$"""{"error":"{{NotFound}}","code":"not_found"}""")]
    [InlineData("GET", "/admin/nope", $$"""{"error":"{{NotFound}}","code":"not_found"}""")]
    [InlineData("POST", "/wallet/nope", $$"""{"error":"{{NotFound}}","code":"not_found"}""")]
    [InlineData("GET", "/shop/nope/deeper", $$"""{"error":"{{NotFound}}","code":"not_found"}""")]
    public async Task An_unknown_path_under_a_surface_is_a_404_in_its_shape(string method, string path, string body)
    {
        var response = await SendAsync(method, path, body);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    // GET is /plugins/orders/{orderId} with the id "checkout".
    [InlineData("DELETE", "/plugins/orders/checkout", "GET,POST", $$"""{"statusCode":405,"message":"{{WrongMethod}}","error":"Method Not Allowed","code":"method_not_allowed"}""")]
    [InlineData("PATCH", "/api/pre-orders", "GET,POST", $$$"""{"error":{"code":"method_not_allowed","message":"{{{WrongMethod}}}"}}""")]
    [InlineData("DELETE", "/v1/balance", "GET", $$"""{"error":"method_not_allowed","message":"{{WrongMethod}}"}""")]
    [InlineData("GET", "/connect/token", "POST", $$"""{"error":"invalid_request","error_description":"{{WrongMethod}}"}""")]
    [InlineData("DELETE", "/companies/7/products", "GET", $$"""{"statusCode":405,"message":"{{WrongMethod}}","error":"Method Not Allowed"}""")]
    [InlineData("DELETE", "/login", "POST", $$"""{"error":"{{WrongMethod}}","code":"method_not_allowed"}""")]
    public async Task A_wrong_method_on_a_surface_path_is_a_405_in_its_shape_with_allow(string method, string path, string allow, string body)
    {
        var response = await SendAsync(method, path, body);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var allowed = response.Content.Headers.Allow.Count > 0 ? response.Content.Headers.Allow
            : response.Headers.GetValues("Allow").SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries));
        Assert.Equal(allow.Split(','), allowed.Order());
    }

    [Fact]
    public async Task A_head_request_that_matches_nothing_gets_the_status_without_a_body()
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, "/plugins/nope"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public void Every_surface_endpoint_lies_under_a_prefix_registered_with_its_shape()
    {
        var byPath = app.Get<ErrorShapesByPath>();
        var endpoints = app.Get<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IErrorShape>() is not null).ToList();

        Assert.NotEmpty(endpoints);
        var misses = endpoints
            .Select(e => (Route: e.RoutePattern.RawText!, Shape: e.Metadata.GetMetadata<IErrorShape>()!))
            .Where(e => byPath.Find(new PathString("/" + e.Route.TrimStart('/'))) is not { } registered
                        // A token endpoint keeps the OAuth shape inside a surface whose other errors have their own.
                        || (registered.GetType() != e.Shape.GetType() && e.Shape is not OAuthErrorShape))
            .Select(e => $"{e.Route} ({e.Shape.GetType().Name})").ToList();
        Assert.True(misses.Count == 0, "Register these paths' prefixes with AddErrorShapeForPrefix: " + string.Join(", ", misses));
    }

    [Theory]
    [InlineData("/admin/companies/7/users", typeof(Serverless.Commerce.CommerceErrorShape))]
    [InlineData("/admin/currencies", typeof(Serverless.Commerce.CommerceErrorShape))]
    [InlineData("/admin/users/7", typeof(Serverless.Print.PrintErrorShape))]
    [InlineData("/ADMIN/COMPANIES/7", typeof(Serverless.Commerce.CommerceErrorShape))]
    [InlineData("/plugins", typeof(Serverless.Checkout.CheckoutErrorShape))]
    public void The_longest_registered_prefix_decides(string path, Type shape) =>
        Assert.IsType(shape, app.Get<ErrorShapesByPath>().Find(new PathString(path)));

    [Fact]
    public void A_prefix_is_literal_segments()
    {
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddErrorShapeForPrefix("/companies/{id}", ProblemDetailsShape.Instance));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddErrorShapeForPrefix("/", ProblemDetailsShape.Instance));
    }
}
