using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.ECards;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

/// <summary>Races: money is never lost, created or spent twice, and a code is never issued twice.</summary>
public sealed class ECardConcurrencyTests(ECardsFactory app) : IClassFixture<ECardsFactory>
{
    [Fact]
    public async Task Twenty_concurrent_retries_of_one_order_make_one_order_and_one_debit()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(10_000);
        var orderId = Guid.NewGuid().ToString();
        var body = Order(orderId, Line(1, 2, "500 ₽"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => partner.PostAsJsonAsync("/v1/orders", body)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var numbers = await Task.WhenAll(responses.Select(async r => (await Json(r)).GetProperty("number").GetInt64()));
        Assert.Single(numbers.Distinct());
        Assert.Equal((9000L, 9000L, 1), await app.MoneyAsync(partnerId));
        Assert.Equal(1, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");
        Assert.Equal("Delivered", details.GetProperty("status").GetString());
        Assert.Equal(2, details.GetProperty("certificates").GetArrayLength());
    }

    [Fact]
    public async Task Concurrent_orders_racing_for_the_last_balance_never_overdraw()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(1500);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(2, 1, "500 ₽")))));

        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        var placed = statuses.Count(s => s == 200);
        // The balance covers exactly three: three are placed, and every other one is refused for want of money.
        Assert.Equal(3, placed);
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.All(refused, r => Assert.Equal(HttpStatusCode.PaymentRequired, r.StatusCode));
        foreach (var response in refused)
            Assert.Equal("insufficient_balance", (await Json(response)).GetProperty("error").GetString());
        var money = await app.MoneyAsync(partnerId);
        Assert.Equal(1500 - placed * 500, money.Balance);
        Assert.True(money.Balance >= 0);
        Assert.Equal(money.Balance, money.LedgerSum);
        Assert.Equal(placed, money.Debits);
        Assert.Equal(placed, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
        // Enough requests came in that the balance ran out: the last ones were refused for that reason.
        Assert.Contains(402, statuses);
    }

    [Fact]
    public async Task Concurrent_orders_racing_for_the_last_codes_never_share_a_code()
    {
        var (card, codes) = await app.NewECardAsync(5);
        var partners = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => app.NewPartnerAsync(10_000)));
        var orders = partners.SelectMany(p => Enumerable.Range(0, 2).Select(_ => (Partner: p, OrderId: Guid.NewGuid().ToString()))).ToList();

        var responses = await Task.WhenAll(orders.Select(o => o.Partner.Client.PostAsJsonAsync("/v1/orders", Order(o.OrderId, Line(card, 1)))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var details = await Task.WhenAll(orders.Select(o => o.Partner.Client.GetFromJsonAsync<JsonElement>($"/v1/orders/{o.OrderId}")));
        var issued = details.SelectMany(d => d.GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("code").GetString()!)).ToList();
        Assert.Equal(5, issued.Count);
        Assert.Equal(issued.Count, issued.Distinct().Count());
        Assert.All(issued, code => Assert.Contains(code, codes));
        Assert.Equal(5, details.Count(d => d.GetProperty("status").GetString() == "Delivered"));
        Assert.Equal(3, details.Count(d => d.GetProperty("status").GetString() == "AwaitingCertificateAssignment"));
        Assert.Equal(0, await app.Get<CertificateStock>().CountAvailableAsync(card, "500 ₽"));

        // Stock arrives: the three waiting orders are delivered with new codes, none reused.
        var load = await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { "N1", "N2", "N3", "N4" } });
        Assert.Equal(1, (await Json(load)).GetProperty("available").GetInt32());
        var after = await Task.WhenAll(orders.Select(o => o.Partner.Client.GetFromJsonAsync<JsonElement>($"/v1/orders/{o.OrderId}")));
        var all = after.SelectMany(d => d.GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("code").GetString()!)).ToList();
        Assert.Equal(8, all.Distinct().Count());
        Assert.All(after, d => Assert.Equal("Delivered", d.GetProperty("status").GetString()));
        foreach (var (id, _) in partners)
        {
            var money = await app.MoneyAsync(id);
            Assert.Equal((9000L, 9000L, 2), money);
        }
    }

    [Fact]
    public async Task Concurrent_top_ups_and_orders_keep_the_ledger_equal_to_the_balance()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(1000);
        var admin = app.Admin();

        var work = Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? admin.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 100, reference = $"topup-{i}" })
            : partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(1, 1, "100 ₽"))));
        var responses = await Task.WhenAll(work);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var money = await app.MoneyAsync(partnerId);
        Assert.Equal(1000L, money.Balance);
        Assert.Equal(money.Balance, money.LedgerSum);
        Assert.Equal(4, money.Debits);
    }
    [Fact]
    public async Task Concurrent_fulfilment_runs_of_one_order_assign_exactly_what_was_ordered_and_lose_no_stock()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(10_000);
        var (card, _) = await app.NewECardAsync(0);
        var orderId = Guid.NewGuid().ToString();
        await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(card, 3)));
        await app.Get<CertificateStock>().LoadAsync(card, "500 ₽", Enumerable.Range(0, 10).Select(i => $"RUN-{card}-{i}").ToList());

        var fulfilment = app.Get<ECardFulfilment>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => fulfilment.FulfilAsync(partnerId, orderId)));

        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");
        Assert.Equal("Delivered", details.GetProperty("status").GetString());
        var codes = details.GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("code").GetString()).ToList();
        Assert.Equal(3, codes.Distinct().Count());
        Assert.Equal(3, codes.Count);
        var table = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(CertificateStock.TableName);
        var rows = new List<StockCodeRow>();
        await foreach (var row in table.QueryAsync<StockCodeRow>(r => r.PartitionKey == CertificateStock.Slot(card, "500 ₽")))
            rows.Add(row);
        Assert.Equal(7, rows.Count(r => r.State == StockCodeRow.Available));
        Assert.All(codes, code => Assert.Equal(StockCodeRow.Assigned, rows.Single(r => r.Code == code).State));
    }

    [Fact]
    public async Task A_cancel_racing_fulfilment_either_cancels_and_refunds_with_every_code_back_or_is_refused_and_the_order_delivered()
    {
        var outcomes = new List<string>();
        for (var round = 0; round < 6; round++)
        {
            var (partnerId, partner) = await app.NewPartnerAsync(3000);
            var (card, _) = await app.NewECardAsync(0);
            var orderId = Guid.NewGuid().ToString();
            var email = $"{Guid.NewGuid():N}@example.test";
            await partner.PostAsJsonAsync("/v1/orders", OrderFor(orderId, email, Line(card, 2)));
            var stock = app.Get<CertificateStock>();
            await stock.LoadAsync(card, "500 ₽", [$"RACE-{card}-1", $"RACE-{card}-2"]);
            var fulfilment = app.Get<ECardFulfilment>();

            var fulfil = fulfilment.FulfilAsync(partnerId, orderId);
            var cancel = app.Admin().PostAsync($"/v1/admin/partners/{partnerId}/orders/{orderId}/cancel", null);
            await Task.WhenAll(fulfil, cancel);
            // What the pending run does after either request stopped: nothing left half done.
            await fulfilment.FulfilAsync(partnerId, orderId);

            var status = (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}")).GetProperty("status").GetString();
            var money = await app.MoneyAsync(partnerId);
            Assert.Equal(money.Balance, money.LedgerSum);
            Assert.Equal(1, money.Debits);
            if ((await cancel).StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("Cancelled", status);
                Assert.Equal(3000L, money.Balance);
                Assert.Equal(2, await stock.CountAvailableAsync(card, "500 ₽"));
                Assert.Empty(await app.EmailsAsync(email));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Conflict, (await cancel).StatusCode);
                Assert.Equal("Delivered", status);
                Assert.Equal(2000L, money.Balance);
                Assert.Equal(0, await stock.CountAvailableAsync(card, "500 ₽"));
                Assert.Single(await app.EmailsAsync(email));
            }
            outcomes.Add(status!);
        }
        Assert.All(outcomes, o => Assert.Contains(o, new[] { "Cancelled", "Delivered" }));
    }
}
