using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Serverless.Commerce.Orders;

namespace Serverless.Tests.Commerce.Orders;

public sealed class CommerceSettingsTests
{
    private static CommerceSettings Settings(string environment, params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))
                .Append(new KeyValuePair<string, string?>("Jwt:SigningKey", "test-signing-key-that-is-long-enough-0123456789"))).Build();
        return new CommerceSettings(configuration, new HostingEnvironment { EnvironmentName = environment });
    }

    [Fact]
    public void The_sample_values_start_the_app_with_each_companys_own_similar_order_window()
    {
        var settings = Settings(Environments.Development, ("Commerce:SimilarOrderWindow", ""), ("Commerce:GasFeeValidity", "00:00:40"),
            ("Commerce:GasFeeSigningKey", "local-development-gas-fee-key-change-me-0123456789"));

        Assert.Null(settings.SimilarOrderWindow);
        Assert.Equal(TimeSpan.FromSeconds(40), settings.GasFeeValidity);
    }

    [Theory]
    [InlineData("Commerce:SimilarOrderWindow", "soon", "Commerce__SimilarOrderWindow")]
    [InlineData("Commerce:GasFeeSigningKey", "short", "at least 32 characters")]
    [InlineData("Commerce:GasFeeSigningKey", "test-signing-key-that-is-long-enough-0123456789", "must differ from Jwt__SigningKey")]
    public void A_bad_value_is_a_configuration_error_that_names_the_setting(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Settings(Environments.Development, (key, value)));

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Production_needs_its_own_gas_fee_signing_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Settings(Environments.Production));

        Assert.Contains("Commerce__GasFeeSigningKey is required in Production", error.Message);
    }
}
