using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Tests.Infrastructure;

/// <summary>A small Kestrel app on 127.0.0.1 at a port the system picks: what every fake external service runs on.</summary>
public static class LoopbackServer
{
    /// <summary>Builds the app, lets <paramref name="map"/> add its routes, starts it, and answers its address (<c>http://127.0.0.1:port</c>).</summary>
    public static async Task<(WebApplication App, string Url)> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }
}
