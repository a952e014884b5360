using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Tests.Platform.Email;

/// <summary>One request the fake Resend received.</summary>
public sealed record ResendCall(string Method, string Path, string? Authorization, string? IdempotencyKey, JsonElement Body);

/// <summary>How the fake answers one request.</summary>
public sealed record ResendReply(int Status, string? Body = null, string? RetryAfter = null, bool Abort = false)
{
    public static ResendReply TooManyRequests(int retryAfterSeconds) =>
        new(429, """{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests."}""", retryAfterSeconds.ToString());

    public static ResendReply ServerError(int status = 500) =>
        new(status, $$"""{"statusCode":{{status}},"name":"internal_server_error","message":"Something went wrong."}""");

    public static ResendReply Unprocessable(string message) =>
        new(422, JsonSerializer.Serialize(new { statusCode = 422, name = "validation_error", message }));

    /// <summary>The connection drops without an answer.</summary>
    public static readonly ResendReply DroppedConnection = new(0, Abort: true);
}

/// <summary>
/// Resend's <c>POST /emails</c> on 127.0.0.1, over real HTTP: records every request and answers
/// <c>{"id": "..."}</c> unless a test scripted other replies for an email (keyed by its Idempotency-Key, the email
/// id, so a test's script never leaks into another email's deliveries).
/// </summary>
public sealed class FakeResend : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ResendReply>> _scripts = new();
    private WebApplication? _app;
    private int _sent;

    public ConcurrentQueue<ResendCall> Calls { get; } = new();

    public string Url { get; private set; } = "";

    public IReadOnlyList<ResendCall> CallsFor(string emailId) => Calls.Where(c => c.IdempotencyKey == emailId).ToList();

    /// <summary>The next answers to requests for this email, in order; after them, success.</summary>
    public void Script(string emailId, params ResendReply[] replies) =>
        _scripts[emailId] = new ConcurrentQueue<ResendReply>(replies);

    public async Task StartAsync()
    {
        (_app, Url) = await Serverless.Tests.Infrastructure.LoopbackServer.StartAsync(app => app.MapPost("/emails", HandleAsync));
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var key = context.Request.Headers["Idempotency-Key"].FirstOrDefault();
        Calls.Enqueue(new ResendCall(context.Request.Method, context.Request.Path, context.Request.Headers.Authorization.FirstOrDefault(),
            key, body.RootElement.Clone()));

        var reply = key is not null && _scripts.TryGetValue(key, out var script) && script.TryDequeue(out var next)
            ? next
            : new ResendReply(200, JsonSerializer.Serialize(new { id = $"re_{Interlocked.Increment(ref _sent):D4}" }));
        if (reply.Abort)
        {
            context.Abort();
            return;
        }
        context.Response.StatusCode = reply.Status;
        if (reply.RetryAfter is not null)
            context.Response.Headers.RetryAfter = reply.RetryAfter;
        if (reply.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.Body);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }
}
