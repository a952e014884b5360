using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serverless.Platform;

namespace Serverless.Platform.Payments;

/// <summary>
/// Stripe settings, section <c>Payments:Stripe</c> (<c>Payments__Stripe__SecretKey</c> etc. in app settings).
/// Checked at start-up when a secret key is set: a half-configured Stripe must not start.
/// </summary>
public sealed class StripeOptions : IValidatedSettings
{
    public const string Section = "Payments:Stripe";
    public const string DefaultBaseUrl = "https://api.stripe.com";

    /// <summary>Secret (<c>sk_…</c>) or restricted (<c>rk_…</c>) API key. A secret.</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>The webhook endpoint's signing secret (<c>whsec_…</c>). A secret.</summary>
    public string WebhookSecret { get; set; } = "";

    /// <summary>Stripe's API; tests point it at a fake on loopback.</summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>How long one HTTP attempt may take (Stripe.net retries a timed-out attempt with the same idempotency key).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far a webhook's signed timestamp may be from our clock (Stripe's libraries default to 300 s).</summary>
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromSeconds(300);
}

public static class StripeRegistration
{
    /// <summary>
    /// The Stripe provider, registered as <see cref="IPaymentProvider"/> only when <c>Payments:Stripe:SecretKey</c>
    /// is set; its settings are then validated at start-up.
    /// </summary>
    public static IServiceCollection AddStripe(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(StripeOptions.Section);
        if (string.IsNullOrWhiteSpace(section[nameof(StripeOptions.SecretKey)]))
            return services;

        services.AddOptions<StripeOptions>()
            .Bind(section)
            .Validate(o => (o.SecretKey.StartsWith("sk_", StringComparison.Ordinal) || o.SecretKey.StartsWith("rk_", StringComparison.Ordinal))
                    && !o.SecretKey.Any(char.IsWhiteSpace),
                "Payments__Stripe__SecretKey must be a Stripe secret key (sk_…) or restricted key (rk_…).")
            .Validate(o => o.WebhookSecret.StartsWith("whsec_", StringComparison.Ordinal),
                "Payments__Stripe__WebhookSecret must be set to the webhook endpoint's signing secret (whsec_…) when Stripe is configured.")
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http",
                "Payments__Stripe__BaseUrl must be an absolute http(s) URL.")
            .Validate(o => o.Timeout > TimeSpan.Zero && o.Timeout <= TimeSpan.FromSeconds(80),
                "Payments__Stripe__Timeout must be between 00:00:01 and 00:01:20.")
            .Validate(o => o.WebhookTolerance >= TimeSpan.FromSeconds(1) && o.WebhookTolerance <= TimeSpan.FromHours(1),
                "Payments__Stripe__WebhookTolerance must be between 00:00:01 and 01:00:00.")
            .ValidateOnStart();
        // Built at start-up through IValidatedSettings, so ConfigurationProblem reports a bad value in one line.
        services.AddSingleton<IValidatedSettings>(sp => sp.GetRequiredService<IOptions<StripeOptions>>().Value);
        services.AddHttpClient(StripeProvider.HttpClientName, (sp, client) =>
            client.Timeout = sp.GetRequiredService<IOptions<StripeOptions>>().Value.Timeout);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IPaymentProvider, StripeProvider>();
        return services;
    }
}
