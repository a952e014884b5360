using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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
    private async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(string method, string path)
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static void AssertAllow(HttpResponseMessage response, params string[] methods)
    {
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var allow = response.Content.Headers.Allow.Count > 0 ? response.Content.Headers.Allow
            : response.Headers.GetValues("Allow").SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries));
        Assert.Equal(methods.Order(), allow.Order());
    }

    private static string[] Properties(JsonElement body) => body.EnumerateObject().Select(p => p.Name).Order().ToArray();

    [Theory]
    [InlineData("/plugins/nope")]
    [InlineData("/plugins/admin/stores/s1/nope")]
    [InlineData("/checkout/o1/nope/more")]
    public async Task Checkout_unknown_paths_are_404_in_the_checkout_shape(string path)
    {
        var (response, body) = await SendAsync("GET", path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["code", "error", "message", "statusCode"], Properties(body));
        Assert.Equal(404, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Not Found", body.GetProperty("error").GetString());
        Assert.Equal("not_found", body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Checkout_wrong_method_is_405_in_the_checkout_shape_with_allow()
    {
        var (response, body) = await SendAsync("DELETE", "/plugins/orders/checkout");

        // GET is /plugins/orders/{orderId} with the id "checkout".
        AssertAllow(response, "GET", "POST");
        Assert.Equal(405, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Method Not Allowed", body.GetProperty("error").GetString());
        Assert.Equal("method_not_allowed", body.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("/api/pre-orders/x/y/z")]
    [InlineData("/api/nope")]
    [InlineData("/pay/p1/nope")]
    public async Task Pre_order_unknown_paths_are_404_in_the_pre_order_shape(string path)
    {
        var (response, body) = await SendAsync("GET", path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["error"], Properties(body));
        Assert.Equal("not_found", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("No resource exists at this path.", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Pre_order_wrong_method_is_405_in_the_pre_order_shape_with_allow()
    {
        var (response, body) = await SendAsync("PATCH", "/api/pre-orders");

        AssertAllow(response, "GET", "POST");
        Assert.Equal("method_not_allowed", body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task E_card_unknown_paths_are_404_in_the_e_card_shape()
    {
        var (response, body) = await SendAsync("GET", "/v1/nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["error", "message"], Properties(body));
        Assert.Equal("not_found", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task E_card_wrong_method_is_405_in_the_e_card_shape_with_allow()
    {
        var (response, body) = await SendAsync("DELETE", "/v1/balance");

        AssertAllow(response, "GET");
        Assert.Equal("method_not_allowed", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_e_card_token_endpoint_answers_wrong_methods_and_neighbours_in_the_oauth_shape()
    {
        var (wrongMethod, wrongBody) = await SendAsync("GET", "/connect/token");
        var (unknown, unknownBody) = await SendAsync("POST", "/connect/authorize");

        AssertAllow(wrongMethod, "POST");
        Assert.Equal("invalid_request", wrongBody.GetProperty("error").GetString());
        Assert.Equal("This path does not accept that HTTP method.", wrongBody.GetProperty("error_description").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(["error", "error_description"], Properties(unknownBody));
    }

    [Theory]
    [InlineData("POST", "/companies/7/nope")]
    [InlineData("GET", "/admin/companies/7/nope")]
    [InlineData("GET", "/auth/nope")]
    [InlineData("GET", "/currencies/USD")]
    public async Task Commerce_unknown_paths_are_404_in_the_commerce_shape(string method, string path)
    {
        var (response, body) = await SendAsync(method, path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["error", "message", "statusCode"], Properties(body));
        Assert.Equal(404, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Not Found", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Commerce_wrong_method_is_405_in_the_commerce_shape_with_allow()
    {
        var (response, body) = await SendAsync("DELETE", "/companies/7/products");

        AssertAllow(response, "GET");
        Assert.Equal(405, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Method Not Allowed", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("GET", "/profile/nope")]
    [InlineData("GET", "/admin/nope")]
    [InlineData("POST", "/wallet/nope")]
    [InlineData("GET", "/shop/nope/deeper")]
    public async Task Print_unknown_paths_are_404_in_the_print_shape(string method, string path)
    {
        var (response, body) = await SendAsync(method, path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["code", "error"], Properties(body));
        Assert.Equal("not_found", body.GetProperty("code").GetString());
        Assert.Equal("No resource exists at this path.", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Print_wrong_method_is_405_in_the_print_shape_with_allow()
    {
        var (response, body) = await SendAsync("DELETE", "/login");

        AssertAllow(response, "POST");
        Assert.Equal("method_not_allowed", body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_head_request_that_matches_nothing_gets_the_status_without_a_body()
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, "/plugins/nope"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("GET", "/platform/nope")]
    [InlineData("GET", "/pluginsx")]
    [InlineData("GET", "/no/such/thing")]
    public async Task Paths_no_surface_claims_stay_problem_details(string method, string path)
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("not_found", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
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
