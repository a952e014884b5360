using System.Text.Json.Serialization;
using Serverless.Platform.Http;

namespace Serverless.Platform.Email;

/// <summary>
/// An email a surface wants sent: one or more recipients, a subject, an HTML and/or a plain-text body, and
/// optionally a reply-to address and tags (name/value pairs that come back in the provider's events).
/// </summary>
public sealed record EmailMessage(
    [property: JsonPropertyName("to")] IReadOnlyList<string> To,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("html")] string? Html = null,
    [property: JsonPropertyName("text")] string? Text = null,
    [property: JsonPropertyName("reply_to")] string? ReplyTo = null,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string>? Tags = null)
{
    /// <summary>Resend accepts at most 50 recipients per email.</summary>
    public const int MaxRecipients = 50;

    public const int MaxSubjectLength = 998;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first thing wrong, so nothing bad is ever stored.</summary>
    public void Validate()
    {
        if (To is null || To.Count is 0 or > MaxRecipients)
            throw new ArgumentException($"An email needs 1 to {MaxRecipients} recipients.", nameof(To));
        foreach (var address in To)
        {
            if (address is null || !Check.IsEmail(address))
                throw new ArgumentException($"'{address}' is not a valid email address.", nameof(To));
        }
        if (ReplyTo is not null && !Check.IsEmail(ReplyTo))
            throw new ArgumentException($"Reply-to '{ReplyTo}' is not a valid email address.", nameof(ReplyTo));
        if (string.IsNullOrWhiteSpace(Subject) || Subject.Length > MaxSubjectLength)
            throw new ArgumentException($"An email needs a subject of 1 to {MaxSubjectLength} characters.", nameof(Subject));
        // A line break in a header is how header injection starts; a subject never needs one.
        if (Subject.Any(char.IsControl))
            throw new ArgumentException("The subject may not contain line breaks or control characters.", nameof(Subject));
        if (string.IsNullOrEmpty(Html) && string.IsNullOrEmpty(Text))
            throw new ArgumentException("An email needs an HTML or a text body.", nameof(Html));
        foreach (var (name, value) in Tags ?? new Dictionary<string, string>())
        {
            // Resend's rule for tags: ASCII letters, digits, underscores and dashes, at most 256 characters.
            if (!IsTagPart(name) || !IsTagPart(value))
                throw new ArgumentException($"Tag '{name}' must have a name and value of 1 to 256 ASCII letters, digits, '_' or '-'.", nameof(Tags));
        }
    }

    private static bool IsTagPart(string? value) =>
        value is { Length: > 0 and <= 256 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
