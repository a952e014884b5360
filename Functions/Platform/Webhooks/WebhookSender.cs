using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Platform.Hosting;
using Serverless.Platform.Observability;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// The <c>WebhookDelivery</c> queue function: one message, one attempt of one delivery. It claims the attempt with an
/// ETag-conditional transition (so a duplicate message cannot send twice), POSTs the stored body bytes signed by the
/// delivery's scheme, logs the attempt, and then either finishes the delivery or queues the next attempt with a
/// visibility delay and completes this message. A message that surfaces before its delivery is due goes back for
/// the rest of the wait; one older than the delivery's current message does nothing. One newer than it was queued
/// by a sender that has not yet saved the next sequence on the delivery: it fails, so the queue brings it back.
/// </summary>
public sealed class WebhookSender(
    StorageAccount storage,
    WebhookEndpoints endpoints,
    WebhookSigners signers,
    WebhookTargetGuard guard,
    WebhookQueue queue,
    WebhookPublisher publisher,
    IHttpClientFactory httpClients,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookSender> logger)
{
    public const string FunctionName = "WebhookDelivery";
    public const string HttpClientName = "webhooks";

    /// <summary>How long a claimed attempt is left alone before another message may take it over (its sender died).</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private const int MaxErrorLength = 500;

    private static readonly Counter<long> Attempts = PlatformTelemetry.Meter.CreateCounter<long>(
        "webhook.attempts", unit: "{attempt}", description: "Webhook delivery attempts, by outcome.");

    private TableClient Table => storage.Table(WebhookKeys.TableName);

    public static Task HandleAsync(QueueInvocation invocation) =>
        invocation.Services.GetRequiredService<WebhookSender>().HandleAsync(invocation.Message, invocation.CancellationToken);

    public async Task HandleAsync(string messageText, CancellationToken cancellationToken)
    {
        var message = WebhookQueue.Parse(messageText);
        var delivery = await Table.FindAsync<WebhookDelivery>(WebhookKeys.Partition(message.Owner), message.Delivery, cancellationToken);
        if (delivery is null || delivery.IsFinished || delivery.Sequence > message.Sequence)
            return; // Gone, done, or superseded by a later message.
        if (delivery.Sequence < message.Sequence)
        {
            // The next attempt's message is queued before the delivery is saved with its sequence, and this one
            // surfaced first. Completing it would leave the delivery waiting for a message that no longer exists.
            throw new InvalidOperationException(
                $"Webhook delivery {delivery.Id} is at sequence {delivery.Sequence}, not yet at this message's {message.Sequence}; try again later.");
        }
        var now = time.GetUtcNow();
        var notBefore = NotBefore(delivery, now);
        if (notBefore > now)
        {
            await queue.SendAsync(message, notBefore - now, cancellationToken);
            return;
        }

        var (target, refusal) = await ResolveTargetAsync(delivery, cancellationToken);
        if (target is null)
        {
            await FinishAsync(delivery, d => d.Sequence == message.Sequence && !d.IsFinished, AttemptOutcome.Failed, null, refusal, null, cancellationToken);
            return;
        }
        var leaseId = Guid.NewGuid().ToString("N");
        var claimed = await Table.TransitionAsync(delivery, d =>
            d.IsFinished || d.Sequence != message.Sequence || NotBefore(d, now) > now
                ? null
                : d with { State = WebhookDeliveryStates.Sending, Attempts = d.Attempts + 1, LeaseId = leaseId, LeaseUntil = now + Lease },
            cancellationToken);
        if (claimed?.LeaseId != leaseId)
            return; // Another copy of this message claimed the attempt.
        await AttemptAsync(claimed, target, cancellationToken);
    }

    /// <summary>Where and how an attempt is sent: the URL and secret as they are now, the signer, the stored body.</summary>
    private sealed record Target(string Url, string Secret, IWebhookSigner Signer, byte[] Body);

    /// <summary>The delivery's target, or why there is none (and the delivery fails without an attempt).</summary>
    private async Task<(Target? Target, string? Refusal)> ResolveTargetAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var eventRow = Table.FindAsync<WebhookEventRow>(delivery.PartitionKey, delivery.EventId, cancellationToken);
        var endpoint = delivery.TargetUrl is null ? endpoints.FindAsync(delivery.OwnerId, cancellationToken) : Task.FromResult<WebhookEndpoint?>(null);
        await Task.WhenAll(eventRow, endpoint);
        if (eventRow.Result is not { } stored)
            return (null, "The event is missing.");
        if (!signers.Has(delivery.Scheme))
            return (null, $"No signer is registered for the scheme '{delivery.Scheme}'.");
        // Attempts whose senders died before recording a result count too: a delivery that keeps killing them stops.
        if (delivery.Attempts >= WebhookRetryPolicy.MaxAttempts)
            return (null, $"No attempts left after {delivery.Attempts}.");
        if (delivery.TargetUrl is { } url)
            return publisher.OpenSecret(delivery) is { Length: > 0 } secret
                ? (new Target(url, secret, signers.For(delivery.Scheme), stored.Body), null)
                : (null, "The target's signing secret cannot be opened (it was sealed under another Jwt__SigningKey).");
        return endpoint.Result is { Enabled: true } e
            ? (new Target(e.Url, e.Secret, signers.For(delivery.Scheme), stored.Body), null)
            : (null, "The owner's webhook endpoint is disabled or gone.");
    }

    /// <summary>Sends one attempt, logs it, and records its result: delivered, failed, or the next attempt queued.</summary>
    private async Task AttemptAsync(WebhookDelivery claimed, Target target, CancellationToken cancellationToken)
    {
        var result = await SendAsync(claimed, target, cancellationToken);
        var outcome = result.Outcome;
        var error = result.Error;
        var delay = outcome == AttemptOutcome.Retry ? WebhookRetryPolicy.DelayAfter(claimed.Attempts, result.RetryAfter, Random.Shared) : null;
        if (outcome == AttemptOutcome.Retry && delay is null)
        {
            outcome = AttemptOutcome.Failed;
            error += $" No attempts left after {claimed.Attempts}.";
        }
        var finishedAt = time.GetUtcNow();
        DateTimeOffset? nextAttemptAt = delay is null ? null : finishedAt + delay.Value;
        var outcomeName = outcome.ToString().ToLowerInvariant();

        Attempts.Add(1, new KeyValuePair<string, object?>("outcome", outcomeName));
        // One line per attempt, and no stack trace for what a receiver can do (refuse, time out, answer 4xx/5xx): the
        // attempt row keeps the error, and the webhook HttpClient's own request loggers are removed.
        logger.Log(outcome == AttemptOutcome.Delivered ? LogLevel.Information : LogLevel.Warning,
            "Webhook {DeliveryId} attempt {Attempt} to {Host}: {Outcome} {StatusCode} in {DurationMs} ms{Error}",
            claimed.Id, claimed.Attempts, new Uri(target.Url).Host, outcome, result.StatusCode, result.DurationMs, error is null ? "" : ": " + error);
        await Table.UpsertEntityAsync(new WebhookAttempt
        {
            PartitionKey = claimed.PartitionKey,
            RowKey = WebhookKeys.AttemptRow(claimed.Id, claimed.Attempts),
            DeliveryId = claimed.Id,
            Attempt = claimed.Attempts,
            At = result.StartedAt,
            Url = target.Url,
            StatusCode = result.StatusCode,
            DurationMs = result.DurationMs,
            Error = error,
            Outcome = outcomeName,
            NextAttemptAt = nextAttemptAt,
        }, TableUpdateMode.Replace, cancellationToken);

        if (outcome == AttemptOutcome.Gone && claimed.TargetUrl is null)
            await endpoints.DisableAsync(claimed.OwnerId, $"The endpoint answered 410 Gone at {finishedAt:O}.", cancellationToken);
        // The next message goes out before the state that expects it is written: if that write fails, this message
        // is retried, finds the attempt still claimed and tries again after the lease, so nothing is stranded. A next
        // message that surfaces before the write fails and comes back until the delivery has caught up with it.
        if (delay is { } wait)
            await queue.SendAsync(new WebhookQueueMessage(claimed.OwnerId, claimed.Id, claimed.Sequence + 1), wait, cancellationToken);
        await FinishAsync(claimed, d => d.LeaseId == claimed.LeaseId && d.State == WebhookDeliveryStates.Sending,
            outcome, result.StatusCode, error, nextAttemptAt, cancellationToken);
    }

    /// <summary>When the delivery may next be attempted: when due, or when an attempt in flight has let go of it.</summary>
    private static DateTimeOffset NotBefore(WebhookDelivery delivery, DateTimeOffset now) =>
        delivery.State == WebhookDeliveryStates.Sending ? delivery.LeaseUntil ?? now : delivery.NextAttemptAt;

    /// <summary>Records an attempt's result on the delivery: waiting for the next attempt, delivered, or failed.</summary>
    private async Task FinishAsync(WebhookDelivery known, Func<WebhookDelivery, bool> stillOurs, AttemptOutcome outcome,
        int? statusCode, string? error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await Table.TransitionAsync(known, d =>
        {
            if (!stillOurs(d))
                return null;
            var next = d with { LeaseId = null, LeaseUntil = null, LastStatusCode = statusCode, LastError = error };
            if (nextAttemptAt is { } at)
                return next with { State = WebhookDeliveryStates.Pending, Sequence = d.Sequence + 1, NextAttemptAt = at };
            var state = outcome == AttemptOutcome.Delivered ? WebhookDeliveryStates.Delivered : WebhookDeliveryStates.Failed;
            return next with { State = state, CompletedAt = now };
        }, cancellationToken);
    }

    private sealed record SendResult(AttemptOutcome Outcome, int? StatusCode, string? Error, TimeSpan? RetryAfter, DateTimeOffset StartedAt, long DurationMs);

    private async Task<SendResult> SendAsync(WebhookDelivery delivery, Target target, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        // Durations are wall-clock facts about the network, not business time, so they do not follow TimeProvider.
        var stopwatch = Stopwatch.StartNew();
        SendResult Result(AttemptOutcome outcome, int? status, string? error, TimeSpan? retryAfter = null) =>
            new(outcome, status, error is { Length: > MaxErrorLength } ? error[..MaxErrorLength] : error, retryAfter, startedAt, stopwatch.ElapsedMilliseconds);

        if (guard.CheckForm(target.Url, "url", out var uri) is { } problem)
            return Result(AttemptOutcome.Failed, null, problem);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(target.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in target.Signer.Sign(new WebhookSigningInput(delivery.EventId, startedAt, target.Body, target.Secret)))
            request.Headers.TryAddWithoutValidation(name, value);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.RequestTimeout);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var outcome = WebhookRetryPolicy.Classify(status);
            if (outcome == AttemptOutcome.Delivered)
                return Result(outcome, status, null);
            var excerpt = await ExcerptAsync(response, timeout.Token);
            return Result(outcome, status, $"HTTP {status} {response.ReasonPhrase}{excerpt}".TrimEnd(),
                WebhookRetryPolicy.RetryAfter(response.Headers.RetryAfter, startedAt));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Find<WebhookTargetRefusedException>(ex) is { } refused)
        {
            return Result(AttemptOutcome.Failed, null, refused.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Result(AttemptOutcome.Retry, null, $"No response within {options.Value.RequestTimeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException ex)
        {
            return Result(AttemptOutcome.Retry, null, Describe(ex));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not the network: still an attempt that failed, retried on the schedule like one, so it cannot loop.
            logger.LogWarning(ex, "Webhook {DeliveryId} attempt failed unexpectedly", delivery.Id);
            return Result(AttemptOutcome.Retry, null, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>The start of an error response's body, which usually says what the receiver disliked.</summary>
    private static async Task<string> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = new byte[200];
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            var text = Encoding.UTF8.GetString(buffer, 0, read).ReplaceLineEndings(" ").Trim();
            return text.Length == 0 ? "" : ": " + text;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return "";
        }
    }

    private static string Describe(HttpRequestException ex)
    {
        var inner = ex.InnerException?.Message;
        return inner is null || ex.Message.Contains(inner, StringComparison.Ordinal) ? ex.Message : $"{ex.Message} ({inner})";
    }

    private static T? Find<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T found)
                return found;
        }
        return null;
    }
}
