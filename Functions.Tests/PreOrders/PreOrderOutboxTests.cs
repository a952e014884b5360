using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;
using Serverless.PreOrders;

namespace Serverless.Tests.PreOrders;

/// <summary>The webhook outbox channel, made to fail on demand as when the webhooks table is unreachable for a moment.</summary>
public sealed class FlakyWebhookChannel(IOutboxChannel inner) : IOutboxChannel
{
    private int _failBefore;
    private int _failAfter;

    public string Name => inner.Name;

    /// <summary>The next forward fails before the webhook is stored.</summary>
    public void FailNextBeforeDelivery() => Interlocked.Exchange(ref _failBefore, 1);

    /// <summary>The next forward stores the webhook, then fails (so its outbox rows stay behind).</summary>
    public void FailNextAfterDelivery() => Interlocked.Exchange(ref _failAfter, 1);

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _failBefore, 0) == 1)
            throw new RequestFailedException(503, "The webhooks table is unreachable.");
        await inner.DeliverAsync(message, cancellationToken);
        if (Interlocked.Exchange(ref _failAfter, 0) == 1)
            throw new RequestFailedException(503, "The answer of the webhooks table was lost.");
    }
}

public sealed class FlakyOutboxFactory : PreOrdersFactory
{
    public FlakyWebhookChannel Channel => Get<FlakyWebhookChannel>();

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        base.ConfigureTestServices(services);
        // Only the webhook channel is made flaky; the payment channels stay as they are.
        foreach (var webhooks in services.Where(d => d.ServiceType == typeof(IOutboxChannel) && d.ImplementationType == typeof(WebhookOutboxChannel)).ToList())
            services.Remove(webhooks);
        services.AddSingleton(sp => new FlakyWebhookChannel(new WebhookOutboxChannel(sp.GetRequiredService<WebhookPublisher>())));
        services.AddSingleton<IOutboxChannel>(sp => sp.GetRequiredService<FlakyWebhookChannel>());
    }
}

/// <summary>An event whose forwarding was cut short after its transition was stored is delivered by the outbox recovery, once.</summary>
public sealed class PreOrderOutboxTests(FlakyOutboxFactory app) : IClassFixture<FlakyOutboxFactory>
{
    private Outbox Outbox => app.Get<Outbox>();

    private Azure.Data.Tables.TableClient Orders => app.Get<StorageAccount>().Table(PreOrderService.TableName);

    private static string Partition => PreOrderService.Partition(PreOrdersFactory.Merchant);

    private async Task<(HttpClient Merchant, string Id)> NewPreOrderAsync(TimeSpan expiresIn)
    {
        var merchant = await app.MerchantClientAsync();
        return (merchant, (await app.CreateAsync(merchant, expiresIn)).GetProperty("id").GetString()!);
    }

    /// <summary>What the recovery messages of the operations left in the outbox do when they surface.</summary>
    private async Task<int> RecoverAsync()
    {
        var forwarded = 0;
        var operations = (await Outbox.PendingAsync(Orders, Partition))
            .Select(r => r.RowKey[OutboxRow.Prefix.Length..r.RowKey.LastIndexOf('|')]).Distinct().ToList();
        foreach (var operation in operations)
            forwarded += await Outbox.RecoverAsync(new OutboxRecoveryMessage(Orders.Name, Partition, operation), CancellationToken.None);
        return forwarded;
    }

    private List<string?> WebhookIdsFor(string id) =>
        app.MerchantHook.Received.Where(r => r.Text.Contains(id, StringComparison.Ordinal)).Select(r => r.Header("webhook-id")).ToList();

    [Fact]
    public async Task A_cancelled_event_whose_forward_failed_is_delivered_by_the_recovery_exactly_once()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));
        app.Channel.FailNextBeforeDelivery();

        var cancel = await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null);
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Empty(app.EventsFor(id));
        Assert.Single(await Outbox.PendingAsync(Orders, Partition));

        Assert.Equal(1, await RecoverAsync());
        Assert.Equal(0, await RecoverAsync());
        await app.DrainAsync();

        Assert.Equal(["pre_order.cancelled"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        Assert.Single(WebhookIdsFor(id));
        Assert.Empty(await Outbox.PendingAsync(Orders, Partition));
    }

    [Fact]
    public async Task A_paid_event_forwarded_before_the_forward_failed_is_not_sent_twice_by_the_recovery()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));
        app.Channel.FailNextAfterDelivery();

        var pay = await app.PayAsync(id);
        Assert.Equal(1, await RecoverAsync());
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.OK, pay.StatusCode);
        var paid = Assert.Single(app.EventsFor(id));
        Assert.Equal("pre_order.paid", paid.GetProperty("event").GetString());
        Assert.Single(WebhookIdsFor(id));
        var order = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");
        Assert.Equal(order.GetProperty("payment_details").GetProperty("transaction_id").GetString(),
            paid.GetProperty("data").GetProperty("payment_details").GetProperty("transaction_id").GetString());
    }

    [Fact]
    public async Task An_expired_event_whose_forward_failed_is_delivered_once_and_a_repeated_deadline_sends_nothing_more()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromMinutes(10));
        app.Time.Advance(TimeSpan.FromMinutes(10));
        app.Channel.FailNextBeforeDelivery();

        await app.RunDeadlinesAsync();
        await app.DrainAsync();
        Assert.Empty(app.EventsFor(id));
        Assert.Equal(1, await RecoverAsync());
        await app.Get<Serverless.Platform.Deadlines.DeadlineScheduler>().ScheduleAsync(PreOrderService.ExpiryDeadline, Partition + "|" + id, app.Time.GetUtcNow());
        await app.RunDeadlinesAsync();
        await app.DrainAsync();

        Assert.Equal("expired", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(["pre_order.expired"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        Assert.Single(WebhookIdsFor(id));
    }
}
