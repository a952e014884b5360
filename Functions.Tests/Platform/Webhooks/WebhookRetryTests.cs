using System.Text.Json.Nodes;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>
/// Retries through the standalone pump on the fake clock: one pump batch runs the attempt that is due, the clock is
/// advanced to the scheduled time, and the next batch runs the retry. Nothing waits for real time to pass.
/// </summary>
public sealed class WebhookRetryTests(WebhookRetryFactory app) : IClassFixture<WebhookRetryFactory>
{
    private static string NewOwner() => "merchant-" + Guid.NewGuid().ToString("N")[..8];

    private static JsonObject Event(string id) => new() { ["event"] = "pre_order.paid", ["data"] = new JsonObject { ["id"] = id } };

    [Fact]
    public async Task A_503_with_Retry_After_is_tried_again_when_the_receiver_asked_and_then_delivered()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(503, RetryAfter: "120"));
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_1"));
        var deliveryId = published.DeliveryIds[0];
        var start = app.Time.GetUtcNow();

        await app.RunOnceAsync();

        var waiting = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Pending, waiting.State);
        Assert.Equal(start + TimeSpan.FromSeconds(120), waiting.NextAttemptAt);
        Assert.Equal(503, waiting.LastStatusCode);
        Assert.Equal(start + TimeSpan.FromSeconds(120), Assert.Single(await app.AttemptsAsync(owner, deliveryId)).NextAttemptAt);

        // The retry's message is already visible (tests cap the visibility delay at zero) but not yet due: it goes back.
        app.Time.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(1, await app.RunOnceAsync());
        Assert.Single(hook.Received);
        Assert.NotNull(await app.PeekMessageAsync());

        app.Time.Advance(TimeSpan.FromSeconds(1));
        await app.DrainAsync();

        Assert.Equal(2, hook.Received.Count);
        Assert.All(hook.Received, r => Assert.True(r.StandardSignatureValid && r.TimestampFresh));
        Assert.Equal(published.EventId, hook.Received[1].Header("webhook-id"));
        Assert.Equal((start + TimeSpan.FromSeconds(120)).ToUnixTimeSeconds().ToString(), hook.Received[1].Header("webhook-timestamp"));
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, deliveryId)).State);
        Assert.Equal([503, 200], (await app.AttemptsAsync(owner, deliveryId)).Select(a => a.StatusCode ?? 0));
        Assert.Null(await app.PeekMessageAsync());
    }

    [Fact]
    public async Task A_receiver_that_keeps_failing_is_retried_on_the_schedule_until_the_delivery_fails()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        hook.Default = new Reply(500);
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_2"))).DeliveryIds[0];

        var delays = new List<TimeSpan>();
        for (var attempt = 1; attempt <= WebhookRetryPolicy.MaxAttempts; attempt++)
        {
            Assert.Equal(1, await app.RunOnceAsync());
            var delivery = await app.DeliveryAsync(owner, deliveryId);
            Assert.Equal(attempt, delivery.Attempts);
            if (delivery.State != WebhookDeliveryStates.Pending)
                break;
            var delay = delivery.NextAttemptAt - app.Time.GetUtcNow();
            delays.Add(delay);
            app.Time.Advance(delay);
        }

        Assert.Equal(WebhookRetryPolicy.Schedule.Count, delays.Count);
        for (var i = 0; i < delays.Count; i++)
        {
            var step = WebhookRetryPolicy.Schedule[i];
            Assert.InRange(delays[i], step * 0.9, step * 1.1);
        }
        var failed = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Failed, failed.State);
        Assert.Contains("No attempts left after 10", failed.LastError);
        Assert.Equal(10, hook.Received.Count);
        Assert.All(hook.Received, r => Assert.True(r.StandardSignatureValid && r.TimestampFresh));
        Assert.Single(hook.Received.Select(r => r.Header("webhook-id")).Distinct());
        var attempts = await app.AttemptsAsync(owner, deliveryId);
        Assert.Equal(Enumerable.Range(1, 10), attempts.Select(a => a.Attempt));
        Assert.All(attempts, a => Assert.Equal(500, a.StatusCode));
        Assert.Null(attempts[^1].NextAttemptAt);
        Assert.Null(await app.PeekMessageAsync());
    }

    [Fact]
    public async Task A_receiver_that_does_not_answer_in_time_is_retried_after_the_first_step()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(200, Hang: true));
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_3"))).DeliveryIds[0];

        await app.RunOnceAsync();

        var waiting = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Pending, waiting.State);
        Assert.Null(waiting.LastStatusCode);
        Assert.Contains("No response within 0.5 s", waiting.LastError);
        Assert.InRange(waiting.NextAttemptAt - app.Time.GetUtcNow(), TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(5.5));

        app.Time.Advance(waiting.NextAttemptAt - app.Time.GetUtcNow());
        await app.DrainAsync();

        Assert.Equal(2, hook.Received.Count);
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, deliveryId)).State);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(408)]
    [InlineData(502)]
    public async Task Throttling_and_gateway_answers_are_retried(int status)
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(status));
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_4"))).DeliveryIds[0];

        await app.RunOnceAsync();
        var waiting = await app.DeliveryAsync(owner, deliveryId);
        app.Time.Advance(waiting.NextAttemptAt - app.Time.GetUtcNow());
        await app.DrainAsync();

        Assert.Equal(WebhookDeliveryStates.Pending, waiting.State);
        Assert.Equal(status, waiting.LastStatusCode);
        Assert.Equal(2, hook.Received.Count);
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, deliveryId)).State);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_and_logged_with_its_error()
    {
        var closed = new WebhookTarget($"http://127.0.0.1:{Azurite.FreePort()}/gone", "whsec_" + Convert.ToBase64String(new byte[32]));
        var owner = NewOwner();
        var deliveryId = (await app.Publisher.PublishToAsync(closed, owner, "pre_order.paid", Event("po_5"))).DeliveryIds[0];

        await app.RunOnceAsync();
        var waiting = await app.DeliveryAsync(owner, deliveryId);
        // Run out the schedule so that no message is left for the other tests of this class.
        while ((await app.DeliveryAsync(owner, deliveryId)) is { State: WebhookDeliveryStates.Pending } pending)
        {
            app.Time.Advance(pending.NextAttemptAt - app.Time.GetUtcNow());
            await app.RunOnceAsync();
        }

        Assert.Equal(WebhookDeliveryStates.Pending, waiting.State);
        Assert.Null(waiting.LastStatusCode);
        Assert.False(string.IsNullOrEmpty(waiting.LastError));
        var attempts = await app.AttemptsAsync(owner, deliveryId);
        Assert.Equal(WebhookRetryPolicy.MaxAttempts, attempts.Count);
        Assert.All(attempts, a => Assert.Null(a.StatusCode));
        Assert.Equal(WebhookDeliveryStates.Failed, (await app.DeliveryAsync(owner, deliveryId)).State);
    }

    [Fact]
    public async Task An_attempt_whose_sender_died_is_taken_over_when_its_lease_runs_out()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_6"))).DeliveryIds[0];
        // A sender claimed attempt 1 and then stopped before recording anything; its message is still queued.
        var now = app.Time.GetUtcNow();
        await app.Table.TransitionAsync<WebhookDelivery>(WebhookKeys.Partition(owner), deliveryId, d => d with
        {
            State = WebhookDeliveryStates.Sending, Attempts = 1, LeaseId = "dead-sender", LeaseUntil = now + WebhookSender.Lease,
        });

        await app.RunOnceAsync();
        Assert.Empty(hook.Received);
        app.Time.Advance(WebhookSender.Lease);
        await app.DrainAsync();

        Assert.True(Assert.Single(hook.Received).StandardSignatureValid);
        var delivered = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Delivered, delivered.State);
        Assert.Equal(2, delivered.Attempts);
        Assert.Equal(2, Assert.Single(await app.AttemptsAsync(owner, deliveryId)).Attempt);
    }

    [Fact]
    public async Task A_next_attempt_message_that_surfaces_before_its_delivery_is_saved_comes_back_and_is_delivered()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_7"))).DeliveryIds[0];
        var partition = WebhookKeys.Partition(owner);
        var now = app.Time.GetUtcNow();
        // A sender made attempt 1 and queued the message for attempt 2, but has not yet saved sequence 2 on the delivery.
        await app.Get<StorageAccount>().Queue(WebhookKeys.QueueName).ClearMessagesAsync();
        await app.Table.TransitionAsync<WebhookDelivery>(partition, deliveryId, d => d with
        {
            State = WebhookDeliveryStates.Sending, Attempts = 1, LeaseId = "slow-sender", LeaseUntil = now + WebhookSender.Lease,
        });
        await app.Get<WebhookQueue>().SendAsync(new WebhookQueueMessage(owner, deliveryId, 2), TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(1, await app.RunOnceAsync());

        Assert.Empty(hook.Received);
        Assert.Contains("\"sequence\":2", await app.PeekMessageAsync());
        // The sender saves the delivery; the message, tried again, sends attempt 2.
        await app.Table.TransitionAsync<WebhookDelivery>(partition, deliveryId, d => d with
        {
            State = WebhookDeliveryStates.Pending, Sequence = 2, NextAttemptAt = now, LeaseId = null, LeaseUntil = null,
        });
        await app.DrainAsync();

        Assert.Single(hook.Received);
        var delivered = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Delivered, delivered.State);
        Assert.Equal(2, delivered.Attempts);
        Assert.Null(await app.PeekMessageAsync());
    }

    [Theory]
    [InlineData(1, null, 4.5, 5.5)]
    [InlineData(1, 120.0, 120, 120)]
    [InlineData(2, 60.0, 270, 330)]
    [InlineData(9, null, 86400 * 0.9, 86400 * 1.1)]
    [InlineData(3, 7 * 86400.0, 86400, 86400)]
    public void The_next_attempt_waits_for_the_schedule_step_or_a_longer_Retry_After(int attempt, double? retryAfterSeconds, double min, double max)
    {
        var delay = WebhookRetryPolicy.DelayAfter(attempt, retryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null, new Random(attempt));

        Assert.NotNull(delay);
        Assert.InRange(delay.Value.TotalSeconds, min, max);
    }

    [Fact]
    public void There_is_no_attempt_after_the_tenth() =>
        Assert.Null(WebhookRetryPolicy.DelayAfter(10, null, Random.Shared));

    [Fact]
    public void Retry_After_is_read_as_seconds_or_as_an_http_date()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(90), WebhookRetryPolicy.RetryAfter(new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(90)), now));
        Assert.Equal(TimeSpan.FromMinutes(10), WebhookRetryPolicy.RetryAfter(new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddMinutes(10)), now));
        Assert.Null(WebhookRetryPolicy.RetryAfter(new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddMinutes(-1)), now));
        Assert.Null(WebhookRetryPolicy.RetryAfter(null, now));
    }
}
