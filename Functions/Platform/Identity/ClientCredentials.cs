using System.Text;
using System.Text.Json;
using Serverless.Platform.Http;

namespace Serverless.Platform.Identity;

/// <summary>
/// An OAuth 2.0 client-credentials request (RFC 6749 §4.4) as a token endpoint reads it: form-encoded, with the
/// credentials in the form or in a Basic header (client_secret_basic, §2.3.1), never both. Surfaces that hand out
/// client tokens (e-cards' <c>/connect/token</c>, commerce's <c>/auth/token</c>) share the reading and the errors.
/// </summary>
public sealed record ClientCredentials(string ClientId, string Secret)
{
    /// <summary>The credentials, or the OAuth error to answer (in <see cref="OAuthErrorShape"/>).</summary>
    public static async Task<(ClientCredentials? Credentials, ErrorResult? Error)> ReadAsync(HttpRequest request)
    {
        if (!request.HasFormContentType)
            return (null, Error(400, "invalid_request", "Send client_id, client_secret and grant_type as application/x-www-form-urlencoded."));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException or FormatException)
        {
            return (null, Error(400, "invalid_request", "The form body could not be read."));
        }
        if (Single(form, "grant_type") is not { } grantType)
            return (null, Error(400, "invalid_request", "'grant_type' is required, once."));
        if (grantType != "client_credentials")
            return (null, Error(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported."));
        var basic = BasicCredentials(request);
        if (basic is not null && (form.ContainsKey("client_id") || form.ContainsKey("client_secret")))
            return (null, Error(400, "invalid_request", "Send the client credentials either in the form or in the Authorization header, not both."));
        var (clientId, secret) = basic ?? (Single(form, "client_id"), Single(form, "client_secret"));
        if (clientId is not { Length: > 0 and <= 200 } || secret is not { Length: > 0 and <= 500 })
            return (null, Error(400, "invalid_request", "'client_id' and 'client_secret' are required, once each."));
        return (new ClientCredentials(clientId, secret), null);
    }

    /// <summary>An OAuth error: <paramref name="error"/> is one of RFC 6749 §5.2's codes.</summary>
    public static ErrorResult Error(int status, string error, string description) => ApiErrors.Result(new ApiError(status, error, description));

    /// <summary>The answer to credentials that match no enabled client of the endpoint's kind.</summary>
    public static ErrorResult InvalidClient() => Error(401, "invalid_client", "Unknown client or wrong secret.");

    private static (string? Id, string? Secret)? BasicCredentials(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon <= 0 ? (null, null) : (Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')));
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

    private static string? Single(IFormCollection form, string name) =>
        form.TryGetValue(name, out var values) && values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
}

/// <summary>The OAuth 2.0 error body, as the OpenAPI document shows it.</summary>
public sealed record OAuthErrorBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
    [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string ErrorDescription);

/// <summary>Endpoint metadata of a token endpoint that reads a client-credentials form.</summary>
public sealed class ClientCredentialsBody
{
    public static readonly ClientCredentialsBody Instance = new();
}

public static class ClientCredentialsEndpoints
{
    /// <summary>
    /// Documents a token endpoint: a form body (<c>grant_type=client_credentials</c>, the credentials in it or in a
    /// Basic header) and OAuth errors (400 invalid_request / unsupported_grant_type, 401 invalid_client). Metadata
    /// only: the endpoint itself answers any other content type with its own OAuth error, not a 415.
    /// </summary>
    public static RouteHandlerBuilder AcceptsClientCredentials(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(ClientCredentialsBody.Instance).NeverProducesErrors(StatusCodes.Status415UnsupportedMediaType)
            .Produces<OAuthErrorBody>(StatusCodes.Status400BadRequest).Produces<OAuthErrorBody>(StatusCodes.Status401Unauthorized);
}

/// <summary>The form body of client-credentials token endpoints, in the OpenAPI document.</summary>
public sealed class OpenApiClientCredentialsForm : Microsoft.AspNetCore.OpenApi.IOpenApiOperationTransformer
{
    public Task TransformAsync(Microsoft.OpenApi.OpenApiOperation operation, Microsoft.AspNetCore.OpenApi.OpenApiOperationTransformerContext context,
        CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<ClientCredentialsBody>().Any())
            return Task.CompletedTask;
        static Microsoft.OpenApi.OpenApiSchema Text(string description) =>
            new() { Type = Microsoft.OpenApi.JsonSchemaType.String, Description = description };
        operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
        {
            Required = true,
            Description = "OAuth 2.0 client credentials (RFC 6749 §4.4); client_id and client_secret may come in a Basic header instead.",
            Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
            {
                ["application/x-www-form-urlencoded"] = new()
                {
                    Schema = new Microsoft.OpenApi.OpenApiSchema
                    {
                        Type = Microsoft.OpenApi.JsonSchemaType.Object,
                        Required = new HashSet<string> { "grant_type" },
                        Properties = new Dictionary<string, Microsoft.OpenApi.IOpenApiSchema>
                        {
                            ["grant_type"] = new Microsoft.OpenApi.OpenApiSchema
                            {
                                Type = Microsoft.OpenApi.JsonSchemaType.String,
                                Enum = [System.Text.Json.Nodes.JsonValue.Create("client_credentials")],
                            },
                            ["client_id"] = Text("The client id (or in the Basic header)."),
                            ["client_secret"] = Text("The client secret (or in the Basic header)."),
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}

/// <summary>OAuth 2.0 error body (RFC 6749 §5.2): <c>{"error": code, "error_description": text}</c>.</summary>
public sealed class OAuthErrorShape : IErrorShape
{
    public static readonly OAuthErrorShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = ErrorBodySchema.Object("OAuthError",
        "An OAuth 2.0 error (RFC 6749 §5.2): one of its codes, and a description.", ["error", "error_description"]);

    private static readonly HashSet<string> OAuthCodes =
        ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"];

    public Task WriteAsync(HttpContext context, ApiError error)
    {
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(new { error = OAuthCode(error), error_description = error.Message }, (JsonSerializerOptions?)null,
            "application/json", context.RequestAborted);
    }

    /// <summary>
    /// RFC 6749 §5.2's codes only, so a standard OAuth client understands every answer: the platform's own errors
    /// (a 429 from a rate limit, a 415, a 413) become <c>invalid_request</c>, with the reason and wait in the description
    /// and the wait in <c>Retry-After</c>; a 5xx becomes <c>server_error</c> or <c>temporarily_unavailable</c>.
    /// </summary>
    private static string OAuthCode(ApiError error) => error switch
    {
        { Code: var code } when OAuthCodes.Contains(code) => code,
        { Status: 503 } => "temporarily_unavailable",
        { Status: >= 500 } => "server_error",
        _ => "invalid_request",
    };
}
