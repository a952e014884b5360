using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

/// <summary>A fake Stripe on loopback and the provider as the app registers it (<c>AddStripe</c>), on one fake clock.</summary>
public sealed class StripeTestbed : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private StripeTestbed(FakeTimeProvider time, FakeStripe fake, ServiceProvider services)
    {
        Time = time;
        Fake = fake;
        _services = services;
        Provider = services.GetRequiredService<IPaymentProvider>();
    }

    public FakeTimeProvider Time { get; }

    public FakeStripe Fake { get; }

    public IPaymentProvider Provider { get; }

    public static async Task<StripeTestbed> StartAsync(TimeSpan? timeout = null, string? webhookSecret = null, string? secretKey = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        var fake = new FakeStripe(time);
        await fake.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Payments:Stripe:SecretKey"] = secretKey ?? fake.SecretKey,
            ["Payments:Stripe:WebhookSecret"] = webhookSecret ?? fake.WebhookSecret,
            ["Payments:Stripe:BaseUrl"] = fake.Url,
            ["Payments:Stripe:Timeout"] = (timeout ?? TimeSpan.FromSeconds(10)).ToString(),
        }).Build();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time).AddStripe(configuration).BuildServiceProvider();
        return new StripeTestbed(time, fake, services);
    }

    public CheckoutRequest Checkout(string intentId = "int_1", string? key = null, long amountMinor = 49_900, TimeSpan? expiresIn = null,
        string? email = "asha@example.com", string description = "Pre-order: 2 concert tickets") => new(
        intentId,
        key ?? "checkout-" + intentId,
        amountMinor,
        "INR",
        description,
        "https://shop.example.com/pay/return",
        "https://shop.example.com/pay/cancel",
        Time.GetUtcNow() + (expiresIn ?? TimeSpan.FromHours(2)),
        email);

    public Task<ProviderCheckout> CreateAsync(CheckoutRequest request) => Provider.CreateCheckoutAsync(request, CancellationToken.None);

    public async Task<string> PaidSessionAsync(string intentId = "int_1", long amountMinor = 49_900)
    {
        var checkout = await CreateAsync(Checkout(intentId, amountMinor: amountMinor));
        Fake.Complete(checkout.OrderId);
        return checkout.OrderId;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Fake.DisposeAsync();
    }
}
