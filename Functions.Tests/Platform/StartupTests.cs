using System.Diagnostics;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>The app as an operator starts it, with settings missing: one clear line, no stack trace.</summary>
public sealed class StartupTests
{
    /// <summary>Starts the built app in Production with only <paramref name="environment"/> set; its exit code and output.</summary>
    internal static async Task<(int ExitCode, string Output)> StartAsync(Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(Program).Assembly.Location },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Azurite.FreePort()}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["LOCAL_SETTINGS_PATH"] = "/nonexistent/local.settings.json";
        start.Environment.Remove("AzureWebJobsStorage");
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output + await errors);
    }

    [Fact]
    public async Task Without_a_storage_setting_the_app_says_what_to_set_and_exits()
    {
        var (exitCode, output) = await StartAsync(new() { ["Jwt__SigningKey"] = PlatformFactory.SigningKey });

        Assert.Equal(1, exitCode);
        Assert.Contains("Cannot start: No storage account is configured. Set AzureWebJobsStorage", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Without_a_signing_key_the_app_says_what_to_set_and_exits()
    {
        var (exitCode, output) = await StartAsync(new() { ["AzureWebJobsStorage"] = Azurite.Unreachable() });

        Assert.Equal(1, exitCode);
        Assert.Contains("Jwt__SigningKey must be set", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Theory]
    [InlineData("ALLOWED_ADMIN_IPS", "10.0.0.1, not-an-ip", "ALLOWED_ADMIN_IPS must be a comma-separated list of IP addresses; 'not-an-ip' is not one.")]
    [InlineData("Payments__Gateway", "paypall", "Payments__Gateway 'paypall' is not configured")]
    [InlineData("Cors__AllowedOrigins", "*", "Cannot start: Cors__AllowedOrigins must list the browser apps' origins in Production")]
    public async Task With_a_bad_setting_the_app_says_what_to_fix_and_exits(string setting, string value, string line)
    {
        var (exitCode, output) = await StartAsync(new()
        {
            ["AzureWebJobsStorage"] = Azurite.Unreachable(), ["Jwt__SigningKey"] = PlatformFactory.SigningKey,
            ["EMAIL_FROM"] = "Test <no-reply@example.test>", [setting] = value,
        });

        Assert.Equal(1, exitCode);
        Assert.Contains(line, output);
        Assert.DoesNotContain("   at ", output);
    }
}
