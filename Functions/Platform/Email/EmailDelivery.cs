using Microsoft.Extensions.Options;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Email;

/// <summary>
/// The <c>SendEmail</c> queue function: takes an email id off the <c>emails</c> queue and sends that email through
/// Resend, or, without <c>RESEND_API_KEY</c>, delivers it to the development outbox.
/// Safe to deliver twice: a sent email is not sent again, and while one delivery holds the email (status
/// <c>sending</c>) a second one puts itself back on the queue until the claim has lapsed. Likewise a message that
/// arrives while the email waits out a 429 goes back until <see cref="EmailRecord.NextAttemptAt"/>.
/// </summary>
public sealed class EmailDelivery(
    EmailStore emails,
    ResendClient resend,
    StorageAccount storage,
    IOptions<EmailOptions> options,
    IOptions<TriggerOptions> triggers,
    TimeProvider time,
    IHostEnvironment environment,
    ILogger<EmailDelivery> logger)
{
    public const string FunctionName = "SendEmail";

    /// <summary>How long one delivery holds an email: well past the provider's timeout.</summary>
    public static readonly TimeSpan ClaimDuration = TimeSpan.FromMinutes(2);

    /// <summary>429s accepted for one email before it is failed (each waits as long as Resend asks).</summary>
    public const int MaxDeferrals = 24;

    /// <summary>A queue message can stay invisible for 7 days at most.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(6);

    public static Task HandleAsync(QueueInvocation invocation) =>
        invocation.Services.GetRequiredService<EmailDelivery>()
            .DeliverAsync(invocation.Message, invocation.DequeueCount, invocation.CancellationToken);

    public async Task DeliverAsync(string message, long dequeueCount, CancellationToken cancellationToken)
    {
        var id = message.Trim();
        if (!EmailStore.IsId(id))
        {
            logger.LogWarning("{Function} dropped a message that is not an email id", FunctionName);
            return;
        }
        if (!options.Value.UsesProvider)
        {
            await DeliverToOutboxAsync(id, cancellationToken);
            return;
        }

        var now = time.GetUtcNow();
        var claimed = false;
        var record = await emails.TransitionAsync(id, r =>
        {
            claimed = IsClaimable(r, now) && !(r.NextAttemptAt > now);
            return claimed ? r with { Status = EmailStatus.Sending, ClaimedUntil = now + ClaimDuration, Attempts = r.Attempts + 1 } : null;
        }, cancellationToken);
        if (record is null)
        {
            logger.LogWarning("{Function}: no email {EmailId}", FunctionName, id);
            return;
        }
        if (!claimed)
        {
            if (record is { Status: EmailStatus.Sending, ClaimedUntil: { } until })
            {
                // Another delivery is sending it now. Come back when its claim lapses, in case that one dies.
                await RequeueAsync(id, until - now + TimeSpan.FromSeconds(1), cancellationToken);
            }
            else if (record is { Status: EmailStatus.Queued, NextAttemptAt: { } due } && due > now)
            {
                // Resend asked us to wait (429) and the wait is not over: come back when it is.
                await RequeueAsync(id, due - now, cancellationToken);
            }
            return;
        }

        try
        {
            await SendAsync(record, dequeueCount, cancellationToken);
        }
        catch (Exception ex) when (ex is not EmailDeliveryException && !cancellationToken.IsCancellationRequested)
        {
            // Let the queue's retry find the email claimable instead of waiting for the claim to lapse.
            await ReleaseAsync(id);
            throw;
        }
    }

    private async Task SendAsync(EmailRecord record, long dequeueCount, CancellationToken cancellationToken)
    {
        var id = record.Id;
        var message = await emails.ReadContentAsync(id, cancellationToken);
        if (message is null)
        {
            await FinishAsync(id, r => r with { Status = EmailStatus.Failed, Error = "The email's content is missing." }, cancellationToken);
            logger.LogError("Email {EmailId} has no content row; marked failed", id);
            return;
        }

        var outcome = await resend.SendAsync(id, message, cancellationToken);
        var now = time.GetUtcNow();
        switch (outcome.Kind)
        {
            case ResendOutcomeKind.Sent:
                await FinishAsync(id, r => r with { Status = EmailStatus.Sent, ProviderId = outcome.ProviderId, Error = null }, cancellationToken);
                await emails.ForgetContentAsync(id, cancellationToken);
                logger.LogInformation("Email {EmailId} sent through Resend as {ProviderId}", id, outcome.ProviderId);
                break;

            case ResendOutcomeKind.RateLimited when record.Deferrals + 1 > MaxDeferrals:
                await FailAsync(id, $"Still rate limited after {MaxDeferrals} waits: {outcome.Error}", cancellationToken);
                break;

            case ResendOutcomeKind.RateLimited:
                var delay = Clamp(outcome.RetryAfter ?? TimeSpan.FromSeconds(Math.Pow(2, record.Deferrals)));
                await FinishAsync(id, r => r with
                {
                    Status = EmailStatus.Queued, Deferrals = r.Deferrals + 1, NextAttemptAt = now + delay, Error = outcome.Error,
                }, cancellationToken);
                await RequeueAsync(id, delay, cancellationToken);
                logger.LogInformation("Email {EmailId} rate limited by Resend; trying again in {Delay}", id, delay);
                break;

            case ResendOutcomeKind.Retryable when dequeueCount >= triggers.Value.MaxDequeueCount:
                await FailAsync(id, $"Gave up after {dequeueCount} attempts: {outcome.Error}", cancellationToken);
                // Still a failed invocation: the message goes to the poison queue like any other exhausted one.
                throw new EmailDeliveryException(outcome.Error!);

            case ResendOutcomeKind.Retryable:
                await FinishAsync(id, r => r with { Status = EmailStatus.Queued, Error = outcome.Error }, cancellationToken);
                throw new EmailDeliveryException(outcome.Error!);

            default:
                await FailAsync(id, outcome.Error!, cancellationToken);
                break;
        }
    }

    private async Task DeliverToOutboxAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var delivered = false;
        var record = await emails.TransitionAsync(id, r =>
        {
            delivered = IsClaimable(r, now);
            return delivered ? r with { Status = EmailStatus.Outbox, CompletedAt = now } : null;
        }, cancellationToken);
        if (record is null || !delivered)
            return;
        // The outbox is how a developer reads one-time codes, so in Development the text body is logged too;
        // anywhere else a body (which may hold a code) never reaches the logs.
        if (environment.IsDevelopment())
        {
            var text = (await emails.ReadContentAsync(id, cancellationToken))?.Text;
            logger.LogInformation("Email {EmailId} to {To} delivered to the development outbox: {Subject}\n{Text}",
                id, record.To, record.Subject, text);
        }
        else
        {
            logger.LogInformation("Email {EmailId} to {To} delivered to the development outbox: {Subject}", id, record.To, record.Subject);
        }
    }

    private static bool IsClaimable(EmailRecord record, DateTimeOffset now) =>
        record.Status == EmailStatus.Queued || (record.Status == EmailStatus.Sending && record.ClaimedUntil <= now);

    /// <summary>Ends this delivery's claim with <paramref name="change"/>, unless the email has reached a final state meanwhile.</summary>
    private Task FinishAsync(string id, Func<EmailRecord, EmailRecord> change, CancellationToken cancellationToken) =>
        emails.TransitionAsync(id, r =>
        {
            if (EmailStatus.IsFinal(r.Status))
                return null;
            var next = change(r) with { ClaimedUntil = null };
            return EmailStatus.IsFinal(next.Status) ? next with { CompletedAt = time.GetUtcNow() } : next;
        }, cancellationToken);

    private async Task FailAsync(string id, string error, CancellationToken cancellationToken)
    {
        await FinishAsync(id, r => r with { Status = EmailStatus.Failed, Error = error }, cancellationToken);
        logger.LogError("Email {EmailId} failed: {Error}", id, error);
    }

    private async Task ReleaseAsync(string id)
    {
        try
        {
            await emails.TransitionAsync(id, r => r.Status == EmailStatus.Sending ? r with { Status = EmailStatus.Queued, ClaimedUntil = null } : null);
        }
        catch (Exception ex)
        {
            // The claim lapses on its own; the queue's retry finds the email then.
            logger.LogWarning("Could not release the claim on email {EmailId}: {Reason}", id, StorageFailure.Describe(ex));
        }
    }

    private Task RequeueAsync(string id, TimeSpan delay, CancellationToken cancellationToken) =>
        storage.Queue(Mailer.QueueName).SendMessageAsync(id, visibilityTimeout: Clamp(delay), cancellationToken: cancellationToken);

    /// <summary>At least a second (a requeued email never comes straight back), at most <see cref="MaxDelay"/>.</summary>
    private static TimeSpan Clamp(TimeSpan delay) =>
        QueueDelays.Visibility(delay < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay, MaxDelay);
}

/// <summary>A retryable failure to send an email: the invocation fails so the queue tries it again.</summary>
public sealed class EmailDeliveryException(string message) : Exception(message);
