using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>
/// Storage did a write but its answer was lost (a network timeout, a dropped connection): the SDK retries it, and
/// the retry meets the rows its own first attempt wrote, as 409.
/// </summary>
public sealed class WebhookLostAnswerTests(WebhookLostAnswerTests.Factory app) : IClassFixture<WebhookLostAnswerTests.Factory>
{
    /// <summary>The webhook app with its table endpoint behind a proxy that can lose answers.</summary>
    public sealed class Factory : WebhookFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    private static string NewOwner() => "merchant-" + Guid.NewGuid().ToString("N")[..8];

    private static JsonObject Event(string id) => new() { ["event"] = "pre_order.paid", ["data"] = new JsonObject { ["id"] = id } };

    private string WebhooksTablePath => "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(WebhookKeys.TableName);

    /// <summary>Loses the answer to the next request matching, and checks after <paramref name="act"/> that it was lost.</summary>
    private async Task<T> LosingAnswerAsync<T>(string method, string path, Func<Task<T>> act)
    {
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == method && r.Path.Value == path);
        var result = await act();
        Assert.Equal(lost + 1, app.Proxy!.Lost);
        return result;
    }

    [Fact]
    public async Task An_endpoint_whose_insert_was_stored_but_not_answered_is_created_with_its_secret_shown()
    {
        var owner = NewOwner();
        var hook = app.Receiver.Add(owner);

        var response = await LosingAnswerAsync("POST", WebhooksTablePath,
            () => app.Admin().PutAsJsonAsync($"/platform/webhooks/endpoints/{owner}", new { url = hook.Url }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var secret = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(secret, (await app.Get<WebhookEndpoints>().FindAsync(owner))!.Secret);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("pre_order.paid:po_lost_answer")]
    public async Task A_publish_whose_transaction_was_stored_but_not_answered_is_one_new_event_delivered_once(string? eventKey)
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var key = eventKey is null ? null : eventKey + ":" + owner;

        var published = await LosingAnswerAsync("POST", "/devstoreaccount1/$batch",
            () => app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_lost"), key));
        await app.DrainAsync();

        Assert.False(published.Duplicate);
        var deliveryId = Assert.Single(published.DeliveryIds);
        Assert.Equal(published.EventId, Assert.Single(hook.Received).Header("webhook-id"));
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, deliveryId)).State);
        Assert.Single(await app.Publisher.ListDeliveriesAsync(owner, 10));
    }

    [Fact]
    public async Task A_redelivery_whose_insert_was_stored_but_not_answered_is_one_new_delivery()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_redeliver"));
        await app.DrainAsync();

        var response = await LosingAnswerAsync("POST", WebhooksTablePath,
            () => app.Admin().PostAsync($"/platform/webhooks/deliveries/{published.DeliveryIds[0]}/redeliver?owner_id={owner}", null));
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, hook.Received.Count);
        Assert.Equal(2, (await app.Publisher.ListDeliveriesAsync(owner, 10)).Count);
    }

    [Fact]
    public async Task A_retry_now_whose_update_was_stored_but_not_answered_is_accepted_and_sends_once()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(503));
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", Event("po_retry_now"))).DeliveryIds[0];
        await app.RunOnceAsync();

        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method is "PUT" or "MERGE" or "PATCH" && r.Path.Value!.Contains(deliveryId, StringComparison.Ordinal));
        var response = await app.Admin().PostAsync($"/platform/webhooks/deliveries/{deliveryId}/retry?owner_id={owner}", null);
        Assert.Equal(lost + 1, app.Proxy!.Lost);
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, hook.Received.Count);
        var delivered = await app.DeliveryAsync(owner, deliveryId);
        Assert.Equal(WebhookDeliveryStates.Delivered, delivered.State);
        Assert.Equal(2, delivered.Attempts);
    }
}
