using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Platform;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Razorpay;

public sealed class RazorpayCheckoutPageTests
{
    [Fact]
    public void The_checkout_signature_of_Razorpay_is_valid_and_anything_else_is_not()
    {
        const string order = "order_IluGWxBm9U8zJ8";
        const string payment = "pay_IluGWxBm9U8zJ9";
        var signature = FakeRazorpay.CheckoutSignature(order, payment);

        Assert.True(RazorpayCheckoutSignature.IsValid(order, payment, signature, FakeRazorpay.KeySecret));
        Assert.False(RazorpayCheckoutSignature.IsValid(order, payment, signature, "another_key_secret"));
        Assert.False(RazorpayCheckoutSignature.IsValid(payment, order, signature, FakeRazorpay.KeySecret));
        Assert.False(RazorpayCheckoutSignature.IsValid(order, "pay_Other000000000", signature, FakeRazorpay.KeySecret));
        Assert.False(RazorpayCheckoutSignature.IsValid(order, payment, signature[..62], FakeRazorpay.KeySecret));
        Assert.False(RazorpayCheckoutSignature.IsValid(order, payment, "not-hex-" + signature[8..], FakeRazorpay.KeySecret));
        Assert.False(RazorpayCheckoutSignature.IsValid(order, payment, "", FakeRazorpay.KeySecret));
        Assert.False(RazorpayCheckoutSignature.IsValid("", "", FakeRazorpay.CheckoutSignature("", ""), FakeRazorpay.KeySecret));
    }

    [Fact]
    public void The_checkout_page_opens_Razorpay_Checkout_for_the_order_in_redirect_mode()
    {
        var html = RazorpayCheckoutPage.Render(FakeRazorpay.KeyId, "order_IluGWxBm9U8zJ8", 49_900, "INR", "Pre-order #42",
            "https://shop.example.test/payments/razorpay/callback", "https://shop.example.test/cancel?o=1&x=2");

        Assert.Contains("<script src=\"https://checkout.razorpay.com/v1/checkout.js\"></script>", html);
        Assert.Contains($"\"key\":\"{FakeRazorpay.KeyId}\"", html);
        Assert.Contains("\"order_id\":\"order_IluGWxBm9U8zJ8\"", html);
        Assert.Contains("\"amount\":49900", html);
        Assert.Contains("\"callback_url\":\"https://shop.example.test/payments/razorpay/callback\"", html);
        Assert.Contains("\"redirect\":true", html);
        Assert.Contains("INR 499.00", html);
        Assert.Contains("href=\"https://shop.example.test/cancel?o=1&amp;x=2\"", html);
    }

    [Fact]
    public void Hostile_values_are_encoded_in_markup_and_script()
    {
        const string hostile = "</script><script>alert('x')</script>\"<b>";
        var html = RazorpayCheckoutPage.Render(FakeRazorpay.KeyId, "order_" + hostile, 100, "INR", hostile,
            "https://shop.example.test/cb?" + hostile, "/cancel?x=\" onclick=\"x");

        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("\" onclick=\"", html);
        Assert.Equal(2, html.Split("</script>").Length - 1);
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("//evil.example/cancel")]
    [InlineData("data:text/html,hi")]
    public void Links_that_are_not_web_addresses_are_refused(string cancelUrl)
    {
        Assert.Throws<ArgumentException>(() => RazorpayCheckoutPage.Render(FakeRazorpay.KeyId, "order_IluGWxBm9U8zJ8", 100, "INR", "x",
            "https://shop.example.test/cb", cancelUrl));
    }

    [Fact]
    public void Without_a_key_id_nothing_is_registered()
    {
        var settings = RazorpayHarness.Settings("http://127.0.0.1:1");
        settings.Remove("Payments:Razorpay:KeyId");
        using var services = RazorpayHarness.Build(settings);

        Assert.Empty(services.GetServices<IPaymentProvider>());
        Assert.Empty(services.GetServices<IPayoutProvider>());
        Assert.Empty(services.GetServices<IValidatedSettings>());
    }

    [Fact]
    public void A_key_id_without_its_secrets_stops_the_app_with_the_settings_to_set()
    {
        var settings = RazorpayHarness.Settings("http://127.0.0.1:1");
        settings.Remove("Payments:Razorpay:KeySecret");
        settings.Remove("Payments:Razorpay:WebhookSecret");
        using var services = RazorpayHarness.Build(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetServices<IValidatedSettings>().ToList());

        Assert.Contains(failure.Failures, f => f.Contains("Payments__Razorpay__KeySecret"));
        Assert.Contains(failure.Failures, f => f.Contains("Payments__Razorpay__WebhookSecret"));
    }

    [Fact]
    public void Settings_default_to_Razorpays_API_a_ten_second_timeout_and_no_payout_account()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Payments:Razorpay:KeyId"] = "rzp_test_x", ["Payments:Razorpay:KeySecret"] = "s", ["Payments:Razorpay:WebhookSecret"] = "w",
        };
        using var services = RazorpayHarness.Build(settings);

        var options = services.GetRequiredService<IOptions<RazorpayOptions>>().Value;

        Assert.Equal(("https://api.razorpay.com", TimeSpan.FromSeconds(10), (string?)null), (options.BaseUrl, options.Timeout, options.PayoutAccountNumber));
    }
}
