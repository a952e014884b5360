using System.Text.Json;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace Serverless.Platform.Hosting;

/// <summary>
/// Reads the <c>Values</c> of local.settings.json when the app runs standalone, the way the Functions host exposes
/// them as environment variables: <c>A__B</c> becomes the configuration key <c>A:B</c>. Real environment variables
/// still win, as they do under the host.
/// </summary>
public static class LocalSettings
{
    public const string FileName = "local.settings.json";

    public static void AddLocalSettings(this ConfigurationManager configuration, string contentRoot)
    {
        // `dotnet run --project Functions` starts in the project folder; the file lives at the repository root.
        var path = configuration["LOCAL_SETTINGS_PATH"]
                   ?? new[] { contentRoot, Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(contentRoot)) }
                       .Where(d => d is not null).Select(d => Path.Combine(d!, FileName)).FirstOrDefault(File.Exists);
        if (path is null || !File.Exists(path))
            return;

        var values = Read(path);
        var source = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = values };
        var sources = configuration.Sources;
        var firstEnvironment = sources.ToList().FindIndex(s => s is EnvironmentVariablesConfigurationSource);
        if (firstEnvironment < 0)
            sources.Add(source);
        else
            sources.Insert(firstEnvironment, source);
    }

    internal static Dictionary<string, string?> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream, new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        });
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (document.RootElement.TryGetProperty("Values", out var section) && section.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in section.EnumerateObject())
            {
                var key = property.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
                values[key] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.Null => null,
                    _ => property.Value.GetRawText(),
                };
            }
        }
        return values;
    }
}
