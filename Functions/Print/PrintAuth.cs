using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Print.Accounts;

namespace Serverless.Print;

/// <summary>
/// How print-shop callers authenticate. Apps send <c>Authorization: Bearer</c>; the web front end relies on the
/// HttpOnly <c>token</c> cookie that sign-in sets. A request with an Authorization header is judged on it alone;
/// otherwise the cookie is read. Cookie-authenticated requests that change state must carry the CSRF token.
/// </summary>
public static class PrintAuth
{
    public const string Scheme = "print";
    public const string CookieScheme = "print-cookie";
    public const string CookieName = "token";

    /// <summary>What the OpenAPI document says signed-in print endpoints take: the bearer token or the sign-in cookie.</summary>
    public static readonly object[] OpenApiSecurity =
        [new OpenApiSecurityName(OpenApiConventions.BearerScheme), new OpenApiSecurityName(OpenApiConventions.CookieScheme)];

    public const string UserPolicy = "print-user";
    public const string CustomerPolicy = "print-customer";
    public const string ShopkeeperPolicy = "print-shopkeeper";
    public const string AdminPolicy = "print-admin";

    /// <summary>The session version claim: a token whose version is behind the account's was revoked.</summary>
    public const string SessionVersionClaim = PlatformClaims.SessionVersion;

    public static readonly IReadOnlySet<string> AccountRoles = new HashSet<string>(StringComparer.Ordinal)
    {
        PrintRoles.Customer, PrintRoles.Shopkeeper, Roles.Admin,
    };

    public static IServiceCollection AddPrintAuth(this IServiceCollection services)
    {
        services.AddAuthentication()
            .AddJwtBearer(CookieScheme)
            .AddPolicyScheme(Scheme, "Bearer token or sign-in cookie", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.Count > 0 ? TokenAudiences.Print.Scheme : CookieScheme);
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, ReadTokenFromCookie>();
        services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, p => Account(p).RequireClaim(PlatformClaims.Role, AccountRoles))
            .AddPolicy(CustomerPolicy, p => Account(p).RequireClaim(PlatformClaims.Role, PrintRoles.Customer))
            .AddPolicy(ShopkeeperPolicy, p => Account(p).RequireClaim(PlatformClaims.Role, PrintRoles.Shopkeeper))
            .AddPolicy(AdminPolicy, p => Account(p).RequireClaim(PlatformClaims.Role, Roles.Admin));
        services.AddScoped<PrintSession>();
        services.AddSingleton<CsrfTokens>();
        return services;
    }

    private static AuthorizationPolicyBuilder Account(AuthorizationPolicyBuilder policy) => policy
        .AddAuthenticationSchemes(Scheme)
        .RequireAuthenticatedUser()
        .RequireClaim(PlatformClaims.Kind, PlatformClaims.UserKind);

    /// <summary>True when this request was authenticated by the sign-in cookie rather than a bearer header.</summary>
    /// <summary>
    /// A group of admin routes under <paramref name="prefix"/>: the admin role, <c>ALLOWED_ADMIN_IPS</c> and, with the
    /// cookie, CSRF on changes (both enforced by <see cref="PrintSessionMiddleware"/>), the print error shape and the
    /// per-caller rate limit.
    /// </summary>
    public static RouteGroupBuilder MapPrintAdminGroup(this IEndpointRouteBuilder app, string prefix = "/admin") =>
        app.MapGroup(prefix).WithTags("Print-shop admin").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(AdminPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance, PrintAdminEndpoint.Instance)
            .RequireRateLimiting(RateLimitPolicies.PerCaller);

    public static bool ByCookie(HttpContext context) =>
        context.Request.Headers.Authorization.Count == 0 && context.Request.Cookies.ContainsKey(CookieName);

    public static void SetSessionCookie(HttpContext context, string token, TimeSpan lifetime) =>
        context.Response.Cookies.Append(CookieName, token, BrowserCookies.Options(context, lifetime));

    public static void ClearSessionCookie(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName, BrowserCookies.Options(context));

    /// <summary>The cookie carries a print token: the same audience as the bearer scheme's.</summary>
    private sealed class ReadTokenFromCookie(IOptions<JwtOptions> jwt) : IPostConfigureOptions<JwtBearerOptions>
    {
        public void PostConfigure(string? name, JwtBearerOptions options)
        {
            if (name != CookieScheme)
                return;
            options.TokenValidationParameters.ValidAudience = jwt.Value.AudienceValue(TokenAudiences.Print);
            options.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    context.Token = context.Request.Cookies[CookieName];
                    return Task.CompletedTask;
                },
            };
        }
    }
}

