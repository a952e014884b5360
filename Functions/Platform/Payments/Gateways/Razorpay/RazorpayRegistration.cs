using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Serverless.Platform.Payments;

/// <summary>
/// Razorpay settings, section <c>Payments:Razorpay</c> (<c>Payments__Razorpay__KeyId</c> in app settings). The
/// provider exists only when <see cref="KeyId"/> is set; then the key secret and the webhook secret are required.
/// </summary>
public sealed class RazorpayOptions : IValidatedSettings
{
    public const string Section = "Payments:Razorpay";
    public const string DefaultBaseUrl = "https://api.razorpay.com";

    /// <summary><c>rzp_live_…</c> or <c>rzp_test_…</c>; public (the checkout page shows it).</summary>
    public string? KeyId { get; set; }

    /// <summary>Secret: the API key's secret (Basic auth password, and the checkout signature's HMAC key).</summary>
    public string? KeySecret { get; set; }

    /// <summary>Secret: set on the Razorpay dashboard's webhook; the HMAC key of <c>X-Razorpay-Signature</c>.</summary>
    public string? WebhookSecret { get; set; }

    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>The RazorpayX account payouts are made from; without it payouts are refused. Never logged.</summary>
    public string? PayoutAccountNumber { get; set; }

    /// <summary>How long one attempt of one call may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of idempotent calls (GETs, payouts and refunds with their idempotency headers) on 5xx, 429, timeouts.</summary>
    public int Retries { get; set; } = 2;

    /// <summary>The first retry's delay; later ones back off exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(KeyId);
}

public static class RazorpayRegistration
{
    /// <summary>
    /// The Razorpay provider as <see cref="IPaymentProvider"/> and <see cref="IPayoutProvider"/>, only when
    /// <c>Payments:Razorpay:KeyId</c> is set; its other settings are then checked at start-up.
    /// </summary>
    public static IServiceCollection AddRazorpay(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(RazorpayOptions.Section);
        if (string.IsNullOrWhiteSpace(section["KeyId"]))
            return services;

        services.AddOptions<RazorpayOptions>()
            .Bind(section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.KeySecret), "Payments__Razorpay__KeySecret must be set when Payments__Razorpay__KeyId is set.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.WebhookSecret), "Payments__Razorpay__WebhookSecret must be set when Payments__Razorpay__KeyId is set.")
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http",
                "Payments__Razorpay__BaseUrl must be an absolute http(s) URL.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Payments__Razorpay__Timeout must be positive (e.g. 00:00:10).")
            .Validate(o => o.Retries is >= 0 and <= 10 && o.RetryDelay >= TimeSpan.Zero && o.RetryDelay <= TimeSpan.FromMinutes(1),
                "Payments__Razorpay__Retries must be 0 to 10 and Payments__Razorpay__RetryDelay at most a minute.")
            .ValidateOnStart();
        services.AddSingleton<IValidatedSettings>(sp => sp.GetRequiredService<IOptions<RazorpayOptions>>().Value);

        services.AddHttpClient(RazorpayProvider.HttpClientName, (sp, client) =>
            {
                var o = sp.GetRequiredService<IOptions<RazorpayOptions>>().Value;
                client.BaseAddress = new Uri(o.BaseUrl.TrimEnd('/') + "/");
                // Each attempt has its own timeout in the pipeline below; the whole call ends with the caller's token.
                client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.KeyId}:{o.KeySecret}")));
                client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            })
            .AddResilienceHandler("razorpay", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<RazorpayOptions>>().Value;
                // A network wait is wall-clock time, whatever clock the app's business rules run on.
                pipeline.TimeProvider = TimeProvider.System;
                if (o.Retries > 0)
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = o.Retries,
                        Delay = o.RetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        // A Retry-After of minutes would hold the caller; the caller's own retry comes later instead.
                        ShouldRetryAfterHeader = false,
                        ShouldHandle = args => ValueTask.FromResult(
                            IsSafeToRepeat(args.Context.GetRequestMessage()) && IsTransient(args.Outcome, args.Context.CancellationToken)),
                    });
                pipeline.AddTimeout(o.Timeout);
            });
        services.AddSingleton<RazorpayProvider>();
        services.AddSingleton<IPaymentProvider>(sp => sp.GetRequiredService<RazorpayProvider>());
        services.AddSingleton<IPayoutProvider>(sp => sp.GetRequiredService<RazorpayProvider>());
        return services;
    }

    /// <summary>
    /// Reads, and writes Razorpay de-duplicates by a header. Orders and captures carry no key: repeating one blindly
    /// could make a second order, so the caller's retry (which looks the order up first) is the only one.
    /// </summary>
    internal static bool IsSafeToRepeat(HttpRequestMessage? request) =>
        request is not null
        && (request.Method == HttpMethod.Get
            || request.Headers.Contains(RazorpayProvider.PayoutIdempotencyHeader)
            || request.Headers.Contains(RazorpayProvider.RefundIdempotencyHeader));

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && (HttpClientResiliencePredicates.IsTransient(outcome)
            // Razorpay answers 409 while a request with the same idempotency key is still being processed.
        || outcome.Result?.StatusCode == HttpStatusCode.Conflict);
}
