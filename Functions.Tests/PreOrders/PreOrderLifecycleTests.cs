using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Payments;
using Serverless.PreOrders;
using Serverless.Tests.Platform.Webhooks;

namespace Serverless.Tests.PreOrders;

public sealed class PreOrderLifecycleTests(PreOrdersFactory app) : IClassFixture<PreOrdersFactory>
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private async Task<(HttpClient Merchant, string Id)> NewPreOrderAsync(TimeSpan expiresIn)
    {
        var merchant = await app.MerchantClientAsync();
        var id = (await app.CreateAsync(merchant, expiresIn)).GetProperty("id").GetString()!;
        return (merchant, id);
    }

    private Task<HttpResponseMessage> PayAsync(string id) => app.PayAsync(id);

    private async Task DeliverWebhooksAsync() => await app.DrainAsync();

    [Fact]
    public async Task Paying_marks_the_pre_order_paid_with_payment_details_and_sends_one_paid_event()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));

        var paid = await PayAsync(id);
        var again = await PayAsync(id);
        await DeliverWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var order = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");
        Assert.Equal("paid", order.GetProperty("status").GetString());
        var details = order.GetProperty("payment_details");
        Assert.StartsWith("sbpay_", details.GetProperty("transaction_id").GetString());
        Assert.Equal("qr", details.GetProperty("payment_method").GetString());
        Assert.Equal(app.Time.GetUtcNow(), DateTimeOffset.Parse(details.GetProperty("paid_at").GetString()!));

        var events = app.EventsFor(id);
        var paidEvent = Assert.Single(events);
        Assert.Equal("pre_order.paid", paidEvent.GetProperty("event").GetString());
        Assert.Equal("paid", paidEvent.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("100.00", paidEvent.GetProperty("data").GetProperty("amount").GetRawText());
        Assert.Equal(details.GetProperty("transaction_id").GetString(),
            paidEvent.GetProperty("data").GetProperty("payment_details").GetProperty("transaction_id").GetString());
        Assert.True(paidEvent.TryGetProperty("timestamp", out _));
        var received = app.MerchantHook.Received.Single(r => r.Text.Contains(id, StringComparison.Ordinal));
        Assert.True(WebhookReceiver.VerifyStandard(app.MerchantHook.Secret, received.Headers, received.Body, app.Time.GetUtcNow()).Valid);
    }

    [Fact]
    public async Task A_pre_order_expires_at_its_time_reads_say_so_at_once_and_one_expired_event_is_sent()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromMinutes(10));
        await app.RunDeadlinesAsync();
        Assert.Equal("pending", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());

        app.Time.Advance(TimeSpan.FromMinutes(10));

        // Exact to the request, before the deadline handler has run.
        Assert.Equal("expired", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await PayAsync(id)).StatusCode);
        await app.RunDeadlinesAsync();
        // A second delivery of the same deadline changes nothing and sends nothing new.
        await app.Get<DeadlineScheduler>().ScheduleAsync(PreOrderService.ExpiryDeadline, PreOrderService.Partition(PreOrdersFactory.Merchant) + "|" + id, app.Time.GetUtcNow());
        await app.RunDeadlinesAsync();
        await DeliverWebhooksAsync();

        var expired = Assert.Single(app.EventsFor(id));
        Assert.Equal("pre_order.expired", expired.GetProperty("event").GetString());
        Assert.Equal("expired", expired.GetProperty("data").GetProperty("status").GetString());
        Assert.False(expired.GetProperty("data").TryGetProperty("payment_details", out _));
        Assert.Equal(HttpStatusCode.Conflict, (await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_pending_pre_order_sends_one_cancelled_event_and_refuses_payment()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));

        var cancelled = await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null);
        var twice = await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null);
        var pay = await PayAsync(id);
        app.Time.Advance(TimeSpan.FromDays(1));
        await app.RunDeadlinesAsync();
        await DeliverWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", (await Json(cancelled)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, pay.StatusCode);
        merchant = await app.MerchantClientAsync();
        Assert.Equal("cancelled", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(["pre_order.cancelled"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task A_paid_pre_order_cannot_be_cancelled_or_expire()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromMinutes(5));
        await PayAsync(id);

        var cancel = await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null);
        app.Time.Advance(TimeSpan.FromMinutes(6));
        await app.RunDeadlinesAsync();

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal("paid", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Payments_and_cancellations_racing_for_one_pre_order_have_exactly_one_winner_and_one_event()
    {
        for (var round = 0; round < 3; round++)
        {
            var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));

            var pays = Enumerable.Range(0, 4).Select(_ => PayAsync(id)).ToList();
            var cancels = Enumerable.Range(0, 4).Select(_ => merchant.PostAsync($"/api/pre-orders/{id}/cancel", null)).ToList();
            await Task.WhenAll(pays.Concat(cancels));
            await DeliverWebhooksAsync();

            var status = (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString();
            var evt = Assert.Single(app.EventsFor(id));
            Assert.Equal("pre_order." + status, evt.GetProperty("event").GetString());
            var cancelled = cancels.Select(c => c.Result.StatusCode).ToList();
            Assert.All(cancelled, c => Assert.Contains(c, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
            var intent = await app.Get<PaymentIntents>().FindAsync(PreOrderService.PaymentSurface, PreOrderService.Partition(PreOrdersFactory.Merchant) + "|" + id, default);
            if (status == "paid")
            {
                Assert.DoesNotContain(HttpStatusCode.OK, cancelled);
                Assert.Equal(IntentStatus.Succeeded, intent!.Status);
            }
            else
            {
                Assert.Equal("cancelled", status);
                Assert.Single(cancelled, c => c == HttpStatusCode.OK);
                // A payment that got through before the intent closed is refunded, never kept.
                Assert.True(intent is null || intent.Status is IntentStatus.Cancelled or IntentStatus.Refunded, intent?.Status);
                if (intent?.Status == IntentStatus.Refunded)
                    Assert.All(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default), r => Assert.Equal(RefundStatus.Processed, r.Status));
            }
        }
    }

    [Fact]
    public async Task A_payment_at_the_expiry_instant_is_refused_and_the_pre_order_expires()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromMinutes(9));
        app.Time.Advance(TimeSpan.FromMinutes(9));

        var responses = await Task.WhenAll(PayAsync(id), PayAsync(id), app.RunDeadlinesAsync().ContinueWith(_ => new HttpResponseMessage(HttpStatusCode.Accepted)));
        await DeliverWebhooksAsync();

        Assert.All(responses.Take(2), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal("expired", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(["pre_order.expired"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task Webhook_deliveries_are_listed_for_the_admin_and_can_be_redelivered_with_the_same_id()
    {
        var (_, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));
        await PayAsync(id);
        await DeliverWebhooksAsync();
        var admin = app.Admin();

        var deliveries = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/merchants/{PreOrdersFactory.Merchant}/webhook/deliveries");
        var delivery = deliveries.EnumerateArray().First(d => d.GetProperty("event_type").GetString() == "pre_order.paid");
        var redeliver = await admin.PostAsync($"/api/admin/merchants/{PreOrdersFactory.Merchant}/webhook/deliveries/{delivery.GetProperty("id").GetString()}/redeliver", null);
        await DeliverWebhooksAsync();

        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal("delivered", delivery.GetProperty("state").GetString());
        var copies = app.MerchantHook.Received.Where(r => r.Text.Contains(id, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, copies.Count);
        Assert.Equal(copies[0].Header("webhook-id"), copies[1].Header("webhook-id"));
    }
}
