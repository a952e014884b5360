namespace Serverless.Platform.Storage;

/// <summary>
/// Every table, queue and blob container the app uses, declared by the code that uses it. They are created once
/// when the app starts (and again if the account turns out to have lost them), never on a request's path.
/// </summary>
public sealed class StorageCatalog
{
    private readonly HashSet<string> _tables = new(StringComparer.Ordinal);
    private readonly HashSet<string> _queues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _containers = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Tables => _tables;

    public IReadOnlyCollection<string> Queues => _queues;

    public IReadOnlyCollection<string> Containers => _containers;

    public StorageCatalog Table(string name) { _tables.Add(Check(name)); return this; }

    /// <summary>A queue, and its <c>-poison</c> companion where failed messages end up.</summary>
    public StorageCatalog Queue(string name) { _queues.Add(Check(name)); _queues.Add(Check(name) + "-poison"); return this; }

    public StorageCatalog Container(string name) { _containers.Add(Check(name)); return this; }

    private static string Check(string name)
    {
        if (name.Length is < 3 or > 40 || !char.IsAsciiLetterLower(name[0])
            || name.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
            throw new ArgumentException($"Storage name '{name}' must be 3-40 lowercase letters, digits or dashes, starting with a letter.");
        return name;
    }
}

public static class StorageCatalogExtensions
{
    public static IServiceCollection AddStorage(this IServiceCollection services, Action<StorageCatalog> declare)
    {
        var catalog = services.Where(d => d.ServiceType == typeof(StorageCatalog)).Select(d => d.ImplementationInstance)
            .OfType<StorageCatalog>().FirstOrDefault();
        if (catalog is null)
        {
            catalog = new StorageCatalog();
            services.AddSingleton(catalog);
        }
        declare(catalog);
        return services;
    }
}
