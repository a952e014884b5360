using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.PreOrders;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.PreOrders;

/// <summary>
/// Storage did an insert but its answer was lost (a network timeout, a dropped connection): the SDK retries the
/// insert, and the retry meets the row its own first attempt wrote, as 409 EntityAlreadyExists.
/// </summary>
public sealed class PreOrderLostAnswerTests(PreOrderLostAnswerTests.Factory app) : IClassFixture<PreOrderLostAnswerTests.Factory>
{
    /// <summary>The pre-orders app with its table endpoint behind a proxy that can lose answers.</summary>
    public sealed class Factory : PreOrdersFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    [Theory]
    [InlineData(PreOrderService.LinkTableName)]
    [InlineData(PreOrderService.TableName)]
    public async Task A_create_whose_insert_was_stored_but_not_answered_is_created_once_with_its_link_and_expiry(string lossyTable)
    {
        var merchant = await app.MerchantClientAsync();
        var path = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(lossyTable);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == path);

        var response = await merchant.PostAsJsonAsync("/api/pre-orders", PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1))));

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var read = await merchant.GetAsync($"/api/pre-orders/{id}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("pending", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync($"/pay/{id}/status")).StatusCode);
        var key = PreOrderService.Partition(PreOrdersFactory.Merchant) + "|" + id;
        var deadlines = app.Get<StorageAccount>().Table(DeadlineScheduler.TableName)
            .QueryAsync<DeadlineRow>(TableClient.CreateQueryFilter($"Key eq {key}"));
        Assert.Single(await deadlines.ToListAsync());
    }

    [Fact]
    public async Task A_keyed_create_whose_key_claim_was_stored_but_not_answered_goes_ahead_and_replays_later()
    {
        var merchant = await app.MerchantClientAsync();
        var path = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(Serverless.Platform.Http.IdempotencyMiddleware.TableName);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == path);
        var body = PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1)));
        HttpRequestMessage Keyed() => new(HttpMethod.Post, "/api/pre-orders")
        {
            Content = JsonContent.Create(body), Headers = { { "Idempotency-Key", "lost-claim-" + app.Prefix } },
        };

        var response = await merchant.SendAsync(Keyed());

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var replay = await merchant.SendAsync(Keyed());
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await response.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_keyed_create_whose_stored_answer_was_not_acknowledged_still_answers_201_and_replays()
    {
        var merchant = await app.MerchantClientAsync();
        var table = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(Serverless.Platform.Http.IdempotencyMiddleware.TableName) + "(";
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.StartsWith(table, StringComparison.Ordinal));
        var body = PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1)));
        HttpRequestMessage Keyed() => new(HttpMethod.Post, "/api/pre-orders")
        {
            Content = JsonContent.Create(body), Headers = { { "Idempotency-Key", "lost-completion-" + app.Prefix } },
        };

        var response = await merchant.SendAsync(Keyed());

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var replay = await merchant.SendAsync(Keyed());
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await response.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
    }

    /// <summary>A write of one pre-order row: a conditional replace, or the entity-group transaction that carries its events.</summary>
    private Func<HttpRequest, bool> PreOrderWrite(params string[] methods)
    {
        var entity = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(PreOrderService.TableName) + "(";
        return r => (methods.Contains(r.Method) && r.Path.Value!.StartsWith(entity, StringComparison.Ordinal))
                    || (methods.Contains("$batch") && r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");
    }

    private async Task<(HttpClient Merchant, string Id)> NewPreOrderAsync(TimeSpan expiresIn)
    {
        var merchant = await app.MerchantClientAsync();
        return (merchant, (await app.CreateAsync(merchant, expiresIn)).GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task A_cancel_whose_write_was_stored_but_not_answered_answers_200_and_sends_one_cancelled_event()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(PreOrderWrite("PUT", "$batch"));

        var response = await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null);
        await app.DrainAsync();

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cancelled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(["pre_order.cancelled"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, (await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null)).StatusCode);
    }

    [Theory]
    [InlineData(PaymentIntents.TableName, "\"Status\":\"pending\"")] // the intent records the provider's order
    [InlineData(InboundEvents.TableName, "\"Status\":\"received\"")] // the provider's event is stored
    [InlineData(PaymentIntents.TableName, "\"Status\":\"succeeded\"")] // the intent is paid, with its callback
    [InlineData(PreOrderService.TableName, "\"Status\":\"paid\"")] // the pre-order is paid, with its webhook
    public async Task A_payment_whose_write_was_stored_but_not_answered_pays_once_and_sends_one_paid_event(string table, string content)
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromDays(1));
        var lost = app.Proxy!.Lost;
        var name = app.Get<StorageAccount>().TableName(table);
        app.Proxy.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch"
                                    && LossyStorageProxy.BodyOf(r) is var body && body.Contains(name, StringComparison.Ordinal)
                                    && body.Contains(content, StringComparison.Ordinal));

        var response = await app.PayAsync(id);
        await app.DrainAsync();

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var order = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");
        Assert.Equal("paid", order.GetProperty("status").GetString());
        var paid = Assert.Single(app.EventsFor(id));
        Assert.Equal("pre_order.paid", paid.GetProperty("event").GetString());
        Assert.Equal(order.GetProperty("payment_details").GetProperty("transaction_id").GetString(),
            paid.GetProperty("data").GetProperty("payment_details").GetProperty("transaction_id").GetString());
        var intent = await app.Get<PaymentIntents>().FindAsync(PreOrderService.PaymentSurface, PreOrderService.Partition(PreOrdersFactory.Merchant) + "|" + id, default);
        Assert.Equal(IntentStatus.Succeeded, intent!.Status);
        Assert.Equal(2, intent.Sequence); // pending, succeeded: each move once
    }

    [Fact]
    public async Task An_expiry_whose_write_was_stored_but_not_answered_expires_once_with_one_expired_event()
    {
        var (merchant, id) = await NewPreOrderAsync(TimeSpan.FromMinutes(10));
        app.Time.Advance(TimeSpan.FromMinutes(10));
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(PreOrderWrite("PUT", "$batch"));

        await app.RunDeadlinesAsync();
        await app.DrainAsync();

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal("expired", (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(["pre_order.expired"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task A_keyed_create_whose_takeover_of_an_expired_key_was_stored_but_not_answered_goes_ahead()
    {
        var merchant = await app.MerchantClientAsync();
        HttpRequestMessage Keyed() => new(HttpMethod.Post, "/api/pre-orders")
        {
            Content = JsonContent.Create(PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1)))),
            Headers = { { "Idempotency-Key", "lost-takeover-" + app.Prefix } },
        };
        var first = await merchant.SendAsync(Keyed());
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        app.Time.Advance(Serverless.Platform.Http.IdempotencyMiddleware.Retention + TimeSpan.FromMinutes(1));
        merchant = await app.MerchantClientAsync();
        var table = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(Serverless.Platform.Http.IdempotencyMiddleware.TableName) + "(";
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.StartsWith(table, StringComparison.Ordinal));

        var second = await merchant.SendAsync(Keyed());

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        var replay = await merchant.SendAsync(Keyed());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await second.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_insert_that_meets_another_row_under_its_keys_is_still_a_conflict()
    {
        var links = app.Get<StorageAccount>().Table(PreOrderService.LinkTableName);
        var id = PreOrderService.NewId(app.Time.GetUtcNow());
        await links.AddEntityAsync(new PreOrderLink { PartitionKey = id, RowKey = "", MerchantId = PreOrdersFactory.OtherMerchant });

        var conflict = await Assert.ThrowsAsync<RequestFailedException>(() => links.AddOnceAsync(
            new PreOrderLink { PartitionKey = id, RowKey = "", MerchantId = PreOrdersFactory.Merchant },
            stored => stored.MerchantId == PreOrdersFactory.Merchant));

        Assert.Equal(409, conflict.Status);
    }
}
