using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Checkout.Rates;

/// <summary>The app as an operator starts it in Production with the market rate settings wrong: one line, exit 1.</summary>
public sealed class MarketRatesSettingsTests
{
    private static Task<(int ExitCode, string Output)> StartInProductionAsync(Dictionary<string, string?> settings)
    {
        // Everything else Production needs, so the market rate settings are what stops the app.
        var environment = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = Azurite.Unreachable(),
            ["Jwt__SigningKey"] = PlatformFactory.SigningKey,
            ["EMAIL_FROM"] = "Test <no-reply@example.test>",
            ["Commerce__GasFeeSigningKey"] = "commerce-gas-fee-key-for-startup-tests-0123456789",
        };
        foreach (var (key, value) in settings)
            environment[key] = value;
        return Serverless.Tests.Platform.StartupTests.StartAsync(environment);
    }

    [Fact]
    public async Task Production_without_a_feed_says_what_to_set_and_exits()
    {
        var (exitCode, output) = await StartInProductionAsync(new());

        Assert.Equal(1, exitCode);
        Assert.Contains("Cannot start: Checkout__MarketRatesUrl must be set in Production", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Production_with_an_http_feed_says_it_must_be_https_and_exits()
    {
        var (exitCode, output) = await StartInProductionAsync(new() { ["Checkout__MarketRatesUrl"] = "http://rates.example.test/latest?base=BRL" });

        Assert.Equal(1, exitCode);
        Assert.Contains("Cannot start: Checkout__MarketRatesUrl must be an absolute https URL.", output);
        Assert.DoesNotContain("rates.example.test", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_bad_schedule_says_what_to_set_and_exits()
    {
        var (exitCode, output) = await StartInProductionAsync(new()
        {
            ["Checkout__MarketRatesUrl"] = "https://rates.example.test/latest", ["Checkout__MarketRatesSchedule"] = "*/5 * * * *",
        });

        Assert.Equal(1, exitCode);
        Assert.Contains("Cannot start: Checkout__MarketRatesSchedule must be a 6-field NCRONTAB expression", output);
        Assert.DoesNotContain("   at ", output);
    }
}
