using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Serverless.Platform.Http;

/// <summary>Finds the .NET type a JSON path (<c>$.customer.items[0].id</c>) lands on in a request type.</summary>
internal static partial class JsonPaths
{
    public static Type? TypeAt(Type? root, string? path)
    {
        if (root is null)
            return null;
        if (string.IsNullOrEmpty(path) || path == "$")
            return root;
        var type = root;
        foreach (Match segment in Segment().Matches(path))
        {
            if (type is null)
                return null;
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type);
                continue;
            }
            var name = segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value;
            type = PropertyType(type, name);
        }
        return type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
    }

    private static Type? PropertyType(Type type, string jsonName)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var declared = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
                           ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (string.Equals(declared, jsonName, StringComparison.OrdinalIgnoreCase))
                return property.PropertyType;
        }
        return null;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
            return type.GetElementType();
        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>[^']+)'\]|\[(?<index>\d+)\]")]
    private static partial Regex Segment();
}
