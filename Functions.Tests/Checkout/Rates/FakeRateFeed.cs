using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Serverless.Tests.Checkout.Rates;

/// <summary>One request the fake feed received.</summary>
public sealed record RateFeedCall(string PathAndQuery, string? Authorization);

/// <summary>
/// A market rate feed on 127.0.0.1, over real HTTP: <c>GET /latest</c> answers <see cref="Body"/> with
/// <see cref="Status"/>, in the Open Exchange Rates / Frankfurter shape unless a test sets something else, and records
/// every request.
/// </summary>
public sealed class FakeRateFeed : IAsyncDisposable
{
    private WebApplication? _app;

    public ConcurrentQueue<RateFeedCall> Calls { get; } = new();

    public string Url { get; private set; } = "";

    public int Status { get; set; } = 200;

    public string Body { get; set; } = Feed("BRL", ("USD", "0.19"));

    /// <summary>Drop the connection without an answer.</summary>
    public bool Abort { get; set; }

    /// <summary>A feed answer: rates given as JSON literals (<c>"0.19"</c> is a number, <c>"\"0.19\""</c> a string).</summary>
    public static string Feed(string baseCode, params (string Code, string Json)[] rates) =>
        "{\"base\":\"" + baseCode + "\",\"date\":\"2026-12-01\",\"rates\":{" + string.Join(",", rates.Select(r => $"\"{r.Code}\":{r.Json}")) + "}}";

    public async Task StartAsync()
    {
        (_app, Url) = await Serverless.Tests.Infrastructure.LoopbackServer.StartAsync(app => app.MapGet("/latest", HandleAsync));
    }

    private async Task HandleAsync(HttpContext context)
    {
        Calls.Enqueue(new RateFeedCall(context.Request.Path + context.Request.QueryString, context.Request.Headers.Authorization.FirstOrDefault()));
        if (Abort)
        {
            context.Abort();
            return;
        }
        context.Response.StatusCode = Status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Body);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }
}
