using System.Text;
using Microsoft.AspNetCore.Http.Metadata;

namespace Serverless.Platform.Hosting;

/// <summary>
/// The served HTTP endpoints as a Markdown page (<c>ENDPOINTS.md</c>): one table per tag, one row per method and
/// route with its summary. Generated from the app's own endpoint table (<c>Functions --write-endpoints FILE</c>), and
/// a test holds the committed page equal to it, so the page always says what is served.
/// </summary>
public static class EndpointCatalog
{
    public const string FileName = "ENDPOINTS.md";

    public static string Markdown(EndpointDataSource endpoints)
    {
        var rows = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HostInternalEndpoint>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(method => (
                Tag: e.Metadata.GetMetadata<ITagsMetadata>()?.Tags.FirstOrDefault() ?? "Other",
                Method: method,
                Route: "/" + (e.RoutePattern.RawText ?? "").Trim('/'),
                Summary: e.Metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary ?? "")))
            .Distinct()
            .OrderBy(r => r.Tag, StringComparer.Ordinal).ThenBy(r => r.Route, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();
        var page = new StringBuilder();
        page.Append("# Endpoints served\n\n")
            .Append("Every HTTP endpoint the app serves, by tag, generated from the app's endpoint table with\n")
            .Append("`dotnet run --project Functions -- --write-endpoints ENDPOINTS.md` (a test fails when this page and the app differ).\n")
            .Append($"{rows.Count} operations.\n");
        foreach (var group in rows.GroupBy(r => r.Tag))
        {
            page.Append($"\n## {group.Key}\n\n| method | route | what |\n|---|---|---|\n");
            foreach (var row in group)
                page.Append($"| {row.Method} | `{row.Route}` | {row.Summary.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        }
        return page.ToString();
    }
}
