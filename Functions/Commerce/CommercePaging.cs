using System.Globalization;
using System.Text.Json.Serialization;
using Serverless.Platform.Http;

namespace Serverless.Commerce;

/// <summary>The document's page metadata.</summary>
public sealed record PageMeta(
    [property: JsonPropertyName("itemCount")] int ItemCount,
    [property: JsonPropertyName("totalItems")] int TotalItems,
    [property: JsonPropertyName("itemsPerPage")] int ItemsPerPage,
    [property: JsonPropertyName("totalPages")] int TotalPages,
    [property: JsonPropertyName("currentPage")] int CurrentPage);

/// <summary>Links to the first, previous, next and last pages, with the request's other query parameters (empty where there is none).</summary>
public sealed record PageLinks(
    [property: JsonPropertyName("first")] string First,
    [property: JsonPropertyName("prev")] string Prev,
    [property: JsonPropertyName("next")] string Next,
    [property: JsonPropertyName("last")] string Last);

/// <summary>A page of a commerce list: <c>{items, meta, links}</c>.</summary>
public sealed record Page<T>(
    [property: JsonPropertyName("items")] IReadOnlyList<T> Items,
    [property: JsonPropertyName("meta")] PageMeta Meta,
    [property: JsonPropertyName("links")] PageLinks Links);

/// <summary>Reads <c>page</c> and <c>limit</c> and cuts a page out of a sorted list.</summary>
public static class CommercePaging
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;

    /// <summary>The page and limit of a request (1 and 10 when absent), or the 400 that names the bad one.</summary>
    public static (int Page, int Limit, ApiError? Problem) Read(HttpRequest request)
    {
        var page = 1;
        var limit = DefaultLimit;
        if (request.Query["page"] is { Count: > 0 } p && (!int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1))
            return (0, 0, ApiError.BadRequest("page must be a whole number of at least 1."));
        if (request.Query["limit"] is { Count: > 0 } l
            && (!int.TryParse(l[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
            return (0, 0, ApiError.BadRequest($"limit must be a whole number from 1 to {MaxLimit}."));
        return (page, limit, null);
    }

    /// <summary>The page <paramref name="page"/> of a sorted list.</summary>
    public static Page<T> Cut<T>(IReadOnlyList<T> all, int page, int limit, HttpRequest request) =>
        Of(all.Skip((int)Math.Min((long)(page - 1) * limit, int.MaxValue)).Take(limit).ToList(), all.Count, page, limit, request);

    /// <summary>
    /// A page already cut (<paramref name="items"/> of <paramref name="totalItems"/>), with links to the same path and
    /// query on the first, previous, next and last pages (a previous or next page that does not exist is empty).
    /// </summary>
    public static Page<T> Of<T>(IReadOnlyList<T> items, int totalItems, int page, int limit, HttpRequest request)
    {
        var totalPages = (totalItems + limit - 1) / limit;
        string Link(int n) => LinkTo(request, n, limit);
        return new Page<T>(items, new PageMeta(items.Count, totalItems, limit, totalPages, page),
            new PageLinks(Link(1), page > 1 ? Link(page - 1) : "", page < totalPages ? Link(page + 1) : "", Link(Math.Max(totalPages, 1))));
    }

    private static string LinkTo(HttpRequest request, int page, int limit)
    {
        var query = request.Query.Where(q => q.Key is not ("page" or "limit"))
            .SelectMany(q => q.Value.Select(v => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(v ?? "")))
            .Append("page=" + page.ToString(CultureInfo.InvariantCulture))
            .Append("limit=" + limit.ToString(CultureInfo.InvariantCulture));
        return request.PathBase + request.Path + "?" + string.Join('&', query);
    }
}
