using Microsoft.Extensions.Options;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

/// <summary>
/// The configured providers by name. <see cref="Default"/> is <c>Payments__Gateway</c> (the sandbox outside
/// Production unless set); a surface whose document names a provider asks for it by name.
/// </summary>
public sealed class PaymentProviders(IEnumerable<IPaymentProvider> all, IConfiguration configuration, IHostEnvironment environment)
{
    private readonly Dictionary<string, IPaymentProvider> _byName = all.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    public string DefaultName { get; } = (configuration["Payments:Gateway"] ?? (environment.IsProduction() ? "" : SandboxProvider.ProviderName)).Trim().ToLowerInvariant();

    public IPaymentProvider? Default => Find(DefaultName);

    public IReadOnlyCollection<IPaymentProvider> All => _byName.Values;

    public IPaymentProvider? Find(string? name) => name is { Length: > 0 } && _byName.TryGetValue(name, out var provider) ? provider : null;

    /// <summary>The provider of that name, or the default; throws when neither is configured (a surface checks <see cref="PaymentIntents.Available"/> first).</summary>
    public IPaymentProvider Resolve(string? name) =>
        Find(name ?? DefaultName) ?? throw new InvalidOperationException($"No payment provider '{name ?? DefaultName}' is configured.");
}

/// <summary>Fails start-up when <c>Payments__Gateway</c> names a provider this app has no settings for.</summary>
internal sealed class PaymentSettingsCheck : IValidatedSettings
{
    public PaymentSettingsCheck(PaymentProviders providers)
    {
        if (providers.DefaultName.Length > 0 && providers.Default is null)
            throw new OptionsValidationException("Payments:Gateway", typeof(PaymentProviders),
            [
                $"Payments__Gateway '{providers.DefaultName}' is not configured: set it to sandbox, razorpay (with Payments__Razorpay__KeyId, " +
                "KeySecret and WebhookSecret) or stripe (with Payments__Stripe__SecretKey and WebhookSecret), or leave it empty for no payments.",
            ]);
    }
}

public static class PaymentRegistration
{
    /// <summary>The ledger, the intents and their deadlines, the inbound events, and every provider that has settings.</summary>
    public static IServiceCollection AddPayments(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSingleton<Ledger>();
        services.AddStorage(s => s.Table(PaymentIntents.TableName).Table(InboundEvents.TableName).Table(Payouts.TableName));
        services.AddSingleton<PaymentProviders>();
        services.AddSingleton<IValidatedSettings, PaymentSettingsCheck>();
        services.AddSingleton<PaymentIntents>();
        services.AddSingleton<InboundEvents>();
        services.AddSingleton<Payouts>();
        services.AddSingleton<IOutboxChannel, PaymentIntentChannel>();
        services.AddSingleton<IOutboxChannel, InboundEventChannel>();
        services.AddSingleton<IOutboxChannel, PayoutChannel>();
        services.AddDeadlineHandler(PaymentIntents.ReconcileDeadline,
            invocation => invocation.Services.GetRequiredService<PaymentIntents>().ReconcileAsync(invocation.Key, invocation.CancellationToken));
        services.AddDeadlineHandler(PaymentIntents.RefundDeadline,
            invocation => invocation.Services.GetRequiredService<PaymentIntents>().ReconcileRefundAsync(invocation.Key, invocation.CancellationToken));
        services.AddDeadlineHandler(Payouts.ReconcileDeadline,
            invocation => invocation.Services.GetRequiredService<Payouts>().ReconcileAsync(invocation.Key, invocation.CancellationToken));

        services.AddRazorpay(configuration);
        services.AddStripe(configuration);
        var gateway = configuration["Payments:Gateway"];
        if (string.Equals(gateway, SandboxProvider.ProviderName, StringComparison.OrdinalIgnoreCase) || (gateway is null && !environment.IsProduction())
            || configuration.GetValue<bool>("Payments:Sandbox:Enabled"))
        {
            services.AddStorage(s => s.Table(SandboxProvider.TableName));
            services.AddSingleton<SandboxProvider>();
            services.AddSingleton<IPaymentProvider>(sp => sp.GetRequiredService<SandboxProvider>());
            services.AddSingleton<IPayoutProvider>(sp => sp.GetRequiredService<SandboxProvider>());
        }
        return services;
    }
}
