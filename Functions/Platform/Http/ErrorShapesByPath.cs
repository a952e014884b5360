using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Serverless.Platform.Http;

/// <summary>A surface's claim on a path prefix: requests under it that no endpoint matched get its error shape.</summary>
public sealed record ErrorShapePrefix(string Prefix, IErrorShape Shape);

/// <summary>
/// The error shape of a path no endpoint matched (an unknown route, or a known route with a method it does not take):
/// the shape of the longest registered prefix that covers the path segment by segment, so <c>/admin/companies/7/x</c>
/// goes to <c>/admin/companies</c> (commerce) before <c>/admin</c> (print), and <c>/pluginsx</c> to neither.
/// </summary>
public sealed class ErrorShapesByPath
{
    private readonly ErrorShapePrefix[] _prefixes;

    public ErrorShapesByPath(IEnumerable<ErrorShapePrefix> prefixes)
    {
        _prefixes = prefixes.OrderByDescending(p => p.Prefix.Length).ToArray();
        var clash = _prefixes.GroupBy(p => p.Prefix, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Select(p => p.Shape).Distinct().Count() > 1);
        if (clash is not null)
            throw new InvalidOperationException($"Two surfaces registered different error shapes for the path prefix '{clash.Key}'.");
    }

    public IReadOnlyList<ErrorShapePrefix> Prefixes => _prefixes;

    public IErrorShape? Find(PathString path)
    {
        var value = path.Value ?? "";
        foreach (var (prefix, shape) in _prefixes)
        {
            if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && (value.Length == prefix.Length || value[prefix.Length] == '/'))
                return shape;
        }
        return null;
    }

    internal static string Normalize(string prefix)
    {
        var trimmed = "/" + prefix.Trim('/');
        if (trimmed == "/" || trimmed.Contains('{'))
            throw new ArgumentException($"An error shape prefix is one or more literal path segments, such as /plugins; '{prefix}' is not.", nameof(prefix));
        return trimmed;
    }
}

public static class ErrorShapesByPathRegistration
{
    /// <summary>
    /// Requests under <paramref name="prefix"/> (literal segments, e.g. <c>/plugins</c>) that match no endpoint, such as
    /// an unknown path (404) or a wrong method (405), are answered in <paramref name="shape"/>.
    /// </summary>
    public static IServiceCollection AddErrorShapeForPrefix(this IServiceCollection services, string prefix, IErrorShape shape)
    {
        services.AddSingleton(new ErrorShapePrefix(ErrorShapesByPath.Normalize(prefix), shape));
        services.TryAddSingleton<ErrorShapesByPath>();
        return services;
    }

    /// <summary><see cref="AddErrorShapeForPrefix"/> for each of <paramref name="prefixes"/>.</summary>
    public static IServiceCollection AddErrorShapeForPrefixes(this IServiceCollection services, IErrorShape shape, params string[] prefixes)
    {
        foreach (var prefix in prefixes)
            services.AddErrorShapeForPrefix(prefix, shape);
        return services;
    }
}
