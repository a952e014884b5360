using System.Text.Json;
using Serverless.Platform;

namespace Serverless.Print.Notifications;

/// <summary>
/// Firebase Cloud Messaging settings, section <c>Print:Fcm</c> (<c>Print__Fcm__ProjectId</c> in app settings). Push
/// goes to FCM only when both the project id and the service account's JSON key are set; otherwise every push lands
/// in the development push outbox. The access token is requested from the key's own <c>token_uri</c>.
/// </summary>
public sealed class FcmOptions : IValidatedSettings
{
    public const string Section = "Print:Fcm";
    public const string DefaultBaseUrl = "https://fcm.googleapis.com";

    /// <summary>The OAuth scope FCM's send API asks for.</summary>
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";

    /// <summary>The Firebase project the app's devices belong to (<c>projects/{ProjectId}/messages:send</c>).</summary>
    public string? ProjectId { get; set; }

    /// <summary>Secret: the service account's JSON key, as downloaded from the Firebase console (Key Vault in Azure).</summary>
    public string? ServiceAccountJson { get; set; }

    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>How long one attempt of one send may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a send on 5xx, 429 and timeouts, before the failure goes back to the caller.</summary>
    public int Retries { get; set; } = 2;

    /// <summary>The first retry's delay; later ones back off exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ProjectId) && !string.IsNullOrWhiteSpace(ServiceAccountJson);

    /// <summary>Null when the settings can be used; else what is wrong, in the app settings' own names.</summary>
    public string? Problem()
    {
        var project = !string.IsNullOrWhiteSpace(ProjectId);
        var key = !string.IsNullOrWhiteSpace(ServiceAccountJson);
        if (project != key)
            return "Print__Fcm__ProjectId and Print__Fcm__ServiceAccountJson must be set together (or both left empty: pushes then go to the development outbox).";
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("https" or "http"))
            return "Print__Fcm__BaseUrl must be an absolute http(s) URL.";
        if (Timeout <= TimeSpan.Zero || Retries is < 0 or > 10 || RetryDelay < TimeSpan.Zero || RetryDelay > TimeSpan.FromMinutes(1))
            return "Print__Fcm__Timeout must be positive, Print__Fcm__Retries 0 to 10 and Print__Fcm__RetryDelay at most a minute.";
        return key ? ServiceAccountKey.Problem(ServiceAccountJson!) : null;
    }
}

/// <summary>The fields of a service account's JSON key that signing in needs.</summary>
public sealed record ServiceAccountKey(string ClientEmail, string PrivateKey, string? PrivateKeyId, string TokenUri)
{
    /// <summary>Reads the key; throws <see cref="FormatException"/> naming what is missing (never the key itself).</summary>
    public static ServiceAccountKey Parse(string json)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new FormatException("Print__Fcm__ServiceAccountJson is not JSON: paste the service account's key file as it was downloaded.");
        }
        if (root.ValueKind != JsonValueKind.Object || Text(root, "type") != "service_account")
            throw new FormatException("Print__Fcm__ServiceAccountJson must be a service account key (\"type\": \"service_account\").");
        var email = Text(root, "client_email") ?? throw new FormatException("Print__Fcm__ServiceAccountJson has no client_email.");
        var key = Text(root, "private_key") ?? throw new FormatException("Print__Fcm__ServiceAccountJson has no private_key.");
        var tokenUri = Text(root, "token_uri") ?? throw new FormatException("Print__Fcm__ServiceAccountJson has no token_uri.");
        if (!Uri.TryCreate(tokenUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
            throw new FormatException("The token_uri of Print__Fcm__ServiceAccountJson must be an absolute http(s) URL.");
        return new ServiceAccountKey(email, key, Text(root, "private_key_id"), tokenUri);
    }

    public static string? Problem(string json)
    {
        try
        {
            Parse(json);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
