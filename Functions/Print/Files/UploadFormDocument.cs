using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Serverless.Print.Files;

/// <summary>The OpenAPI description of the upload form (<c>POST /upload</c>, <c>POST /calculate-cost</c>): its fields and their limits.</summary>
public static class UploadFormDocument
{
    public static TBuilder DocumentUploadForm<TBuilder>(this TBuilder builder, bool upload, FileSettings settings) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var file = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            var properties = new Dictionary<string, IOpenApiSchema>
            {
                ["files[]"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array, Items = file, MaxItems = settings.MaxFilesPerUpload,
                    Description = $"The files: PDF, PNG, JPG/JPEG, DOC, DOCX, PPT, PPTX; at most {settings.MaxFileBytes / (1024 * 1024)} MB each and " +
                                  $"{settings.MaxBatchBytes / (1024 * 1024)} MB in all; the content must match the extension.",
                },
                ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "One file, instead of files[]." },
                ["copies"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "100", Default = JsonValue.Create(1) },
                ["print_mode"] = Choice("single", "single", "double"),
                ["color_mode"] = Choice("bw", "bw", "color"),
                ["paper_size"] = Choice("A4", "A4", "A3", "A5", "Letter", "Legal"),
            };
            if (upload)
            {
                properties["print_type"] = Choice(null, "private", "queue");
                properties["shop_id"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "The shop (required for queue prints)." };
                // Trimmed before its length is checked, so the limit is said in words rather than as a maxLength padding would break.
                properties["comment"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String, Description = "A note for the shop: at most 500 characters once surrounding spaces are trimmed.",
                };
                properties["payment_order_id"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String, Description = "The paid payment order to use (its id or order_id); else the newest paid, unused one that covers the cost.",
                };
            }
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object, Properties = properties,
                            Required = upload ? new HashSet<string> { "print_type" } : new HashSet<string>(),
                        },
                    },
                },
            };
            return Task.CompletedTask;
        });

    private static OpenApiSchema Choice(string? fallback, params string[] values) => new()
    {
        Type = JsonSchemaType.String, Enum = values.Select(v => (JsonNode)JsonValue.Create(v)!).ToList(),
        Default = fallback is null ? null : JsonValue.Create(fallback),
    };
}
