using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Serverless.Platform.Http;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>The app with two browser apps allowed to call it from their own origins.</summary>
public sealed class CorsFactory : PlatformFactory
{
    public const string Shop = "https://shop.example.com";
    public const string LocalApp = "http://localhost:3000";

    public CorsFactory() => With("Cors:AllowedOrigins", $"{Shop}, {LocalApp}/");
}

public sealed class CorsTests(CorsFactory app) : IClassFixture<CorsFactory>
{
    private static HttpRequestMessage Preflight(string path, string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static HttpRequestMessage From(HttpMethod method, string path, string origin)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Origin", origin);
        return request;
    }

    private static string[] Values(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) ? values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)).ToArray() : [];

    [Theory]
    [InlineData(CorsFactory.Shop)]
    [InlineData(CorsFactory.LocalApp)]
    public async Task A_listed_origin_may_read_answers_with_credentials_and_the_exposed_headers(string origin)
    {
        var response = await app.CreateClient().SendAsync(From(HttpMethod.Get, "/health", origin));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([origin], Values(response, "Access-Control-Allow-Origin"));
        Assert.Equal(["true"], Values(response, "Access-Control-Allow-Credentials"));
        Assert.Equal(["Idempotent-Replayed", "Location", "Retry-After", "X-Storage-Requests"], Values(response, "Access-Control-Expose-Headers").Order());
        Assert.Contains("Origin", Values(response, "Vary"));
    }

    [Fact]
    public async Task A_listed_origin_may_read_error_answers_too()
    {
        var response = await app.CreateClient().SendAsync(From(HttpMethod.Get, "/plugins/orders", CorsFactory.Shop));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal([CorsFactory.Shop], Values(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_preflight_from_a_listed_origin_is_answered_204_before_authentication()
    {
        var response = await app.CreateClient().SendAsync(
            Preflight("/plugins/orders/checkout", CorsFactory.Shop, "POST", "content-type, x-api-key, idempotency-key"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([CorsFactory.Shop], Values(response, "Access-Control-Allow-Origin"));
        Assert.Equal(["true"], Values(response, "Access-Control-Allow-Credentials"));
        Assert.Contains("POST", Values(response, "Access-Control-Allow-Methods"));
        var allowed = Values(response, "Access-Control-Allow-Headers").Select(h => h.ToLowerInvariant()).ToList();
        Assert.Equal(["authorization", "content-type", "csrf-token", "idempotency-key", "x-api-key", "x-csrf-token", "x-xsrf-token", "xsrf-token"],
            allowed.Order());
    }

    [Fact]
    public async Task A_preflight_for_a_print_change_with_the_csrf_header_is_allowed()
    {
        var response = await app.CreateClient().SendAsync(Preflight("/profile", CorsFactory.LocalApp, "PUT", "X-CSRF-Token, Content-Type"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([CorsFactory.LocalApp], Values(response, "Access-Control-Allow-Origin"));
        Assert.Contains("PUT", Values(response, "Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task An_unlisted_origin_gets_no_cors_headers()
    {
        var client = app.CreateClient();

        var simple = await client.SendAsync(From(HttpMethod.Get, "/health", "https://evil.example.net"));
        var preflight = await client.SendAsync(Preflight("/plugins/orders/checkout", "https://evil.example.net", "POST", "x-api-key"));
        var sameHostOtherScheme = await client.SendAsync(From(HttpMethod.Get, "/health", "http://shop.example.com"));

        Assert.Equal(HttpStatusCode.OK, simple.StatusCode);
        foreach (var response in new[] { simple, preflight, sameHostOtherScheme })
        {
            Assert.Empty(Values(response, "Access-Control-Allow-Origin"));
            Assert.Empty(Values(response, "Access-Control-Allow-Credentials"));
            Assert.Empty(Values(response, "Access-Control-Allow-Methods"));
        }
    }
}

/// <summary>Without <c>Cors__AllowedOrigins</c> (the default everywhere) no origin gets cross-origin access.</summary>
public sealed class CorsOffTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task No_origin_gets_cors_headers_and_a_preflight_is_a_405_in_the_surface_shape()
    {
        var client = app.CreateClient();
        var simple = new HttpRequestMessage(HttpMethod.Get, "/health");
        simple.Headers.Add("Origin", CorsFactory.Shop);
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/plugins/orders/checkout");
        preflight.Headers.Add("Origin", CorsFactory.Shop);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");

        var simpleResponse = await client.SendAsync(simple);
        var preflightResponse = await client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.OK, simpleResponse.StatusCode);
        Assert.False(simpleResponse.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, preflightResponse.StatusCode);
        Assert.False(preflightResponse.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Contains("\"statusCode\":405", await preflightResponse.Content.ReadAsStringAsync());
    }
}

public sealed class CorsSettingsTests
{
    private static CorsSettings Read(string? origins, string environment = "Testing") =>
        new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [CorsSettings.Setting] = origins }).Build(),
            new HostingEnvironment { EnvironmentName = environment });

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ")]
    public void Empty_allows_no_origin(string? origins)
    {
        var settings = Read(origins, "Production");

        Assert.False(settings.Enabled);
        Assert.Empty(settings.Origins);
    }

    [Fact]
    public void Origins_are_kept_exactly_without_a_trailing_slash()
    {
        var settings = Read("https://shop.example.com/, http://localhost:3000,https://shop.example.com", "Production");

        Assert.Equal(["https://shop.example.com", "http://localhost:3000"], settings.Origins);
        Assert.True(settings.Policy().SupportsCredentials);
    }

    [Theory]
    [InlineData("shop.example.com")]
    [InlineData("https://shop.example.com/app")]
    [InlineData("ftp://shop.example.com")]
    [InlineData("https://shop.example.com?x=1")]
    public void Anything_but_an_origin_is_refused_with_one_line(string origin)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read("https://ok.example.com," + origin));

        Assert.Equal($"Cors__AllowedOrigins must be comma-separated origins such as https://shop.example.com (scheme, host and port only); '{origin}' is not one.",
            Assert.Single(error.Failures));
    }

    [Fact]
    public void Any_origin_is_allowed_outside_production_without_credentials()
    {
        var settings = Read("*", "Development");

        Assert.True(settings.AnyOrigin);
        Assert.True(settings.Policy().AllowAnyOrigin);
        Assert.False(settings.Policy().SupportsCredentials);
    }

    [Fact]
    public void Any_origin_is_refused_in_production()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read("*", "Production"));

        Assert.Contains("Cors__AllowedOrigins must list the browser apps' origins in Production", Assert.Single(error.Failures));
    }
}
