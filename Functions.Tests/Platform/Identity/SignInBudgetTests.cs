using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Serverless.Platform.Http;

namespace Serverless.Tests.Platform.Identity;

/// <summary>The shared sign-in budget: strict in production, out of a person's way in Development and the sample settings.</summary>
public sealed class SignInBudgetTests
{
    private static int Allowed(string environment, Dictionary<string, string?>? settings = null)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build();
        services.AddPlatformRateLimits(configuration, new Environment(environment));
        var throttle = services.BuildServiceProvider().GetRequiredService<IdentifierThrottle>();
        return Enumerable.Range(0, 1100).Count(_ => throttle.TryAcquire("budget", "someone@example.test"));
    }

    [Fact]
    public void Production_allows_ten_sign_in_attempts_a_minute_per_identifier() =>
        Assert.Equal(RateLimitPolicies.ProductionAuthPermits, Allowed(Environments.Production));

    [Fact]
    public void Development_allows_a_thousand() =>
        Assert.Equal(RateLimitPolicies.DevelopmentAuthPermits, Allowed(Environments.Development));

    [Fact]
    public void The_setting_wins_over_either_default() =>
        Assert.Equal(3, Allowed(Environments.Development, new() { ["RateLimits:Auth:PermitLimit"] = "3" }));

    [Fact]
    public void The_sample_settings_use_the_development_budget()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "local.settings.sample.json")))
            root = Path.GetDirectoryName(root) ?? throw new FileNotFoundException("local.settings.sample.json");
        var values = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "local.settings.sample.json"))).RootElement.GetProperty("Values");
        Assert.Equal(RateLimitPolicies.DevelopmentAuthPermits.ToString(System.Globalization.CultureInfo.InvariantCulture),
            values.GetProperty("RateLimits__Auth__PermitLimit").GetString());
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Functions";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
