using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class EndpointCatalogTests(EndpointCatalogTests.Factory app) : IClassFixture<EndpointCatalogTests.Factory>
{
    /// <summary>The app as ./dev run serves it: the development outboxes included (the page marks them Development only).</summary>
    public sealed class Factory : PlatformFactory
    {
        public Factory() => With("Email:ExposeOutbox", "true");
    }

    [Fact]
    public void The_committed_endpoint_list_is_what_the_app_serves()
    {
        _ = app.CreateClient();
        var expected = EndpointCatalog.Markdown(app.Services.GetRequiredService<EndpointDataSource>());
        var committed = File.ReadAllText(Path.Combine(Azurite.RepositoryRoot, EndpointCatalog.FileName)).ReplaceLineEndings("\n");
        var missing = expected.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Except(committed.Split('\n')).ToList();
        var stale = committed.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Except(expected.Split('\n')).ToList();
        Assert.True(expected == committed,
            $"{EndpointCatalog.FileName} differs from the app's endpoints; regenerate it with " +
            $"`dotnet run --project Functions -- --write-endpoints {EndpointCatalog.FileName}`.\nMissing: {string.Join("\n", missing)}\nStale: {string.Join("\n", stale)}");
    }
}
