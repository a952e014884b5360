using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Serverless.Checkout.Stores;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Checkout;

/// <summary>
/// The checkout's authentication: the store's API key in <c>x-api-key</c> on every call. The key is checked against
/// its hash (constant time) by <see cref="CheckoutStores"/>; the store's row rides along on the request, so a
/// handler reads it without another storage request. A disabled store's key is refused like an unknown one.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CheckoutStores stores)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "checkout-api-key";
    public const string Header = "x-api-key";

    private static readonly object StoreItem = new();

    public static CheckoutStore? StoreOf(HttpContext context) => context.Items[StoreItem] as CheckoutStore;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values) || values.ToString() is not { Length: > 0 } key)
            return AuthenticateResult.NoResult();
        var store = await stores.AuthenticateAsync(key, Context.RequestAborted);
        if (store is null)
            return AuthenticateResult.Fail("The API key is not valid.");
        Context.Items[StoreItem] = store;
        var identity = new ClaimsIdentity(
        [
            new Claim(PlatformClaims.Subject, store.Id),
            new Claim(PlatformClaims.Name, store.Name),
            new Claim(PlatformClaims.Kind, PlatformClaims.ClientKindValue),
            new Claim(PlatformClaims.ClientKind, ClientKinds.Store),
        ], SchemeName, PlatformClaims.Name, PlatformClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var presented = Request.Headers.ContainsKey(Header);
        return ApiErrors.WriteAsync(Context, new ApiError(401, presented ? "invalid_api_key" : "missing_api_key",
            presented
                ? "The API key in 'x-api-key' is not valid, or its store is disabled."
                : "Send the store's API key in the 'x-api-key' header."));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiErrors.WriteAsync(Context, ApiError.ForStatus(403));
}

/// <summary>The store calling, as its API key named it.</summary>
public sealed class CheckoutCaller(IHttpContextAccessor accessor)
{
    public CheckoutStore Store => accessor.HttpContext is { } context && ApiKeyAuthentication.StoreOf(context) is { } store
        ? store
        : throw new InvalidOperationException("No store is authenticated on this request.");
}

/// <summary>
/// The checkout error body: <c>{statusCode, message, error}</c> (the NestJS shape the original's plugins read), plus
/// a stable <c>code</c>.
/// </summary>
public sealed class CheckoutErrorShape : IErrorShape
{
    public static readonly CheckoutErrorShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = ErrorBodySchema.Object("CheckoutError",
        "A checkout error: the status, a message naming the problem, the status's reason phrase and a stable machine code.",
        ["message", "error", "code"], integers: ["statusCode"]);

    public Task WriteAsync(HttpContext context, ApiError error)
    {
        var body = new Dictionary<string, object?>
        {
            ["statusCode"] = error.Status,
            ["message"] = error.Message,
            ["error"] = ReasonPhrases.GetReasonPhrase(error.Status),
            ["code"] = error.Code,
        };
        return context.Response.WriteAsJsonAsync(body, (JsonSerializerOptions?)null, "application/json", context.RequestAborted);
    }
}

/// <summary>
/// The checkout's settings. <c>Checkout__OrderExpiry</c>: how long an unpaid order lives before it is cancelled
/// (24 hours by default, 5 minutes to 30 days).
/// </summary>
public sealed class CheckoutSettings : Platform.IValidatedSettings
{
    public CheckoutSettings(IConfiguration configuration)
    {
        var expiry = configuration["Checkout:OrderExpiry"];
        OrderExpiry = string.IsNullOrWhiteSpace(expiry) ? TimeSpan.FromHours(24)
            : TimeSpan.TryParse(expiry, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
              && parsed >= TimeSpan.FromMinutes(5) && parsed <= TimeSpan.FromDays(30) ? parsed
            : throw new OptionsValidationException("Checkout", typeof(CheckoutSettings),
                [$"Checkout__OrderExpiry must be a time span from 00:05:00 to 30.00:00:00 (such as 1.00:00:00); '{expiry}' is not."]);
        var baseUrl = configuration["PublicBaseUrl"];
        PublicBaseUrl = (string.IsNullOrEmpty(baseUrl) ? "http://localhost:7071" : baseUrl).TrimEnd('/');
    }

    public TimeSpan OrderExpiry { get; }

    public string PublicBaseUrl { get; }

    /// <summary>The hosted checkout page of an order.</summary>
    public string PageUrl(string sessionToken) => $"{PublicBaseUrl}/checkout/{sessionToken}";
}
