using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Serverless.Platform.Http;

/// <summary>
/// A query parameter a handler reads from the request itself (not bound as a parameter), as the OpenAPI document shows
/// it: its type, and the values or range it takes, which must be what the handler accepts.
/// </summary>
public sealed record OpenApiQueryParameter(string Name, string Description, JsonSchemaType Type = JsonSchemaType.String,
    string? Pattern = null, long? Minimum = null, long? Maximum = null, string? Format = null);

public static class OpenApiQueryExtensions
{
    /// <summary>Documents query parameters the handler reads from <c>HttpRequest.Query</c> itself.</summary>
    public static TBuilder DocumentsQuery<TBuilder>(this TBuilder builder, params OpenApiQueryParameter[] parameters)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiQueryParameters(parameters));

    /// <summary>
    /// The body is required although the handler's parameter is nullable (it answers its own 400 naming the missing
    /// field rather than the framework's): the document says required.
    /// </summary>
    public static TBuilder RequiresBody<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(OpenApiBodyRequired.Instance);
}

/// <summary>Endpoint metadata of <see cref="OpenApiQueryExtensions.RequiresBody{TBuilder}"/>.</summary>
public sealed class OpenApiBodyRequired
{
    public static readonly OpenApiBodyRequired Instance = new();
}

/// <summary>Endpoint metadata: the query parameters of <see cref="OpenApiQueryExtensions.DocumentsQuery{TBuilder}"/>.</summary>
public sealed record OpenApiQueryParameters(IReadOnlyList<OpenApiQueryParameter> Parameters);

/// <summary>
/// Adds each operation's <see cref="OpenApiQueryParameters"/> (a name it already documents is left as it is), and marks
/// its body required for <see cref="OpenApiBodyRequired"/>.
/// </summary>
public sealed class OpenApiQueryParameterDocuments : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.RequestBody is OpenApiRequestBody body && context.Description.ActionDescriptor.EndpointMetadata.OfType<OpenApiBodyRequired>().Any())
            body.Required = true;
        foreach (var parameter in context.Description.ActionDescriptor.EndpointMetadata.OfType<OpenApiQueryParameters>().SelectMany(p => p.Parameters))
        {
            operation.Parameters ??= [];
            if (operation.Parameters.Any(p => p.In == ParameterLocation.Query && p.Name == parameter.Name))
                continue;
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameter.Name,
                In = ParameterLocation.Query,
                Required = false,
                Description = parameter.Description,
                Schema = new OpenApiSchema
                {
                    Type = parameter.Type,
                    Pattern = parameter.Pattern,
                    Format = parameter.Format,
                    Minimum = parameter.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Maximum = parameter.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            });
        }
        return Task.CompletedTask;
    }
}
