using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>"Retry now": a delivery waiting in backoff is made due at once, and still sent once.</summary>
public sealed class WebhookRetryNowTests(WebhookFactory app) : IClassFixture<WebhookFactory>
{
    private static string NewOwner() => "merchant-" + Guid.NewGuid().ToString("N")[..8];

    private Task<HttpResponseMessage> RetryAsync(string owner, string deliveryId) =>
        app.Admin().PostAsync($"/platform/webhooks/deliveries/{deliveryId}/retry?owner_id={owner}", null);

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

    [Fact]
    public async Task A_delivery_waiting_in_backoff_is_sent_at_once_and_the_message_queued_for_later_sends_nothing_more()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(503));
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"))).DeliveryIds[0];
        await app.RunOnceAsync();
        var waiting = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Pending, waiting.State);
        Assert.True(waiting.NextAttemptAt > app.Time.GetUtcNow());

        var response = await RetryAsync(owner, deliveryId);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        // Both messages (the retry's and the one queued for the backoff) are visible in tests; only one may send.
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(app.Time.GetUtcNow(), body.GetProperty("next_attempt_at").GetDateTimeOffset());
        Assert.Equal(hook.Url, body.GetProperty("target_url").GetString());
        Assert.Equal(1, body.GetProperty("attempts").GetArrayLength());
        Assert.Equal(2, hook.Received.Count);
        var delivered = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Delivered, delivered.State);
        Assert.Equal(2, delivered.Attempts);
        Assert.Equal([503, 200], (await app.AttemptsAsync(owner, deliveryId)).Select(a => a.StatusCode ?? 0));
        Assert.Null(await app.PeekMessageAsync());
    }

    [Fact]
    public async Task A_finished_delivery_is_a_409_that_points_to_redelivery()
    {
        var owner = NewOwner();
        await app.RegisterAsync(owner);
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"))).DeliveryIds[0];
        await app.DrainAsync();

        var response = await RetryAsync(owner, deliveryId);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("delivery_finished", error.GetProperty("code").GetString());
        Assert.Contains("/redeliver", error.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_delivery_already_due_or_being_sent_is_a_409_and_an_unknown_one_a_404()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var due = (await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"))).DeliveryIds[0];
        var sending = (await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"))).DeliveryIds[0];
        var now = app.Time.GetUtcNow();
        await app.Table.TransitionAsync<WebhookDelivery>(WebhookKeys.Partition(owner), sending, d => d with
        {
            State = WebhookDeliveryStates.Sending, Attempts = 1, LeaseId = "in-flight", LeaseUntil = now + WebhookSender.Lease,
            NextAttemptAt = now + TimeSpan.FromMinutes(5),
        });

        var dueResponse = await RetryAsync(owner, due);
        var sendingResponse = await RetryAsync(owner, sending);
        var unknown = await RetryAsync(owner, "dlv_0000000000000000000_abcdef");
        var malformed = await RetryAsync(owner, "dlv_nope");
        var otherOwner = await RetryAsync(NewOwner(), due);

        Assert.Equal(HttpStatusCode.Conflict, dueResponse.StatusCode);
        Assert.Equal("delivery_due", await CodeAsync(dueResponse));
        Assert.Equal(HttpStatusCode.Conflict, sendingResponse.StatusCode);
        Assert.Equal("delivery_sending", await CodeAsync(sendingResponse));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherOwner.StatusCode);
        // The due delivery is sent; the one in flight waits for its lease, so its message is removed for the other tests.
        await app.RunOnceAsync();
        Assert.Single(hook.Received);
        await app.Get<StorageAccount>().Queue(WebhookKeys.QueueName).ClearMessagesAsync();
    }

    [Fact]
    public async Task Retry_now_needs_a_platform_admin_and_an_owner()
    {
        var anonymous = await app.CreateClient().PostAsync("/platform/webhooks/deliveries/dlv_x/retry?owner_id=o1", null);
        var merchant = await app.CreateClientFor("merchant-1", Serverless.Platform.Identity.ClientKinds.Merchant)
            .PostAsync("/platform/webhooks/deliveries/dlv_x/retry?owner_id=o1", null);
        var noOwner = await app.Admin().PostAsync("/platform/webhooks/deliveries/dlv_x/retry", null);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, merchant.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noOwner.StatusCode);
    }
}
