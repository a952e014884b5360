using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Platform.Email;

namespace Serverless.Tests.Platform.Email;

public sealed class EmailSettingsTests
{
    private static EmailOptions Options(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        using var provider = new ServiceCollection().AddEmail(configuration).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<EmailOptions>>().Value;
    }

    [Fact]
    public void Without_a_key_no_sender_is_needed_and_Resend_is_the_default_base_url()
    {
        var options = Options(("RESEND_API_KEY", ""));

        Assert.False(options.UsesProvider);
        Assert.Equal("https://api.resend.com", options.ResendBaseUrl);
    }

    [Fact]
    public void A_key_without_a_sender_is_a_configuration_error_that_names_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options(("RESEND_API_KEY", "re_live_x")));

        Assert.Contains("EMAIL_FROM", error.Message);
    }

    [Fact]
    public void A_key_and_a_sender_select_Resend_at_the_configured_base_url()
    {
        var options = Options(("RESEND_API_KEY", "re_live_x"), ("EMAIL_FROM", "Shop <no-reply@shop.example>"),
            ("Resend:BaseUrl", "https://proxy.example/resend"));

        Assert.True(options.UsesProvider);
        Assert.Equal("https://proxy.example/resend", options.ResendBaseUrl);
    }
}
