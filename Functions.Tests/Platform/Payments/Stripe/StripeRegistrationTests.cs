using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Platform;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

public sealed class StripeRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings) => new ServiceCollection()
        .AddStripe(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
        .BuildServiceProvider();

    [Fact]
    public void Without_a_secret_key_there_is_no_stripe_provider()
    {
        using var services = Build(new() { ["Payments:Stripe:WebhookSecret"] = "whsec_x" });

        Assert.Empty(services.GetServices<IPaymentProvider>());
        Assert.Empty(services.GetServices<IValidatedSettings>());
    }

    [Fact]
    public void With_a_secret_key_the_provider_is_stripe_with_the_default_settings()
    {
        using var services = Build(new() { ["Payments:Stripe:SecretKey"] = "sk_test_123", ["Payments:Stripe:WebhookSecret"] = "whsec_abc" });

        Assert.Equal("stripe", Assert.Single(services.GetServices<IPaymentProvider>()).Name);
        var options = services.GetRequiredService<IOptions<StripeOptions>>().Value;
        Assert.Equal(("https://api.stripe.com", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(300)), (options.BaseUrl, options.Timeout, options.WebhookTolerance));
        Assert.Single(services.GetServices<IValidatedSettings>());
    }

    [Theory]
    [InlineData("pk_test_123", "whsec_abc", "https://api.stripe.com", "SecretKey")]
    [InlineData("sk_test_123", "", "https://api.stripe.com", "WebhookSecret")]
    [InlineData("sk_test_123", "secret", "https://api.stripe.com", "WebhookSecret")]
    [InlineData("sk_test_123", "whsec_abc", "api.stripe.com", "BaseUrl")]
    public void A_half_configured_stripe_stops_the_app_with_the_setting_named(string key, string webhookSecret, string baseUrl, string setting)
    {
        using var services = Build(new()
        {
            ["Payments:Stripe:SecretKey"] = key,
            ["Payments:Stripe:WebhookSecret"] = webhookSecret,
            ["Payments:Stripe:BaseUrl"] = baseUrl,
        });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetServices<IValidatedSettings>().ToList());

        Assert.Contains("Payments__Stripe__" + setting, Assert.Single(ex.Failures));
    }

    [Fact]
    public void A_timeout_out_of_range_is_refused()
    {
        using var services = Build(new()
        {
            ["Payments:Stripe:SecretKey"] = "rk_test_123",
            ["Payments:Stripe:WebhookSecret"] = "whsec_abc",
            ["Payments:Stripe:Timeout"] = "00:05:00",
        });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StripeOptions>>().Value);

        Assert.Contains("Payments__Stripe__Timeout", Assert.Single(ex.Failures));
    }
}
