using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;

namespace Serverless.Platform.Http;

/// <summary>How an error shape's body looks in the OpenAPI document: a component schema and its media type.</summary>
public sealed record ErrorBodySchema(string Name, string MediaType, OpenApiSchema Schema)
{
    /// <summary>An object schema of string fields (and the integer ones named), all required unless listed as optional.</summary>
    public static ErrorBodySchema Object(string name, string description, string[] strings, string[]? integers = null, string[]? optional = null,
        string mediaType = "application/json")
    {
        var properties = new Dictionary<string, IOpenApiSchema>();
        foreach (var field in strings)
            properties[field] = new OpenApiSchema { Type = JsonSchemaType.String };
        foreach (var field in integers ?? [])
            properties[field] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" };
        var required = properties.Keys.Except(optional ?? []).ToHashSet();
        return new ErrorBodySchema(name, mediaType, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = description,
            Properties = properties,
            Required = required,
        });
    }
}

/// <summary>Endpoint metadata: 4xx statuses an endpoint answers beyond those its traits imply, or (<paramref name="Never"/>) never answers.</summary>
public sealed record OpenApiErrorStatuses(int[] Statuses, bool Never = false);

public static class OpenApiErrorStatusExtensions
{
    /// <summary>
    /// Documents error statuses this endpoint answers (409 for a state conflict, 422, 403 for a role check done in the
    /// handler), in its surface's error body. The common ones are documented without this: see <see cref="OpenApiErrorResponses"/>.
    /// </summary>
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiErrorStatuses(statuses));

    /// <summary>Statuses the common rules would document that this endpoint never answers (a token endpoint's 415).</summary>
    public static TBuilder NeverProducesErrors<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiErrorStatuses(statuses, Never: true));
}

/// <summary>
/// Every operation's error answers, in the error body of the surface that serves it (the endpoint's
/// <see cref="IErrorShape"/>, else the one registered for its path, else problem details):
/// <list type="bullet">
/// <item>400 when it takes a body or query or header parameters (malformed JSON, wrong types, a field that fails its check);</item>
/// <item>401 when it needs credentials, and 403 when it also needs a role or policy;</item>
/// <item>404 when its path names something (an id, a code) that may not exist or not be the caller's;</item>
/// <item>409 when it honours Idempotency-Key (the key reused with another request);</item>
/// <item>413 for every operation (a body over the limit is refused before routing reads it, also where none is read);</item>
/// <item>415 when it takes a body (not the content type it reads);</item>
/// <item>429 when it is rate limited; 503 for every operation (storage unreachable, with Retry-After);</item>
/// <item>and the statuses named by <see cref="OpenApiErrorStatusExtensions.ProducesErrors{TBuilder}"/>.</item>
/// </list>
/// A status the endpoint already documents in another body (print's plain-text 400) gets the surface's body beside it;
/// a page's HTML answer is left as it is.
/// </summary>
public sealed class OpenApiErrorResponses : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var route = "/" + (context.Description.RelativePath ?? "").TrimStart('/');
        var shape = metadata.OfType<IErrorShape>().LastOrDefault()
                    ?? context.ApplicationServices.GetService<ErrorShapesByPath>()?.Find(new PathString(route.Split('?')[0]))
                    ?? ProblemDetailsShape.Instance;
        var body = shape.BodySchema;
        var document = context.Document!;
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas.TryAdd(body.Name, body.Schema);

        var statuses = new SortedSet<int>();
        var takesBody = operation.RequestBody is not null;
        var parameters = operation.Parameters ?? [];
        if (takesBody || parameters.Any(p => p.In is ParameterLocation.Query or ParameterLocation.Header))
            statuses.Add(400);
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        if (operation.Security is { Count: > 0 })
        {
            statuses.Add(401);
            if (authorize.Any(a => !string.IsNullOrEmpty(a.Roles) || !string.IsNullOrEmpty(a.Policy))
                || metadata.OfType<AuthorizationPolicy>().Any())
                statuses.Add(403);
        }
        if (route.Contains('{'))
            statuses.Add(404);
        if (metadata.OfType<IdempotentEndpoint>().Any())
            statuses.Add(409);
        // The body limit holds for every request (RequestSizeMiddleware), a body sent to an operation that reads none included.
        statuses.Add(413);
        if (takesBody)
            statuses.Add(415);
        if (metadata.OfType<EnableRateLimitingAttribute>().Any())
            statuses.Add(429);
        foreach (var extra in metadata.OfType<OpenApiErrorStatuses>())
        {
            if (extra.Never)
                statuses.ExceptWith(extra.Statuses);
            else
                statuses.UnionWith(extra.Statuses);
        }
        statuses.Add(503);

        operation.Responses ??= new OpenApiResponses();
        foreach (var status in statuses)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses.TryGetValue(key, out var documented))
            {
                // The endpoint documents this status itself (print's plain-text 400 for a taken username): its errors
                // of the usual kind come in the surface's body too. A page's HTML answer stays the only one.
                if (documented is OpenApiResponse { Content: { } content } && !content.ContainsKey(body.MediaType) && !content.ContainsKey("text/html"))
                    content[body.MediaType] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(body.Name, document) };
                continue;
            }
            var response = new OpenApiResponse
            {
                Description = Meaning(status),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [body.MediaType] = new() { Schema = new OpenApiSchemaReference(body.Name, document) },
                },
            };
            if (status is 429 or 503)
            {
                response.Headers = new Dictionary<string, IOpenApiHeader>
                {
                    ["Retry-After"] = new OpenApiHeader
                    {
                        Description = "Seconds to wait before trying again.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
                    },
                };
            }
            operation.Responses[key] = response;
        }
        return Task.CompletedTask;
    }

    private static string Meaning(int status) => status switch
    {
        400 => "The request is malformed or a field fails its check; the message names the field and the problem.",
        401 => "No credentials, or credentials this surface does not accept (expired, revoked, another surface's token).",
        403 => "The credentials are valid but may not do this (a role it lacks, a missing CSRF token, a disabled account).",
        404 => "Nothing of that id exists that the caller may see (another caller's object is not found, too).",
        409 => "The request conflicts with the current state, or its Idempotency-Key was used before with another request.",
        413 => "The request body is larger than this endpoint accepts.",
        415 => "The request body is not of a content type this endpoint reads.",
        422 => "The request is well formed but cannot be carried out as asked.",
        429 => "Too many requests: wait for Retry-After seconds.",
        503 => "Storage is unreachable for the moment: retry after Retry-After seconds.",
        _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
    };
}
