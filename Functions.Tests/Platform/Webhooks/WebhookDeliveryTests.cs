using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>Publishing and delivering through the standalone pump, to a real receiver that checks signatures itself.</summary>
public sealed class WebhookDeliveryTests(WebhookFactory app) : IClassFixture<WebhookFactory>
{
    private static string NewOwner() => "merchant-" + Guid.NewGuid().ToString("N")[..8];

    private static JsonObject Paid(string orderId) => new()
    {
        ["event"] = "pre_order.paid",
        ["data"] = new JsonObject { ["id"] = orderId, ["status"] = "paid", ["amount"] = 100.00 },
        ["timestamp"] = "2026-11-22T12:00:00Z",
    };

    [Fact]
    public async Task A_published_event_reaches_the_endpoint_signed_so_the_receiver_can_verify_it()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var body = """{"event":"pre_order.paid","data":{"id":"po_1","amount":100.0},"timestamp":"2026-11-22T12:00:00Z"}""";

        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString(body), "pre_order.paid:po_1");
        await app.DrainAsync();

        var received = Assert.Single(hook.Received);
        Assert.True(received.StandardSignatureValid, "the receiver could not verify the signature");
        Assert.True(received.TimestampFresh);
        Assert.Equal(published.EventId, received.Header("webhook-id"));
        Assert.StartsWith("msg_", published.EventId);
        Assert.Equal(app.Time.GetUtcNow().ToUnixTimeSeconds().ToString(), received.Header("webhook-timestamp"));
        Assert.Equal(body, received.Text);
        Assert.Equal("application/json", received.Header("content-type"));
        var delivery = await app.DeliveryAsync(owner, Assert.Single(published.DeliveryIds));
        Assert.Equal(WebhookDeliveryStates.Delivered, delivery.State);
        var attempt = Assert.Single(await app.AttemptsAsync(owner, delivery.Id));
        Assert.Equal(200, attempt.StatusCode);
        Assert.Equal("delivered", attempt.Outcome);
        Assert.Null(attempt.Error);
        Assert.Null(await app.PeekMessageAsync());
    }

    [Fact]
    public async Task The_queue_message_carries_only_the_delivery_key_never_the_payload()
    {
        var owner = NewOwner();
        await app.RegisterAsync(owner);

        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po-secret-amount"));
        var message = await app.PeekMessageAsync();
        await app.DrainAsync();

        Assert.NotNull(message);
        Assert.DoesNotContain("po-secret-amount", message);
        Assert.Contains(published.DeliveryIds[0], message);
    }

    [Fact]
    public async Task A_4xx_answer_fails_the_delivery_at_once_without_retrying()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(400));

        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_2"));
        await app.DrainAsync();

        Assert.Single(hook.Received);
        var delivery = await app.DeliveryAsync(owner, published.DeliveryIds[0]);
        Assert.Equal(WebhookDeliveryStates.Failed, delivery.State);
        Assert.Equal(400, delivery.LastStatusCode);
        Assert.Contains("HTTP 400", delivery.LastError);
        Assert.Contains("scripted 400", delivery.LastError);
        Assert.Null(await app.PeekMessageAsync());
        Assert.True((await app.Get<WebhookEndpoints>().FindAsync(owner))!.Enabled);
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_and_later_events_are_not_sent_to_it()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(410));

        var first = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_3"));
        await app.DrainAsync();
        var later = await app.Publisher.PublishAsync(owner, "pre_order.cancelled", Paid("po_4"));
        await app.DrainAsync();

        Assert.Single(hook.Received);
        Assert.Equal(WebhookDeliveryStates.Failed, (await app.DeliveryAsync(owner, first.DeliveryIds[0])).State);
        Assert.Empty(later.DeliveryIds);
        var endpoint = await app.Admin().GetFromJsonAsync<JsonElement>($"/platform/webhooks/endpoints/{owner}");
        Assert.False(endpoint.GetProperty("enabled").GetBoolean());
        Assert.Contains("410", endpoint.GetProperty("disabled_reason").GetString());
    }

    [Fact]
    public async Task A_duplicate_queue_message_does_not_deliver_twice()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_5"));
        var queue = app.Get<StorageAccount>().Queue(WebhookKeys.QueueName);
        var message = (await app.PeekMessageAsync())!;

        // Two copies in the same batch race for the attempt; a third arrives after it succeeded.
        await queue.SendMessageAsync(message);
        await app.DrainAsync();
        await queue.SendMessageAsync(message);
        await app.DrainAsync();

        Assert.Single(hook.Received);
        Assert.True(hook.Received[0].StandardSignatureValid);
    }

    [Fact]
    public async Task Publishing_the_same_event_key_twice_is_one_event_and_one_delivery()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);

        var first = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_6"), eventKey: "pre_order.paid:po_6");
        var second = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_6"), eventKey: "pre_order.paid:po_6");
        await app.DrainAsync();
        var third = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_6"), eventKey: "pre_order.paid:po_6");
        await app.DrainAsync();

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.True(third.Duplicate);
        Assert.Equal(first.EventId, second.EventId);
        Assert.Equal(first.DeliveryIds, third.DeliveryIds);
        Assert.Single(hook.Received);
        Assert.Single(await app.Publisher.ListDeliveriesAsync(owner, 10));
    }

    [Fact]
    public async Task Publishing_again_after_the_message_was_lost_queues_the_unsent_delivery_again()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var first = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_lost"), eventKey: "pre_order.paid:po_lost");
        // The publisher stopped between storing the event and queueing it: no message.
        await app.Get<StorageAccount>().Queue(WebhookKeys.QueueName).ClearMessagesAsync();

        var again = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_lost"), eventKey: "pre_order.paid:po_lost");
        await app.DrainAsync();

        Assert.True(again.Duplicate);
        Assert.Equal(first.EventId, Assert.Single(hook.Received).Header("webhook-id"));
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, first.DeliveryIds[0])).State);
    }

    [Fact]
    public async Task A_redelivery_sends_the_stored_body_again_with_the_same_webhook_id()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var published = await app.Publisher.PublishAsync(owner, "pre_order.expired", Paid("po_7"));
        await app.DrainAsync();
        app.Time.Advance(TimeSpan.FromMinutes(3));

        var response = await app.Admin().PostAsync($"/platform/webhooks/deliveries/{published.DeliveryIds[0]}/redeliver?owner_id={owner}", null);
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var redelivery = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(published.DeliveryIds[0], redelivery.GetProperty("redelivery_of").GetString());
        Assert.Equal(published.EventId, redelivery.GetProperty("event_id").GetString());
        Assert.Equal(2, hook.Received.Count);
        Assert.All(hook.Received, r => Assert.True(r.StandardSignatureValid && r.TimestampFresh));
        Assert.Equal(hook.Received[0].Header("webhook-id"), hook.Received[1].Header("webhook-id"));
        Assert.Equal(hook.Received[0].Body, hook.Received[1].Body);
        Assert.NotEqual(hook.Received[0].Header("webhook-timestamp"), hook.Received[1].Header("webhook-timestamp"));
        var list = await app.Admin().GetFromJsonAsync<JsonElement>($"/platform/webhooks/deliveries?owner_id={owner}");
        Assert.Equal([redelivery.GetProperty("id").GetString(), published.DeliveryIds[0]],
            list.EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.All(list.EnumerateArray(), d => Assert.Equal("delivered", d.GetProperty("state").GetString()));
        Assert.All(list.EnumerateArray(), d => Assert.Equal(200, Assert.Single(d.GetProperty("attempts").EnumerateArray()).GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task The_delivery_log_lists_each_attempt_with_status_duration_and_time()
    {
        var owner = NewOwner();
        await app.RegisterAsync(owner, new Reply(422));
        await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_8"));
        await app.DrainAsync();

        var list = await app.Admin().GetFromJsonAsync<JsonElement>($"/platform/webhooks/deliveries?owner_id={owner}&limit=5");

        var delivery = Assert.Single(list.EnumerateArray());
        Assert.Equal("failed", delivery.GetProperty("state").GetString());
        Assert.Equal("pre_order.paid", delivery.GetProperty("event_type").GetString());
        Assert.Equal(1, delivery.GetProperty("attempt_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_attempt_at").ValueKind);
        var attempt = Assert.Single(delivery.GetProperty("attempts").EnumerateArray());
        Assert.Equal(1, attempt.GetProperty("attempt").GetInt32());
        Assert.Equal(422, attempt.GetProperty("status_code").GetInt32());
        Assert.True(attempt.GetProperty("duration_ms").GetInt64() >= 0);
        Assert.Equal(app.Time.GetUtcNow(), attempt.GetProperty("at").GetDateTimeOffset());
        Assert.Contains("422", attempt.GetProperty("error").GetString());
        Assert.Equal("failed", attempt.GetProperty("outcome").GetString());
        Assert.DoesNotContain("whsec_", list.GetRawText());
    }

    [Fact]
    public async Task A_checkout_callback_is_signed_with_x_webhook_signature_over_the_body()
    {
        var hook = app.Receiver.Add("checkout-" + Guid.NewGuid().ToString("N")[..8]);
        var target = new WebhookTarget(hook.Url, "store-webhook-secret", WebhookSchemes.BodyHmac);
        var body = """{"message":"Order confirmed","status":"confirmed","orderId":"o-1","storeId":"s-1"}""";

        await app.Publisher.PublishToAsync(target, "store-s-1", "checkout.order.confirmed", BinaryData.FromString(body));
        await app.DrainAsync();

        var received = Assert.Single(hook.Received);
        var expected = Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("store-webhook-secret")).ComputeHash(Encoding.UTF8.GetBytes(body)));
        Assert.Equal(expected, received.Header("x-webhook-signature"));
        Assert.Null(received.Header("webhook-signature"));
        Assert.Equal(body, received.Text);
    }

    [Fact]
    public async Task An_owner_without_an_endpoint_gets_nothing_stored_and_nothing_sent()
    {
        var owner = NewOwner();
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", Paid("po_9"));

        Assert.Empty(published.DeliveryIds);
        Assert.Null(await app.PeekMessageAsync());
        var rows = app.Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {WebhookKeys.Partition(owner)}"));
        Assert.Empty(await rows.ToListAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_or_too_large_is_refused_when_published()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => app.Publisher.PublishAsync("o", "t", BinaryData.FromString("not json")));
        var large = "\"" + new string('x', WebhookKeys.MaxBodyBytes) + "\"";
        await Assert.ThrowsAsync<ArgumentException>(() => app.Publisher.PublishAsync("o", "t", BinaryData.FromString(large)));
    }
}
