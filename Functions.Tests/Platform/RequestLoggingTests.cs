using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Platform.Observability;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Platform.Email;

namespace Serverless.Tests.Platform;

/// <summary>The app with every log line it writes captured, at the levels its own settings let through.</summary>
public class LoggedPlatformFactory : PlatformFactory
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);
}

public sealed class RequestLinesOnFactory : LoggedPlatformFactory
{
    public RequestLinesOnFactory() => With("Logging:RequestLines", "true");
}

public sealed class QuietRequestsTests(LoggedPlatformFactory app) : IClassFixture<LoggedPlatformFactory>
{
    [Fact]
    public async Task A_request_that_goes_well_logs_nothing_at_information()
    {
        var client = app.CreateClient();
        app.Logs.Entries.Clear();

        var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Start-up work of the app may still log in the background; what serves a request must not.
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level <= LogLevel.Information && ServesRequests(e.Category));
    }

    internal static bool ServesRequests(string category) =>
        category.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
        || category.StartsWith("System.Net.Http.", StringComparison.Ordinal)
        || category.StartsWith("Polly", StringComparison.Ordinal)
        || category == typeof(RequestLineMiddleware).FullName;
}

public sealed class RequestLinesTests(RequestLinesOnFactory app) : IClassFixture<RequestLinesOnFactory>
{
    [Fact]
    public async Task Logging_request_lines_writes_one_line_per_request_without_the_query()
    {
        var client = app.CreateClient();
        app.Logs.Entries.Clear();

        var response = await client.GetAsync("/health?token=not-for-the-log");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = Assert.Single(app.Logs.Entries, e => e.Level <= LogLevel.Information && QuietRequestsTests.ServesRequests(e.Category));
        Assert.Equal(typeof(RequestLineMiddleware).FullName, line.Category);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Matches(@"^GET /health 200 in \d+\.\d ms, 3 storage requests$", line.Message);
    }
}
