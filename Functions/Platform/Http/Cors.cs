using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using Serverless.Platform.Identity;
using Serverless.Platform.Observability;

namespace Serverless.Platform.Http;

/// <summary>
/// Which browser apps on other origins may call the API (<c>Cors__AllowedOrigins</c>: comma-separated exact origins).
/// Empty, the default, allows none. <c>*</c> allows any origin without credentials, and is refused in Production.
/// </summary>
public sealed class CorsSettings : IValidatedSettings
{
    public const string Setting = "Cors:AllowedOrigins";

    /// <summary>Everything a client of the five APIs sends or reads across origins.</summary>
    public static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    public static readonly string[] RequestHeaders =
        ["Authorization", "Content-Type", IdempotencyMiddleware.HeaderName, ApiKeyHeader, .. CsrfTokens.HeaderNames];
    public static readonly string[] ExposedHeaders =
        [StorageMeteringMiddleware.HeaderName, "Retry-After", "Location", IdempotencyMiddleware.ReplayedHeader];
    private const string ApiKeyHeader = "x-api-key";

    public CorsSettings(IConfiguration configuration, IHostEnvironment environment)
    {
        var origins = (configuration[Setting] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        AnyOrigin = origins.Contains("*");
        if (AnyOrigin && environment.IsProduction())
            throw Invalid("Cors__AllowedOrigins must list the browser apps' origins in Production; '*' would let any web page call the API.");
        Origins = AnyOrigin ? [] : origins.Select(Origin).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }

    /// <summary>The exact origins allowed, with credentials (print's sign-in cookie).</summary>
    public IReadOnlyList<string> Origins { get; }

    /// <summary>Any origin, without credentials (outside Production only).</summary>
    public bool AnyOrigin { get; }

    public bool Enabled => AnyOrigin || Origins.Count > 0;

    /// <summary>True when the setting asks for cross-origin access at all (read before the settings are validated).</summary>
    public static bool IsConfigured(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[Setting]?.Replace(",", ""));

    public CorsPolicy Policy()
    {
        var policy = new CorsPolicyBuilder().WithMethods(Methods).WithHeaders(RequestHeaders).WithExposedHeaders(ExposedHeaders);
        return AnyOrigin ? policy.AllowAnyOrigin().Build() : policy.WithOrigins([.. Origins]).AllowCredentials().Build();
    }

    // An Origin header is scheme://host[:port], nothing more: anything else would never match one.
    private static string Origin(string value)
    {
        var trimmed = value.TrimEnd('/');
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")
            || uri.PathAndQuery != "/" || uri.Fragment.Length > 0 || !string.IsNullOrEmpty(uri.UserInfo))
            throw Invalid($"Cors__AllowedOrigins must be comma-separated origins such as https://shop.example.com (scheme, host and port only); '{value}' is not one.");
        return uri.GetLeftPart(UriPartial.Authority);
    }

    private static OptionsValidationException Invalid(string message) => new(Setting, typeof(CorsSettings), [message]);
}

public static class CorsRegistration
{
    public static IServiceCollection AddPlatformCors(this IServiceCollection services)
    {
        services.AddSingleton<CorsSettings>();
        services.AddSingleton<IValidatedSettings>(sp => sp.GetRequiredService<CorsSettings>());
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<CorsSettings>((o, settings) => o.AddDefaultPolicy(settings.Policy()));
        return services;
    }

    /// <summary>
    /// Answers preflights (204) and adds the CORS headers to every answer, errors included, for the allowed origins;
    /// placed before authentication and rate limits, so a preflight, which carries no credentials, is never refused.
    /// Without <c>Cors__AllowedOrigins</c> nothing is added and cross-origin reads stay blocked by the browser.
    /// </summary>
    public static WebApplication UsePlatformCors(this WebApplication app)
    {
        // The setting is read, not validated, here: a bad value stops the app at start-up (ConfigurationProblem).
        if (CorsSettings.IsConfigured(app.Configuration))
            app.UseCors();
        return app;
    }
}
