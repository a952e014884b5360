using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class OpenApiDocumentTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    private async Task<JsonElement> DocumentAsync() => await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

    [Fact]
    public async Task Two_surfaces_types_of_one_name_are_two_schemas_each_with_its_own_shape()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");
        Assert.False(schemas.TryGetProperty("LoginResponse", out _));
        Assert.False(schemas.TryGetProperty("LoginRequest", out _));
        string[] Properties(string schema) => schemas.GetProperty(schema).GetProperty("properties").EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(["expires_in", "token"], Properties("PreOrdersLoginResponse"));
        Assert.Equal(["role", "token", "username"], Properties("PrintLoginResponse"));
        Assert.Contains("username", Properties("PreOrdersLoginRequest"));
        Assert.Contains("username", Properties("PrintLoginRequest"));
    }

    [Fact]
    public async Task Operations_that_take_a_bearer_token_say_so_and_anonymous_ones_do_not()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");
        string[] Security(string path, string method) => paths.GetProperty(path).GetProperty(method).TryGetProperty("security", out var security)
            ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToArray()
            : [];
        Assert.Equal(["Bearer"], Security("/platform/me", "get"));
        Assert.Equal(["Bearer"], Security("/api/pre-orders", "post"));
        Assert.Empty(Security("/platform/auth/token", "post"));
        Assert.Empty(Security("/health", "get"));
        // Print's signed-in endpoints take the bearer token or the sign-in cookie (with CSRF on writes).
        Assert.Equal(["Bearer", "PrintCookie"], Security("/profile", "get"));
        Assert.Equal(["Bearer", "PrintCookie"], Security("/wallet/withdraw", "post"));
        var document = await DocumentAsync();
        var cookie = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("PrintCookie");
        Assert.Equal("cookie", cookie.GetProperty("in").GetString());
        Assert.Contains("X-CSRF-Token", cookie.GetProperty("description").GetString());
        // An anonymous operation says so with an empty list, rather than leaving its security unsaid.
        Assert.Equal(0, paths.GetProperty("/health").GetProperty("get").GetProperty("security").GetArrayLength());
    }

    [Fact]
    public async Task Every_operation_has_a_summary()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");
        var missing = paths.EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Name: $"{op.Name.ToUpperInvariant()} {path.Name}", Op: op.Value)))
            .Where(o => !o.Op.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString()))
            .Select(o => o.Name)
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public async Task Every_operation_has_a_description()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");
        var missing = paths.EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Name: $"{op.Name.ToUpperInvariant()} {path.Name}", Op: op.Value)))
            .Where(o => !o.Op.TryGetProperty("description", out var description) || string.IsNullOrWhiteSpace(description.GetString()))
            .Select(o => o.Name)
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public async Task Every_operation_documents_its_errors_in_its_surfaces_error_body()
    {
        var document = await DocumentAsync();
        var paths = document.GetProperty("paths");
        string? Body(string path, string method, string status, string media = "application/json") =>
            paths.GetProperty(path).GetProperty(method).GetProperty("responses").TryGetProperty(status, out var response)
            && response.TryGetProperty("content", out var content) && content.TryGetProperty(media, out var type)
                ? type.GetProperty("schema").GetProperty("$ref").GetString()
                : null;
        // The checkout's create: a body (400, 413, 415), an API key (401), an idempotent-by-id claim (409), storage (503).
        foreach (var status in new[] { "400", "401", "409", "413", "415", "503" })
            Assert.Equal("#/components/schemas/CheckoutError", Body("/plugins/orders/checkout", "post", status));
        Assert.Equal("#/components/schemas/PreOrderError", Body("/api/pre-orders/{id}", "get", "404"));
        Assert.Equal("#/components/schemas/ECardError", Body("/v1/orders", "post", "402"));
        Assert.Equal("#/components/schemas/CommerceError", Body("/admin/companies/{companyId}/products", "get", "403"));
        Assert.Equal("#/components/schemas/ProblemDetails", Body("/platform/me", "get", "401", "application/problem+json"));
        // Print's taken-username answer is plain text; its other 400s are its JSON error.
        Assert.Equal("#/components/schemas/PrintError", Body("/register", "post", "400"));
        Assert.True(paths.GetProperty("/register").GetProperty("post").GetProperty("responses").GetProperty("400").GetProperty("content").TryGetProperty("text/plain", out _));
        // A page's not-found is its HTML page, not JSON.
        Assert.Null(Body("/pay/{id}", "get", "404"));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal(["code", "message"], schemas.GetProperty("PreOrderError").GetProperty("properties").GetProperty("error").GetProperty("required")
            .EnumerateArray().Select(r => r.GetString()).Order());
        // Every tag says what it is.
        Assert.All(document.GetProperty("tags").EnumerateArray(), tag => Assert.False(string.IsNullOrWhiteSpace(tag.GetProperty("description").GetString())));
    }

    [Fact]
    public async Task Request_fields_the_handler_requires_or_limits_say_so()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");
        var order = schemas.GetProperty("CreateCheckoutOrderRequest");
        Assert.Contains("ecommerceType", order.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var type = order.GetProperty("properties").GetProperty("ecommerceType");
        Assert.Equal(["api", "wordpress"], type.GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        // Required: present and not null, so null is not among its types.
        Assert.Equal("string", type.GetProperty("type").GetString());
        Assert.Equal(100, order.GetProperty("properties").GetProperty("ecommerceOrderId").GetProperty("maxLength").GetInt32());
        // On a list, the allowed values are its items'.
        var roles = schemas.GetProperty("CreateCommerceUserRequest").GetProperty("properties").GetProperty("roles");
        Assert.Equal(["companyAdmin", "superAdmin", "user"], roles.GetProperty("items").GetProperty("enum").EnumerateArray().Select(v => v.GetString()).Order());
        // Query parameters a handler reads itself, and a body its handler requires though its parameter is nullable.
        var paths = (await DocumentAsync()).GetProperty("paths");
        var list = paths.GetProperty("/companies/{companyId}/orders").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));
        Assert.Equal(100, list["limit"].GetProperty("maximum").GetInt32());
        Assert.Contains("totalAmount", list["sortBy"].GetProperty("pattern").GetString());
        Assert.True(paths.GetProperty("/admin/users/delete").GetProperty("post").GetProperty("requestBody").GetProperty("required").GetBoolean());
    }

    [Fact]
    public async Task The_api_reference_titles_operations_by_summary_offers_every_scheme_and_shows_no_vendor_buttons()
    {
        var page = await app.CreateClient().GetStringAsync("/docs/");
        Assert.Contains("\"operationTitleSource\":\"summary\"", page);
        Assert.Contains("\"hideClientButton\":true", page);
        Assert.Contains("\"showDeveloperTools\":\"never\"", page);
        Assert.Contains("\"agent\":{\"disabled\":true", page);
        Assert.Contains("\"mcp\":{\"disabled\":true", page);
        Assert.Contains("StoreApiKey", page);
        Assert.Contains("\"preferredSecurityScheme\":[\"Bearer\"]", page);
    }

    [Fact]
    public async Task Fields_left_out_when_null_are_not_required_and_idempotent_operations_document_their_header()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");
        string[] Required(string schema) => schemas.GetProperty(schema).TryGetProperty("required", out var required)
            ? required.EnumerateArray().Select(r => r.GetString()!).ToArray()
            : [];
        Assert.DoesNotContain("payment_details", Required("PreOrderResponse"));
        Assert.Contains("id", Required("PreOrderResponse"));
        Assert.DoesNotContain("referral_code", Required("ProfileResponse"));

        var create = document.GetProperty("paths").GetProperty("/api/pre-orders").GetProperty("post");
        Assert.Contains(create.GetProperty("parameters").EnumerateArray(),
            p => p.GetProperty("name").GetString() == "Idempotency-Key" && p.GetProperty("in").GetString() == "header");
        var list = document.GetProperty("paths").GetProperty("/api/pre-orders").GetProperty("get");
        Assert.False(list.TryGetProperty("parameters", out var parameters)
                     && parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == "Idempotency-Key"));
    }

    [Fact]
    public async Task Token_endpoints_document_their_form_and_oauth_errors_and_pages_their_html()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");
        foreach (var path in new[] { "/connect/token", "/auth/token" })
        {
            var token = paths.GetProperty(path).GetProperty("post");
            var form = token.GetProperty("requestBody").GetProperty("content").GetProperty("application/x-www-form-urlencoded");
            Assert.True(form.TryGetProperty("schema", out _));
            Assert.True(token.GetProperty("responses").TryGetProperty("400", out _));
            Assert.True(token.GetProperty("responses").TryGetProperty("401", out _));
        }
        foreach (var page in new[] { "/pay/{id}", "/checkout/{sessionToken}", "/delete-data" })
            Assert.True(paths.GetProperty(page).GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/html", out _), page);
    }
}
