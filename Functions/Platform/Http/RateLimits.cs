using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Serverless.Platform.Identity;

namespace Serverless.Platform.Http;

/// <summary>
/// Rate-limit policies that surfaces attach to route groups (<c>.RequireRateLimiting(RateLimitPolicies.Auth)</c>),
/// plus <see cref="IdentifierThrottle"/> for limits keyed by something in the body (a username, an email).
/// Limits are per instance: a scaled-out app multiplies them by its instance count, which bounds abuse without a
/// storage round trip on every request.
/// </summary>
public static class RateLimitPolicies
{
    /// <summary>Sign-in, sign-up and code endpoints: a small budget per client IP.</summary>
    public const string Auth = "auth";

    /// <summary>Everything else: a generous budget per caller (token subject, else client IP).</summary>
    public const string PerCaller = "per-caller";

    /// <summary>The sign-in budget per address and per identifier in production: a guesser gets 10 a minute.</summary>
    public const int ProductionAuthPermits = 10;

    /// <summary>Development's default budget: a person trying the API by hand never meets it.</summary>
    public const int DevelopmentAuthPermits = 1000;

    public static IServiceCollection AddPlatformRateLimits(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var auth = RateLimitSettings.From(configuration, "RateLimits:Auth",
            permits: environment.IsDevelopment() ? DevelopmentAuthPermits : ProductionAuthPermits, window: TimeSpan.FromMinutes(1));
        var perCaller = RateLimitSettings.From(configuration, "RateLimits:PerCaller", permits: 600, window: TimeSpan.FromMinutes(1));
        services.AddSingleton(new IdentifierThrottle(auth));
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(Auth, context => RateLimitPartition.GetSlidingWindowLimiter("ip:" + ClientAddress(context), _ => auth.Options()));
            options.AddPolicy(PerCaller, context => RateLimitPartition.GetSlidingWindowLimiter(CurrentUser.ScopeOf(context), _ => perCaller.Options()));
            options.OnRejected = (rejected, _) => Reject(rejected.HttpContext, rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : auth.Window);
        });
        return services;
    }

    /// <summary>Answers 429 with Retry-After, in the endpoint's error shape.</summary>
    public static ValueTask Reject(HttpContext context, TimeSpan retryAfter) =>
        new(TooManyRequests(context, retryAfter).ExecuteAsync(context));

    /// <summary>A 429 result for a handler's own limit; sets Retry-After.</summary>
    public static ErrorResult TooManyRequests(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = SetRetryAfter(context, retryAfter);
        return ApiErrors.Result(new ApiError(429, "too_many_requests", $"Too many requests; retry after {seconds} seconds."));
    }

    /// <summary>A 429 with a surface's own code and message (an invite budget); sets Retry-After.</summary>
    public static ErrorResult TooManyRequests(HttpContext context, TimeSpan retryAfter, string code, string message)
    {
        SetRetryAfter(context, retryAfter);
        return ApiErrors.Result(new ApiError(429, code, message));
    }

    /// <summary>Sets Retry-After to the wait in whole seconds, at least one; returns the seconds.</summary>
    public static int SetRetryAfter(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

public sealed record RateLimitSettings(int Permits, TimeSpan Window)
{
    public static RateLimitSettings From(IConfiguration configuration, string section, int permits, TimeSpan window) => new(
        configuration.GetValue($"{section}:PermitLimit", permits),
        configuration.GetValue($"{section}:Window", window));

    public SlidingWindowRateLimiterOptions Options() => new()
    {
        PermitLimit = Permits,
        Window = Window,
        SegmentsPerWindow = 6,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>
/// Limits attempts per identifier (for example per username on a login endpoint, so that rotating IPs does not
/// help a password guesser). Handlers call <see cref="TryAcquire"/> once they know the identifier.
/// </summary>
public sealed class IdentifierThrottle(RateLimitSettings settings)
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(
        key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => settings.Options()), StringComparer.Ordinal);

    public TimeSpan Window => settings.Window;

    /// <summary>True when the attempt may go ahead; false when this identifier has used its budget.</summary>
    public bool TryAcquire(string scope, string identifier)
    {
        using var lease = _limiter.AttemptAcquire(scope + ":" + identifier.Trim().ToLowerInvariant());
        return lease.IsAcquired;
    }
}
