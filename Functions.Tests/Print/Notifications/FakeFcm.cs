using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Print.Notifications;

/// <summary>One message FCM accepted.</summary>
public sealed record FcmDelivery(string Project, string Token, string Title, string Body, IReadOnlyDictionary<string, string> Data);

/// <summary>
/// Google's OAuth token endpoint and FCM's HTTP v1 send API on 127.0.0.1, as the app meets them. The token endpoint
/// takes the JWT bearer grant and verifies the assertion's RS256 signature with the public half of a service account
/// key made at test time (<see cref="ServiceAccountJson"/>), and its issuer, audience, scope and lifetime;
/// <c>messages:send</c> checks the access token and the message's shape and answers as FCM does: the message name,
/// <c>UNREGISTERED</c> (404) for tokens the test has unregistered, <c>INVALID_ARGUMENT</c> (400) for tokens it calls
/// malformed, and whatever error statuses a test scripts.
/// </summary>
public sealed class FakeFcm : IAsyncDisposable
{
    public const string ProjectId = "qprint-test";
    public const string ClientEmail = "fcm-sender@qprint-test.iam.gserviceaccount.com";
    public const string KeyId = "0123456789abcdef0123456789abcdef01234567";
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";
    public const string GoogleTokenUrl = "https://oauth2.googleapis.com/token";
    private const string FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, bool> _accessTokens = new();
    private readonly ConcurrentQueue<int> _script = new();
    private long _messages;
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public string TokenUri => Url + "/token";

    /// <summary>Tokens FCM answers <c>UNREGISTERED</c> for: the app was uninstalled.</summary>
    public ConcurrentDictionary<string, bool> Unregistered { get; } = new();

    /// <summary>Tokens FCM answers <c>INVALID_ARGUMENT</c> for: not a registration token at all.</summary>
    public ConcurrentDictionary<string, bool> Malformed { get; } = new();

    public ConcurrentQueue<FcmDelivery> Delivered { get; } = new();

    /// <summary>Every send request, answered or not, by token.</summary>
    public ConcurrentQueue<string> SendAttempts { get; } = new();

    public int TokenRequests => _tokenRequests;

    private int _tokenRequests;

    /// <summary>The next send requests answer these statuses (500, 503, 429), whatever their token; then as usual.</summary>
    public void Script(params int[] statuses)
    {
        foreach (var status in statuses)
            _script.Enqueue(status);
    }

    public IReadOnlyList<FcmDelivery> DeliveredTo(string token) => Delivered.Where(d => d.Token == token).ToList();

    /// <summary>The service account's key file, as the Firebase console hands it out, pointing at this fake.</summary>
    public string ServiceAccountJson() => new JsonObject
    {
        ["type"] = "service_account",
        ["project_id"] = ProjectId,
        ["private_key_id"] = KeyId,
        ["private_key"] = _key.ExportPkcs8PrivateKeyPem() + "\n",
        ["client_email"] = ClientEmail,
        ["client_id"] = "100000000000000000001",
        ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
        ["token_uri"] = TokenUri,
    }.ToJsonString();

    public async Task StartAsync()
    {
        (_app, Url) = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/token", IssueToken);
            app.MapPost("/v1/projects/{project}/{method}", Send);
        });
    }

    private async Task<IResult> IssueToken(HttpRequest request)
    {
        Interlocked.Increment(ref _tokenRequests);
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer")
            return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
        var problem = CheckAssertion(form["assertion"].ToString());
        if (problem is not null)
            return Results.Json(new { error = "invalid_grant", error_description = problem }, statusCode: 400);
        var token = "ya29.fake-" + Guid.NewGuid().ToString("N");
        _accessTokens[token] = true;
        return Results.Json(new { access_token = token, expires_in = 3599, token_type = "Bearer" });
    }

    /// <summary>Null when the assertion is a JWT this service account signed, for this token URI and FCM's scope.</summary>
    private string? CheckAssertion(string assertion)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
            return "not a JWT";
        JsonNode? header, claims;
        try
        {
            header = JsonNode.Parse(Base64Url(parts[0]));
            claims = JsonNode.Parse(Base64Url(parts[1]));
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return "unreadable JWT";
        }
        if ((string?)header?["alg"] != "RS256")
            return "alg must be RS256";
        if ((string?)header?["kid"] != KeyId)
            return "unknown key id";
        if (!_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            return "Invalid JWT Signature.";
        if ((string?)claims?["iss"] != ClientEmail)
            return "wrong issuer";
        // Google's token endpoint takes its own URL as the audience, whichever host served the request.
        if ((string?)claims?["aud"] is not { } audience || (audience != TokenUri && audience != GoogleTokenUrl))
            return "wrong audience " + (string?)claims?["aud"];
        if (!((string?)claims?["scope"] ?? "").Split(' ').Contains(Scope))
            return "FCM's scope is missing";
        var iat = (long?)claims?["iat"];
        var exp = (long?)claims?["exp"];
        if (iat is null || exp is null || exp <= iat || exp - iat > 3600)
            return "Invalid JWT: exp must be after iat, at most an hour";
        return null;
    }

    private async Task<IResult> Send(string project, string method, HttpRequest request)
    {
        if (method != "messages:send" || project != ProjectId)
            return Error(404, "NOT_FOUND", "Requested entity was not found.");
        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.ContainsKey(authorization["Bearer ".Length..]))
            return Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
        JsonNode? message;
        try
        {
            message = (await JsonNode.ParseAsync(request.Body))?["message"];
        }
        catch (JsonException)
        {
            return Error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
        }
        var token = (string?)message?["token"];
        var notification = message?["notification"];
        var data = message?["data"] as JsonObject;
        if (string.IsNullOrEmpty(token) || notification?["title"]?.GetValueKind() != JsonValueKind.String
            || notification["body"]?.GetValueKind() != JsonValueKind.String
            || data is null || data.Any(p => p.Value?.GetValueKind() != JsonValueKind.String))
            return Error(400, "INVALID_ARGUMENT", "Invalid message: token, notification {title, body} and string data are required.");
        SendAttempts.Enqueue(token);

        if (_script.TryDequeue(out var scripted))
            return Error(scripted, scripted == 429 ? "RESOURCE_EXHAUSTED" : scripted == 503 ? "UNAVAILABLE" : "INTERNAL", "Scripted failure.",
                scripted == 429 ? "QUOTA_EXCEEDED" : scripted == 503 ? "UNAVAILABLE" : "INTERNAL");
        if (Unregistered.ContainsKey(token))
            return Error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED");
        if (Malformed.ContainsKey(token))
            return Error(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT");

        Delivered.Enqueue(new FcmDelivery(project, token, (string)notification["title"]!, (string)notification["body"]!,
            data.ToDictionary(p => p.Key, p => (string)p.Value!)));
        return Results.Json(new { name = $"projects/{project}/messages/{Interlocked.Increment(ref _messages)}" });
    }

    private static IResult Error(int code, string status, string message, string? errorCode = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status };
        if (errorCode is not null)
            error["details"] = new JsonArray(new JsonObject { ["@type"] = FcmErrorType, ["errorCode"] = errorCode });
        return Results.Json(new JsonObject { ["error"] = error }, statusCode: code);
    }

    private static byte[] Base64Url(string value)
    {
        var padded = value.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        _key.Dispose();
    }
}
