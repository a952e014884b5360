using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// A reverse proxy on 127.0.0.1 in front of one Azurite endpoint that can lose answers: a request matching
/// <see cref="LoseAnswerTo"/> is forwarded, so storage does the work, and then the connection is dropped instead of
/// the answer being relayed, as when a response is lost to a timeout or a broken connection. The client's retry
/// then meets what its first attempt did.
/// </summary>
public sealed class LossyStorageProxy : IAsyncDisposable
{
    private static readonly HashSet<string> Unforwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length",
    };

    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    private WebApplication? _app;
    private Func<HttpRequest, bool>? _lose;
    private Func<HttpRequest, bool>? _loseEvery;
    private int _lost;

    /// <summary>The proxy's address, e.g. <c>http://127.0.0.1:12345/</c>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Answers lost so far.</summary>
    public int Lost => Volatile.Read(ref _lost);

    /// <summary>The text of a request's body, for a <see cref="LoseAnswerTo"/> match.</summary>
    public static string BodyOf(HttpRequest request)
    {
        request.Body.Position = 0;
        return new StreamReader(request.Body, leaveOpen: true).ReadToEnd();
    }

    /// <summary>Loses the answer to the next request that matches (once).</summary>
    public void LoseAnswerTo(Func<HttpRequest, bool> match) => Volatile.Write(ref _lose, match);

    /// <summary>
    /// Loses the answer to every request that matches until called again with null: a match that decides at random
    /// loses some answers of a run. It is asked after storage has answered, so it may also act in that moment.
    /// </summary>
    public void LoseAnswersTo(Func<HttpRequest, bool>? match) => Volatile.Write(ref _loseEvery, match);

    /// <summary>
    /// Starts in front of the table endpoint of <paramref name="connectionString"/> and returns the same connection
    /// string with its table endpoint going through the proxy.
    /// </summary>
    public async Task<string> FrontTableEndpointAsync(string connectionString)
    {
        var tableEndpoint = connectionString.Split(';').Single(p => p.StartsWith("TableEndpoint=", StringComparison.Ordinal))["TableEndpoint=".Length..];
        await StartAsync(new Uri(tableEndpoint));
        return connectionString.Replace(tableEndpoint, new Uri(BaseAddress, "devstoreaccount1").ToString(), StringComparison.Ordinal);
    }

    /// <summary>Starts forwarding to <paramref name="upstream"/>'s scheme, host and port (paths are kept).</summary>
    public async Task StartAsync(Uri upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(context => ForwardAsync(context, upstream));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/");
    }

    private async Task ForwardAsync(HttpContext context, Uri upstream)
    {
        var request = context.Request;
        // The target as sent (still percent-encoded): the shared-key signature covers it.
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(upstream.GetLeftPart(UriPartial.Authority) + target));
        var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        if (body.Length > 0 || request.ContentLength is not null)
            forward.Content = new ByteArrayContent(body.ToArray());
        foreach (var (name, values) in request.Headers)
        {
            if (Unforwarded.Contains(name))
                continue;
            // Content-Type goes as sent: it is part of the shared-key signature.
            if (!forward.Headers.TryAddWithoutValidation(name, values.ToArray()))
                forward.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
        using var answer = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
        var lose = Volatile.Read(ref _lose);
        var loseEvery = Volatile.Read(ref _loseEvery);
        // The request's body, readable again by the match (see BodyOf).
        body.Position = 0;
        request.Body = body;
        if ((lose is not null && lose(request) && Interlocked.CompareExchange(ref _lose, null, lose) == lose)
            || (loseEvery is not null && loseEvery(request)))
        {
            Interlocked.Increment(ref _lost);
            context.Abort();
            return;
        }
        context.Response.StatusCode = (int)answer.StatusCode;
        foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
        {
            if (!Unforwarded.Contains(name))
                context.Response.Headers[name] = values.ToArray();
        }
        await answer.Content.CopyToAsync(context.Response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