/// <summary>Marks an endpoint whose caller must be a live print-shop account (see <see cref="PrintSessionMiddleware"/>).</summary>
public sealed class PrintAccountRequired : ISurfaceSessionCheck
{
    public static readonly PrintAccountRequired Instance = new();
}

/// <summary>Marks an admin endpoint: subject to <c>ALLOWED_ADMIN_IPS</c> when that is set.</summary>
public sealed class PrintAdminEndpoint
{
    public static readonly PrintAdminEndpoint Instance = new();
}

/// <summary>The signed-in account a request acts for, loaded once per request by <see cref="PrintSessionMiddleware"/>.</summary>
public sealed class PrintSession
{
    private PrintProfile? _profile;

    public PrintProfile Profile => _profile ?? throw new InvalidOperationException("This endpoint is not marked as needing a print-shop account.");

    public long UserId => Profile.UserId;

    public string Role => Profile.Role;

    /// <summary>True when the request came with the sign-in cookie (a browser) rather than a bearer token.</summary>
    public bool ByCookie { get; private set; }

    internal void Set(PrintProfile profile, bool byCookie)
    {
        _profile = profile;
        ByCookie = byCookie;
    }
}

/// <summary>
/// Runs after authorization on print endpoints that need an account: the token must belong to an account that
/// still exists and whose sessions were not revoked since it was issued (password change or reset, deletion);
/// admin endpoints honour <c>ALLOWED_ADMIN_IPS</c>; and a state-changing request authenticated by cookie must
/// carry the CSRF token (403 otherwise).
/// </summary>
public sealed class PrintSessionMiddleware(RequestDelegate next)
{
    /// <summary>The answer for a token whose account is gone or whose sessions were revoked.</summary>
    public static readonly ApiError SessionEnded = new(401, "session_ended", "This session has ended; sign in again.");

    // Services from the request's scope, and only for the print shop's own endpoints (see SessionCheckMiddleware).
    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<PrintAccountRequired>() is null || context.User.Identity?.IsAuthenticated != true)
        {
            await next(context);
            return;
        }
        var services = context.RequestServices;
        var user = services.GetRequiredService<CurrentUser>();
        var accounts = services.GetRequiredService<PrintAccounts>();
        var session = services.GetRequiredService<PrintSession>();
        var csrf = services.GetRequiredService<CsrfTokens>();
        var settings = services.GetRequiredService<PrintSettings>();
        var shops = services.GetRequiredService<Shops.ShopPresence>();
        var profile = user.UserId is { } id ? await accounts.FindProfileAsync(id, context.RequestAborted) : null;
        var version = int.TryParse(context.User.FindFirst(PrintAuth.SessionVersionClaim)?.Value, out var v) ? v : 0;
        if (profile is null || profile.SessionVersion != version || !user.IsInRole(profile.Role))
        {
            await ApiErrors.WriteAsync(context, SessionEnded);
            return;
        }
        if (endpoint.Metadata.GetMetadata<PrintAdminEndpoint>() is not null && !settings.IsAllowedAdminAddress(context.Connection.RemoteIpAddress))
        {
            await ApiErrors.WriteAsync(context, new ApiError(403, "forbidden", "Admin endpoints are not available from this address."));
            return;
        }
        var byCookie = PrintAuth.ByCookie(context);
        if (byCookie && CsrfTokens.IsStateChanging(context.Request.Method) && !csrf.IsValid(context))
        {
            await ApiErrors.WriteAsync(context, new ApiError(403, "csrf_token_invalid",
                $"Missing or invalid CSRF token: get one from GET /csrf-token and send it in the {CsrfTokens.HeaderName} header."));
            return;
        }
        session.Set(profile, byCookie);
        // A shopkeeper's request is web activity: recorded when due (at most once a minute), and the session then
        // holds the profile as stored, so a handler that writes it goes on from the current ETag.
        if (endpoint.Metadata.GetMetadata<Shops.AppHeartbeatEndpoint>() is null
            && await shops.NoteWebActivityAsync(profile, context.RequestAborted) is { } noted)
            session.Set(noted, byCookie);
        await next(context);
    }
}

