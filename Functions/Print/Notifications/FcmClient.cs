using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Apis.Auth.OAuth2;
using HttpClientFromMessageHandlerFactory = Google.Apis.Http.HttpClientFromMessageHandlerFactory;
using Google.Apis.Util;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Serverless.Print.Notifications;

/// <summary>One push to one device: what the user sees, and the data the app acts on (all values strings, as FCM wants).</summary>
public sealed record PushMessage(string Title, string Body, IReadOnlyDictionary<string, string> Data);

public enum PushOutcome
{
    /// <summary>FCM (or the development outbox) took the message.</summary>
    Sent,

    /// <summary>The token is dead (<c>UNREGISTERED</c>) or was never a token (<c>INVALID_ARGUMENT</c> for the token): forget the device.</summary>
    DeviceGone,

    /// <summary>Refused for a reason sending again cannot change (a 4xx other than the above); the device is kept.</summary>
    Rejected,
}

/// <summary>
/// A push could not be delivered now (FCM answered 5xx or 429, timed out, or was unreachable, after the client's own
/// retries): the caller tries again later.
/// </summary>
public sealed class PushUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Sends one push to one device token.</summary>
public interface IPushSender
{
    /// <summary>Throws <see cref="PushUnavailableException"/> when the failure is worth trying again later.</summary>
    Task<PushOutcome> SendAsync(long userId, string deviceToken, PushMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// FCM's HTTP v1 API: <c>POST {BaseUrl}/v1/projects/{project}/messages:send</c> with an OAuth access token of the
/// service account (JWT bearer grant at the key's <c>token_uri</c>, cached by Google.Apis.Auth until shortly before it
/// expires). Transient answers are retried by the named client's resilience pipeline (see
/// <see cref="NotificationsRegistration"/>); what is left of them is thrown as <see cref="PushUnavailableException"/>.
/// Device tokens are never logged.
/// </summary>
public sealed class FcmClient : IPushSender
{
    public const string HttpClientName = "fcm";

    /// <summary>The pooled handler the access-token requests go through (the token URI is absolute, no base address).</summary>
    public const string TokenHttpClientName = "fcm-token";
    private const string FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
    private const string BadRequestType = "type.googleapis.com/google.rpc.BadRequest";

    private readonly IHttpClientFactory _clients;
    private readonly FcmOptions _options;
    private readonly ITokenAccess _credential;
    private readonly ILogger<FcmClient> _logger;

    public FcmClient(IHttpClientFactory clients, IHttpMessageHandlerFactory handlers, IOptions<FcmOptions> options, TimeProvider time,
        ILogger<FcmClient> logger)
    {
        _clients = clients;
        _options = options.Value;
        _logger = logger;
        var key = ServiceAccountKey.Parse(_options.ServiceAccountJson ?? "");
        _credential = new ServiceAccountCredential(new ServiceAccountCredential.Initializer(key.ClientEmail, key.TokenUri)
        {
            KeyId = key.PrivateKeyId,
            Scopes = [FcmOptions.Scope],
            // Token requests go through the app's handler pool; their expiry is judged on the app's clock.
            HttpClientFactory = new HttpClientFromMessageHandlerFactory(_ =>
                new HttpClientFromMessageHandlerFactory.ConfiguredHttpMessageHandler(
                    handlers.CreateHandler(TokenHttpClientName), false, false)),
            Clock = new TimeProviderClock(time),
        }.FromPrivateKey(key.PrivateKey));
    }

    public async Task<PushOutcome> SendAsync(long userId, string deviceToken, PushMessage message, CancellationToken cancellationToken)
    {
        string accessToken;
        try
        {
            accessToken = await _credential.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new PushUnavailableException($"No FCM access token: {ex.GetType().Name}: {ex.Message}", ex);
        }

        var body = new FcmSendRequest(new FcmMessage(deviceToken, new FcmNotification(message.Title, message.Body), message.Data));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/projects/{Uri.EscapeDataString(_options.ProjectId!)}/messages:send")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);

        HttpResponseMessage response;
        try
        {
            response = await _clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new PushUnavailableException($"FCM could not be reached: {ex.Message}", ex);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new PushUnavailableException($"FCM did not answer within {_options.Timeout.TotalSeconds:0} s.", ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
                return PushOutcome.Sent;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var error = FcmError.Parse(text);
            var device = PrintDevices.DeviceId(deviceToken)[..12];
            if (status is 429 or 408 or >= 500 || status == 401)
                // 401: our credentials were refused. A later try (after the key is fixed) can still deliver.
                throw new PushUnavailableException($"FCM answered {status} {error.Status ?? response.ReasonPhrase}: {error.Message}");
            if (status == 404 || error.ErrorCode == "UNREGISTERED" || error.IsInvalidToken)
            {
                _logger.LogInformation("FCM says device {DeviceId} of user {UserId} is gone ({Status} {ErrorCode})", device, userId, status, error.ErrorCode ?? error.Status);
                return PushOutcome.DeviceGone;
            }
            _logger.LogWarning("FCM refused a push to device {DeviceId} of user {UserId}: {Status} {ErrorCode}: {Message}",
                device, userId, status, error.ErrorCode ?? error.Status, error.Message);
            return PushOutcome.Rejected;
        }
    }

    /// <summary>What an FCM error body says: <c>{"error": {code, message, status, details: [{@type, errorCode | fieldViolations}]}}</c>.</summary>
    private sealed record FcmError(string? Status, string? ErrorCode, string? Message, IReadOnlyList<string> ViolatedFields)
    {
        /// <summary>INVALID_ARGUMENT about the token itself (not about our message's other fields, which would be our bug).</summary>
        public bool IsInvalidToken => ErrorCode == "INVALID_ARGUMENT" && ViolatedFields.All(f => f == "message.token");

        public static FcmError Parse(string body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var error)
                    || error.ValueKind != JsonValueKind.Object)
                    return new FcmError(null, null, Truncate(body), []);
                string? errorCode = null;
                var fields = new List<string>();
                if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
                {
                    foreach (var detail in details.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.Object))
                    {
                        var type = Text(detail, "@type");
                        if (type == FcmErrorType)
                            errorCode ??= Text(detail, "errorCode");
                        else if (type == BadRequestType && detail.TryGetProperty("fieldViolations", out var violations) && violations.ValueKind == JsonValueKind.Array)
                            fields.AddRange(violations.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Object ? Text(v, "field") ?? "" : ""));
                    }
                }
                return new FcmError(Text(error, "status"), errorCode, Truncate(Text(error, "message") ?? ""), fields);
            }
            catch (JsonException)
            {
                return new FcmError(null, null, Truncate(body), []);
            }
        }

        private static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static string Truncate(string text) => text.Length > 300 ? text[..300] : text;
    }
}

public sealed record FcmSendRequest([property: JsonPropertyName("message")] FcmMessage Message);

public sealed record FcmMessage(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("notification")] FcmNotification Notification,
    [property: JsonPropertyName("data")] IReadOnlyDictionary<string, string> Data);

public sealed record FcmNotification([property: JsonPropertyName("title")] string Title, [property: JsonPropertyName("body")] string Body);

/// <summary>Google.Apis.Auth's clock on the app's <see cref="TimeProvider"/>, so token expiry follows the clock tests move.</summary>
internal sealed class TimeProviderClock(TimeProvider time) : IClock
{
    public DateTime Now => time.GetLocalNow().DateTime;

    public DateTime UtcNow => time.GetUtcNow().UtcDateTime;
}
