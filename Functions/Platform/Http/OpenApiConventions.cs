using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Serverless.Platform.Http;

/// <summary>Document-wide OpenAPI facts: title, and the bearer-token scheme every protected endpoint uses.</summary>
public sealed class OpenApiConventions : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Serverless commerce and payments API",
            Version = "v1",
            Description = "Pre-orders, e-cards, commerce orders, checkout and print-shop APIs on one platform.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A token from the API's sign-in endpoint.",
        };
        return Task.CompletedTask;
    }
}
