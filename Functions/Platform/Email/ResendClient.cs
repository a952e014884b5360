using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Serverless.Platform.Http;

namespace Serverless.Platform.Email;

/// <summary>The body of Resend's <c>POST /emails</c>.</summary>
public sealed record ResendEmailRequest(
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("to")] IReadOnlyList<string> To,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("html"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Html,
    [property: JsonPropertyName("text"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text,
    [property: JsonPropertyName("reply_to"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReplyTo,
    [property: JsonPropertyName("tags"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ResendTag>? Tags);

public sealed record ResendTag([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("value")] string Value);

/// <summary>What became of one call to Resend, in the terms the sender acts on.</summary>
public sealed record ResendOutcome(ResendOutcomeKind Kind, string? ProviderId = null, TimeSpan? RetryAfter = null, string? Error = null)
{
    public static ResendOutcome Sent(string? providerId) => new(ResendOutcomeKind.Sent, ProviderId: providerId);
}

public enum ResendOutcomeKind
{
    /// <summary>2xx: Resend has the email.</summary>
    Sent,

    /// <summary>429: come back after <see cref="ResendOutcome.RetryAfter"/> (when Resend said).</summary>
    RateLimited,

    /// <summary>Network error, timeout, 408, 5xx, or the same idempotency key still in flight: try again.</summary>
    Retryable,

    /// <summary>Any other 4xx (validation, unverified domain, bad key): trying again cannot help.</summary>
    Rejected,
}

/// <summary>
/// Resend's send API over HttpClient (its SDK cannot be restored here): <c>POST {Resend:BaseUrl}/emails</c> with
/// the API key as a bearer token and the email id as <c>Idempotency-Key</c>, so Resend sends a retried email once
/// (it remembers keys for 24 hours).
/// </summary>
public sealed class ResendClient(IHttpClientFactory clients, IOptions<EmailOptions> options, TimeProvider time)
{
    public const string HttpClientName = "resend";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int MaxErrorLength = 1000;

    public async Task<ResendOutcome> SendAsync(string emailId, EmailMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var body = new ResendEmailRequest(settings.From, message.To, message.Subject, NullIfEmpty(message.Html), message.Text,
            message.ReplyTo, message.Tags?.Select(t => new ResendTag(t.Key, t.Value)).ToList());
        using var request = new HttpRequestMessage(HttpMethod.Post, "emails")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);
        request.Headers.Add("Idempotency-Key", emailId);

        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            return new ResendOutcome(ResendOutcomeKind.Retryable, Error: $"Resend could not be reached: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ResendOutcome(ResendOutcomeKind.Retryable, Error: $"Resend did not answer within {Timeout.TotalSeconds:0} s.");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
                return ResendOutcome.Sent(Property(text, "id"));
            var error = Describe(status, text);
            return status switch
            {
                // Resend sends retry-after in seconds; an HTTP date is honoured too.
                429 => new ResendOutcome(ResendOutcomeKind.RateLimited, RetryAfter: RetryAfterHeader.Wait(response.Headers.RetryAfter, time.GetUtcNow()), Error: error),
                408 or >= 500 => new ResendOutcome(ResendOutcomeKind.Retryable, Error: error),
                409 when Property(text, "name") == "concurrent_idempotent_requests" => new ResendOutcome(ResendOutcomeKind.Retryable, Error: error),
                _ => new ResendOutcome(ResendOutcomeKind.Rejected, Error: error),
            };
        }
    }

    /// <summary>"422 validation_error: Invalid `to` field." from Resend's error body <c>{statusCode, name, message}</c>.</summary>
    private static string Describe(int status, string body)
    {
        var name = Property(body, "name");
        var message = Property(body, "message");
        var description = name is null && message is null
            ? $"{status} {ReasonPhrase(status)}: {body}".TrimEnd(' ', ':')
            : $"{status} {name ?? ReasonPhrase(status)}: {message}";
        return description.Length > MaxErrorLength ? description[..MaxErrorLength] : description;
    }

    private static string ReasonPhrase(int status) => ((HttpStatusCode)status).ToString();

    private static string? Property(string json, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
