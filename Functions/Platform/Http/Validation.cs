using System.Net.Mail;
using System.Text.RegularExpressions;

namespace Serverless.Platform.Http;

/// <summary>
/// Field checks that return the 400 to send, or null when the value is fine. Chain them with <c>??</c>:
/// <code>var problem = Check.Required(body.Email, "email", 254) ?? Check.Email(body.Email, "email");</code>
/// </summary>
public static partial class Check
{
    public static ErrorResult? Required(string? value, string field, int maxLength = 1000)
    {
        if (string.IsNullOrWhiteSpace(value))
            return ApiErrors.BadRequest($"'{field}' is required.", "validation_error");
        return value.Length > maxLength
            ? ApiErrors.BadRequest($"'{field}' must be at most {maxLength} characters.", "validation_error")
            : null;
    }

    public static ErrorResult? Length(string? value, string field, int min, int max) =>
        value is null || value.Length < min || value.Length > max
            ? ApiErrors.BadRequest($"'{field}' must be {min} to {max} characters.", "validation_error")
            : null;

    public static ErrorResult? Email(string? value, string field)
    {
        if (value is null)
            return null;
        return IsEmail(value) ? null : ApiErrors.BadRequest($"'{field}' must be a valid email address.", "validation_error");
    }

    /// <summary>
    /// A phone number: 7 to 15 digits, with an optional leading '+', spaces, brackets and dashes. The message shows
    /// <paramref name="example"/>, the shape the surface documents ("79251153242", "+1234567890").
    /// </summary>
    public static ErrorResult? Phone(string? value, string field, string example)
    {
        if (value is null)
            return null;
        return value.Count(char.IsAsciiDigit) is >= 7 and <= 15 && PhonePattern().IsMatch(value.Trim())
            ? null
            : ApiErrors.BadRequest($"'{field}' must be a phone number such as {example}.", "validation_error");
    }

    public static ErrorResult? OneOf(string? value, string field, IReadOnlySet<string> allowed) =>
        value is not null && allowed.Contains(value)
            ? null
            : ApiErrors.BadRequest($"'{field}' must be one of: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.", "validation_error");

    public static ErrorResult? Range(long value, string field, long min, long max) =>
        value < min || value > max ? ApiErrors.BadRequest($"'{field}' must be between {min} and {max}.", "validation_error") : null;

    public static bool IsEmail(string value)
    {
        value = value.Trim();
        if (value.Length is < 3 or > 254 || value.Any(char.IsWhiteSpace) || value.Count(c => c == '@') != 1)
            return false;
        var at = value.IndexOf('@');
        var domain = value[(at + 1)..];
        if (at == 0 || !domain.Contains('.') || domain.StartsWith('.') || domain.EndsWith('.'))
            return false;
        return MailAddress.TryCreate(value, out var parsed) && parsed.Address == value;
    }

    [GeneratedRegex(@"^\+?[0-9][0-9 ()\-]{5,24}$")]
    private static partial Regex PhonePattern();
}
