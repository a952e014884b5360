using System.Text.Json.Nodes;

namespace Serverless.Tests.Fuzz;

/// <summary>A parameter of an operation as the document states it.</summary>
public sealed record FuzzParameter(string Name, string In, bool Required, JsonNode? Schema);

/// <summary>One documented operation: what the fuzzer needs to build requests for it.</summary>
public sealed record FuzzOperation(string Method, string Path, string Tag, IReadOnlyList<FuzzParameter> Parameters,
    string? BodyMediaType, JsonNode? BodySchema, bool BodyRequired, IReadOnlyList<string> OtherMethods)
{
    public string Name => $"{Method} {Path}";

    public override string ToString() => Name;
}

/// <summary>The served OpenAPI document, read into operations, with <c>$ref</c>s to component schemas resolved on demand.</summary>
public sealed class FuzzDocument
{
    private readonly JsonObject _schemas;

    public IReadOnlyList<FuzzOperation> Operations { get; }

    public FuzzDocument(string text)
    {
        var document = JsonNode.Parse(text)!.AsObject();
        _schemas = document["components"]?["schemas"]?.AsObject() ?? new JsonObject();
        var operations = new List<FuzzOperation>();
        string[] verbs = ["get", "put", "post", "delete", "patch"];
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            var methods = item!.AsObject().Select(p => p.Key).Where(verbs.Contains).ToList();
            foreach (var method in methods)
            {
                var op = item[method]!;
                var parameters = new List<FuzzParameter>();
                foreach (var parameter in (op["parameters"]?.AsArray() ?? []).Concat(item["parameters"]?.AsArray() ?? []))
                {
                    var p = Resolve(parameter)!;
                    parameters.Add(new FuzzParameter(p["name"]!.GetValue<string>(), p["in"]!.GetValue<string>(),
                        p["required"]?.GetValue<bool>() ?? false, p["schema"]));
                }
                string? media = null;
                JsonNode? body = null;
                var required = false;
                if (op["requestBody"] is { } requestBody)
                {
                    var content = requestBody["content"]!.AsObject();
                    var chosen = content.FirstOrDefault(c => c.Key.Contains("json", StringComparison.OrdinalIgnoreCase));
                    if (chosen.Key is null)
                        chosen = content.First();
                    media = chosen.Key;
                    body = chosen.Value?["schema"];
                    required = requestBody["required"]?.GetValue<bool>() ?? false;
                }
                var tag = op["tags"]?.AsArray().FirstOrDefault()?.GetValue<string>() ?? "";
                operations.Add(new FuzzOperation(method.ToUpperInvariant(), path, tag, parameters, media, body, required,
                    verbs.Except(methods).Select(v => v.ToUpperInvariant()).ToList()));
            }
        }
        Operations = operations;
    }

    /// <summary>The schema a <c>$ref</c> names (components only), or the node itself.</summary>
    public JsonNode? Resolve(JsonNode? node)
    {
        for (var hops = 0; hops < 16 && node?["$ref"] is JsonValue reference; hops++)
        {
            var name = reference.GetValue<string>();
            node = name.StartsWith("#/components/schemas/", StringComparison.Ordinal) ? _schemas[name["#/components/schemas/".Length..]] : null;
        }
        return node;
    }
}
