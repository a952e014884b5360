using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>How the receiver answers one request: a status, optionally Retry-After, or no answer at all.</summary>
public sealed record Reply(int Status, string? RetryAfter = null, bool Hang = false)
{
    public static readonly Reply Ok = new(200);
}

/// <summary>One request as the receiver saw it, with its own verdict on the signature.</summary>
public sealed record ReceivedWebhook(
    byte[] Body,
    IReadOnlyDictionary<string, string> Headers,
    bool StandardSignatureValid,
    bool TimestampFresh,
    long ReceivedAtTicks)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name);

    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A webhook receiver on a real socket (Kestrel on 127.0.0.1, a free port). Each hook is a path with a script of
/// answers and the secret it verifies with. Verification is written here from the Standard Webhooks text, not
/// borrowed from the code under test: HMAC-SHA256 over "id.timestamp.body" with the base64 key after "whsec_",
/// any "v1," signature may match, compared in constant time, and the timestamp must be within five minutes.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Hook> _hooks = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The clock timestamps are checked against: the app's fake clock in tests.</summary>
    public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/hooks/{name}", (string name, HttpContext context) => ReceiveAsync(name, context));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    /// <summary>A new hook; its answers follow <paramref name="script"/>, then 200.</summary>
    public Hook Add(string name, params Reply[] script)
    {
        var hook = new Hook(new Uri(BaseAddress, "hooks/" + name).ToString(), script);
        _hooks[name] = hook;
        return hook;
    }

    private async Task ReceiveAsync(string name, HttpContext context)
    {
        if (!_hooks.TryGetValue(name, out var hook))
        {
            context.Response.StatusCode = 404;
            return;
        }
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var (valid, fresh) = VerifyStandard(hook.Secret, headers, body, Clock());
        var reply = hook.NextReply();
        hook.Record(new ReceivedWebhook(body, headers, valid, fresh, Stopwatch.GetTimestamp()));
        if (reply.Hang)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
            return;
        }
        if (reply.RetryAfter is not null)
            context.Response.Headers.RetryAfter = reply.RetryAfter;
        context.Response.StatusCode = reply.Status;
        await context.Response.WriteAsync(reply.Status is >= 200 and < 300 ? "" : $"scripted {reply.Status}");
    }

    /// <summary>Standard Webhooks verification, independently of the app's signer.</summary>
    public static (bool Valid, bool Fresh) VerifyStandard(string? secret, IReadOnlyDictionary<string, string> headers, byte[] body, DateTimeOffset now)
    {
        if (secret is null || !secret.StartsWith("whsec_", StringComparison.Ordinal)
            || !headers.TryGetValue("webhook-id", out var id) || !headers.TryGetValue("webhook-timestamp", out var timestamp)
            || !headers.TryGetValue("webhook-signature", out var signatures) || !long.TryParse(timestamp, out var seconds))
            return (false, false);
        var key = Convert.FromBase64String(secret.Substring("whsec_".Length));
        var signed = new List<byte>(Encoding.UTF8.GetBytes(id + "." + timestamp + "."));
        signed.AddRange(body);
        byte[] expected;
        using (var hmac = new HMACSHA256(key))
            expected = hmac.ComputeHash(signed.ToArray());
        var valid = false;
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split(',', 2);
            if (parts.Length == 2 && parts[0] == "v1")
            {
                try
                {
                    valid |= CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(parts[1]), expected);
                }
                catch (FormatException)
                {
                }
            }
        }
        var fresh = (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() <= Tolerance;
        return (valid, fresh);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }

    public sealed class Hook(string url, IEnumerable<Reply> script)
    {
        private readonly ConcurrentQueue<Reply> _script = new(script);
        private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
        private readonly SemaphoreSlim _arrived = new(0);

        public string Url { get; } = url;

        /// <summary>The whsec_ secret to verify with (from the endpoint registration).</summary>
        public string? Secret { get; set; }

        /// <summary>The answer once the script is used up.</summary>
        public Reply Default { get; set; } = Reply.Ok;

        public IReadOnlyList<ReceivedWebhook> Received => _received.ToList();

        internal Reply NextReply() => _script.TryDequeue(out var reply) ? reply : Default;

        internal void Record(ReceivedWebhook webhook)
        {
            _received.Enqueue(webhook);
            _arrived.Release();
        }

        /// <summary>Waits (bounded) until <paramref name="count"/> requests have arrived.</summary>
        public async Task<bool> WaitForAsync(int count, TimeSpan timeout)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (_received.Count < count)
            {
                var left = TimeSpan.FromSeconds((deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
                if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
                    return _received.Count >= count;
            }
            return true;
        }
    }
}