/// <summary>The print-shop error body: <c>{"error": "...", "code": "..."}</c>.</summary>
public sealed class PrintErrorShape : IErrorShape
{
    public static readonly PrintErrorShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = ErrorBodySchema.Object("PrintError",
        "A print-shop error: the message in 'error' and a stable machine code.", ["error", "code"]);

    public Task WriteAsync(HttpContext context, ApiError error) =>
        context.Response.WriteAsJsonAsync(new { error = error.Message, code = error.Code }, (JsonSerializerOptions?)null,
            "application/json", context.RequestAborted);
}

/// <summary>Print-shop settings; the document's own environment variable names where it names them.</summary>
public sealed class PrintSettings : Platform.IValidatedSettings
{
    public PrintSettings(IConfiguration configuration, IHostEnvironment environment)
    {
        var web = configuration["Print:PublicWebUrl"] is { Length: > 0 } url ? url : configuration["PublicBaseUrl"];
        PublicWebUrl = (string.IsNullOrEmpty(web) ? "http://localhost:7071" : web).TrimEnd('/');
        PublicApiUrl = (configuration["PublicBaseUrl"] is { Length: > 0 } api ? api : "http://localhost:7071").TrimEnd('/');
        SessionLifetime = configuration.GetValue("Print:SessionLifetime", TimeSpan.FromDays(7));
        // Sign-up without an emailed code is for local development and tests only, never in Production.
        SkipSignupOtp = configuration.GetValue("SKIP_SIGNUP_OTP", false) && !environment.IsProduction();
        SignupTokenLifetime = configuration.GetValue("Print:SignupTokenLifetime", TimeSpan.FromMinutes(30));
        ResetTokenLifetime = configuration.GetValue("Print:ResetTokenLifetime", TimeSpan.FromHours(1));
        var bonus = configuration.GetValue("Print:Referral:ReferrerBonus", 50m);
        ReferrerBonusMinor = bonus == 0 ? 0
            : Currencies.TryToMinor(bonus, PrintMoney.Currency, out var paise) ? paise
            : throw new OptionsValidationException("Print:Referral:ReferrerBonus", typeof(PrintSettings),
                [$"Print__Referral__ReferrerBonus must be an amount of rupees with at most 2 decimals, not negative; '{bonus}' is not."]);
        InvitesPerDay = configuration.GetValue("Print:Referral:InvitesPerDay", 10);
        SupportEmail = configuration["Print:SupportEmail"] is { Length: > 0 } support ? support : "support@example.com";
        AppName = configuration["Print:AppName"] is { Length: > 0 } name ? name : "QPrint";
        AllowedAdminAddresses = (configuration["ALLOWED_ADMIN_IPS"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(a => IPAddress.TryParse(a, out var ip) ? ip
                : throw new OptionsValidationException("ALLOWED_ADMIN_IPS", typeof(PrintSettings),
                    [$"ALLOWED_ADMIN_IPS must be a comma-separated list of IP addresses; '{a}' is not one."]))
            .ToList();
    }

    /// <summary>The customer-facing web app: referral links and password-reset links point there.</summary>
    public string PublicWebUrl { get; }

    /// <summary>Where this app is reached (<c>PublicBaseUrl</c>): the pages it serves itself, such as the sandbox's checkout.</summary>
    public string PublicApiUrl { get; }

    /// <summary>A link to a page of this app, absolute, so an app or a browser elsewhere can open it (a provider's own URL is kept).</summary>
    public string? Absolute(string? url) => url is ['/', ..] ? PublicApiUrl + url : url;

    public TimeSpan SessionLifetime { get; }

    public bool SkipSignupOtp { get; }

    public TimeSpan SignupTokenLifetime { get; }

    public TimeSpan ResetTokenLifetime { get; }

    /// <summary>What a referrer is credited, in paise, when the friend they referred qualifies (set in rupees).</summary>
    public long ReferrerBonusMinor { get; }

    public int InvitesPerDay { get; }

    public string SupportEmail { get; }

    public string AppName { get; }

    public IReadOnlyList<IPAddress> AllowedAdminAddresses { get; }

    public bool IsAllowedAdminAddress(IPAddress? address)
    {
        if (AllowedAdminAddresses.Count == 0)
            return true;
        if (address is null)
            return false;
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        return AllowedAdminAddresses.Contains(address);
    }

    public string ReferralLink(string code) => $"{PublicWebUrl}/r/{code}";
}
