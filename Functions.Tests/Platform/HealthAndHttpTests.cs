using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class HealthAndHttpTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task Health_reports_storage_reachable_with_its_storage_request_count()
    {
        var response = await app.CreateClient().GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("ok", body.GetProperty("storage").GetProperty("tables").GetString());
        Assert.Equal("ok", body.GetProperty("storage").GetProperty("queues").GetString());
        Assert.Equal("ok", body.GetProperty("storage").GetProperty("blobs").GetString());
        // One point read of a table, one queue's and one container's properties: what a health probe costs.
        Assert.Equal("3", response.Headers.GetValues("X-Storage-Requests").Single());
    }

    [Fact]
    public async Task Root_answers_for_the_functions_host_without_touching_storage()
    {
        var response = await app.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0", response.Headers.GetValues("X-Storage-Requests").Single());
    }

    [Theory]
    [InlineData("/no/such/thing")]
    [InlineData("/platform/nope")]
    // A prefix is whole segments: /plugins is checkout's, /pluginsx no surface's.
    [InlineData("/pluginsx")]
    public async Task Unknown_route_no_surface_claims_is_a_404_problem(string path)
    {
        var response = await app.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("not_found", body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        var response = await app.CreateClient().DeleteAsync("/health");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("method_not_allowed", body.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("{\"login\": ", "not valid JSON")]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("{\"login\": 42, \"password\": \"x\"}", "'login' must be a string")]
    [InlineData("{\"password\": \"x\"}", "Missing required field(s): 'login'")]
    [InlineData("{\"login\": null, \"password\": \"x\"}", "'login' must not be null")]
    [InlineData("[1,2,3]", "must be an object")]
    [InlineData("", "A JSON request body is required")]
    public async Task Malformed_or_mistyped_json_is_a_400_that_names_the_problem(string json, string expected)
    {
        var response = await app.CreateClient().PostAsync("/platform/auth/token", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(expected, body.GetProperty("detail").GetString());
        Assert.DoesNotContain("   at ", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_415()
    {
        var response = await app.CreateClient().PostAsync("/platform/auth/token", new StringContent("login=a", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unsupported_media_type", body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413()
    {
        var huge = "{\"login\":\"" + new string('a', 2 * 1024 * 1024) + "\",\"password\":\"x\"}";

        var response = await app.CreateClient().PostAsync("/platform/auth/token", new StringContent(huge, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("payload_too_large", body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_every_platform_endpoint_with_schemas()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/health", "/platform/auth/token", "/platform/me", "/platform/users", "/platform/api-clients", "/platform/api-clients/{clientId}" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("SignInRequest", out var signIn));
        Assert.True(signIn.GetProperty("properties").TryGetProperty("login", out _));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Bearer", out _));
    }

    [Fact]
    public async Task The_api_reference_page_is_served_at_docs()
    {
        var client = app.CreateClient();

        var response = await client.GetAsync("/docs/v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>The app pointed at a storage account that does not answer.</summary>
public sealed class StorageDownFactory : PlatformFactory
{
    public StorageDownFactory()
    {
        ConnectionString = Azurite.Unreachable();
        WaitForStorage = false;
    }
}

public sealed class StorageUnavailableTests(StorageDownFactory app) : IClassFixture<StorageDownFactory>
{
    [Fact]
    public async Task Health_is_503_with_one_clear_reason_when_storage_is_unreachable()
    {
        var response = await app.CreateClient().GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        Assert.Equal("unreachable", body.GetProperty("storage").GetProperty("tables").GetString());
        Assert.Contains("unreachable", body.GetProperty("storage").GetProperty("problem").GetString());
    }

    [Fact]
    public async Task A_request_that_needs_storage_is_a_503_with_retry_after_not_a_500()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token", new { login = "someone", password = "password" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("storage_unavailable", body.GetProperty("code").GetString());
    }
}
