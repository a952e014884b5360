using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Razorpay;

/// <summary>
/// The provider as the app registers it (<see cref="RazorpayRegistration.AddRazorpay"/>), pointed at a
/// <see cref="FakeRazorpay"/> of its own. Retries wait a millisecond, so a retried call costs nothing.
/// </summary>
public sealed class RazorpayHarness : IAsyncDisposable
{
    private RazorpayHarness(FakeRazorpay fake, ServiceProvider services)
    {
        Fake = fake;
        Services = services;
    }

    public FakeRazorpay Fake { get; }

    public ServiceProvider Services { get; }

    public RazorpayProvider Provider => Services.GetRequiredService<RazorpayProvider>();

    public static async Task<RazorpayHarness> StartAsync(Action<Dictionary<string, string?>>? adjust = null)
    {
        var fake = new FakeRazorpay();
        await fake.StartAsync();
        var settings = Settings(fake.Url);
        adjust?.Invoke(settings);
        return new RazorpayHarness(fake, Build(settings));
    }

    public static Dictionary<string, string?> Settings(string baseUrl) => new()
    {
        ["Payments:Razorpay:KeyId"] = FakeRazorpay.KeyId,
        ["Payments:Razorpay:KeySecret"] = FakeRazorpay.KeySecret,
        ["Payments:Razorpay:WebhookSecret"] = FakeRazorpay.WebhookSecret,
        ["Payments:Razorpay:BaseUrl"] = baseUrl,
        ["Payments:Razorpay:PayoutAccountNumber"] = FakeRazorpay.PayoutAccountNumber,
        ["Payments:Razorpay:Timeout"] = "00:00:05",
        ["Payments:Razorpay:Retries"] = "2",
        ["Payments:Razorpay:RetryDelay"] = "00:00:00.001",
    };

    public static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRazorpay(configuration);
        return services.BuildServiceProvider();
    }

    public static CheckoutRequest Checkout(string intentId, long amountMinor = 49_900, string currency = "INR") => new(
        intentId, "ik_" + intentId, amountMinor, currency, "Pre-order #" + intentId, "https://shop.example.test/return",
        "https://shop.example.test/cancel", new DateTimeOffset(2026, 1, 1, 1, 0, 0, TimeSpan.Zero));

    public static HeaderDictionary WebhookHeaders(string? signature, string? eventId)
    {
        var headers = new HeaderDictionary();
        if (signature is not null)
            headers["X-Razorpay-Signature"] = signature;
        if (eventId is not null)
            headers["x-razorpay-event-id"] = eventId;
        return headers;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Fake.DisposeAsync();
    }
}
