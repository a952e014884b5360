using System.Security.Cryptography;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Serverless.Platform.Payments;

/// <summary>A payment the gateway completed: its reference, how it was paid and when.</summary>
public sealed record GatewayPayment(string TransactionId, string PaymentMethod, DateTimeOffset PaidAt);

/// <summary>
/// What is being paid for: a surface's own reference and the amount in minor units, and the idempotency key of the
/// attempt (recorded before the call): the same key asked twice is one charge, answered with the same payment.
/// </summary>
public sealed record GatewayCharge(string Reference, long AmountMinor, string Currency, string PaymentMethod, string IdempotencyKey);

/// <summary>
/// A payment gateway as the surfaces see it. The sandbox gateway completes every charge at once (Development and
/// demos); the Razorpay and Stripe clients implement the same contract against the providers.
/// </summary>
public interface IPaymentGateway
{
    /// <summary><c>sandbox</c>, <c>razorpay</c>, <c>stripe</c>.</summary>
    string Name { get; }

    bool IsSandbox { get; }

    Task<GatewayPayment> ChargeAsync(GatewayCharge charge, CancellationToken cancellationToken);
}

/// <summary>
/// Completes every charge immediately with a fresh <c>txn_</c> id: no money moves. Like a real provider it honours
/// idempotency keys: a key it has seen (in this process, for a day) answers with the payment it made for it.
/// </summary>
public sealed class SandboxGateway(TimeProvider time) : IPaymentGateway
{
    private static readonly TimeSpan KeyLifetime = TimeSpan.FromHours(24);
    private readonly MemoryCache _payments = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    public string Name => "sandbox";

    public bool IsSandbox => true;

    public Task<GatewayPayment> ChargeAsync(GatewayCharge charge, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(charge.IdempotencyKey);
        // GetOrCreate alone may run its factory twice for racing callers: the lock makes one key one payment.
        lock (_payments)
        {
            return Task.FromResult(_payments.GetOrCreate(charge.IdempotencyKey, entry =>
            {
                entry.Size = 1;
                entry.AbsoluteExpirationRelativeToNow = KeyLifetime;
                return new GatewayPayment("txn_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), charge.PaymentMethod, time.GetUtcNow());
            })!);
        }
    }
}

public static class PaymentRegistration
{
    /// <summary>
    /// The gateway from <c>Payments:Gateway</c>: <c>sandbox</c> (the default in Development and tests) or none,
    /// in which case surfaces offer no way to pay until a provider is configured.
    /// </summary>
    public static IServiceCollection AddPayments(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSingleton<Ledger>();
        var gateway = configuration["Payments:Gateway"] ?? (environment.IsProduction() ? "" : "sandbox");
        if (string.Equals(gateway, "sandbox", StringComparison.OrdinalIgnoreCase))
            services.AddSingleton<IPaymentGateway, SandboxGateway>();
        else if (gateway.Length > 0)
            // A typo or a provider this build does not have must not leave an app that silently cannot take payments.
            services.AddSingleton<IValidatedSettings>(_ => throw new OptionsValidationException("Payments:Gateway", typeof(IPaymentGateway),
                [$"Payments__Gateway '{gateway}' is not supported: set it to sandbox, or leave it empty for no payments."]));
        return services;
    }
}
