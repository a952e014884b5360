using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.ECards;
using Serverless.Platform.Storage;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

/// <summary>
/// Storage did a write but its answer was lost (a network timeout, a dropped connection): the SDK retries it, and
/// the retry meets what its own first attempt did (409 on an insert, 412 on an ETag-conditional change).
/// </summary>
public sealed class ECardLostAnswerTests(ECardLostAnswerTests.Factory app) : IClassFixture<ECardLostAnswerTests.Factory>
{
    /// <summary>The e-cards app with its table endpoint behind a proxy that can lose answers.</summary>
    public sealed class Factory : ECardsFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    [Fact]
    public async Task A_cancel_whose_transaction_was_stored_but_not_answered_answers_cancelled_refunds_once_and_returns_the_codes()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(2000);
        var (card, _) = await app.NewECardAsync(2);
        var orderId = Guid.NewGuid().ToString();
        var stock = app.Get<CertificateStock>();
        // An order whose fulfilment claimed its codes and stopped before delivering them.
        await app.Get<ECardFulfilment>().MarkPendingAsync(partnerId, orderId);
        await app.Get<PartnerAccounts>().PlaceAsync(partnerId, new OrderDraft(orderId, "fingerprint", "lost@example.test", "John Doe", "79251153242",
            [new OrderLine(card, $"Card {card}", "500 ₽", 500, 2)]));
        Assert.Equal(2, (await stock.ClaimAsync(card, "500 ₽", ECardFulfilment.OrderKey(partnerId, orderId), 2, new HashSet<string>())).Count);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await app.Admin().PostAsync($"/v1/admin/partners/{partnerId}/orders/{orderId}/cancel", null);

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Cancelled", (await Json(response)).GetProperty("status").GetString());
        Assert.Equal("Cancelled", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status")).GetProperty("status").GetString());
        Assert.Equal(2, await stock.CountAvailableAsync(card, "500 ₽"));
        Assert.Equal((2000L, 2000L, 1), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task A_top_up_whose_transaction_was_stored_but_not_answered_answers_applied_and_credits_once()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(1000);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await app.Admin().PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 500, reference = "lost-topup" });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.True(body.GetProperty("applied").GetBoolean());
        Assert.Equal("1500", body.GetProperty("balance").GetString());
        Assert.Equal("1500", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Equal((1500L, 1500L, 0), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task An_order_whose_placing_transaction_was_stored_but_not_answered_is_placed_and_charged_once()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(2000);
        var (card, _) = await app.NewECardAsync(1);
        var orderId = Guid.NewGuid().ToString();
        var lost = app.Proxy!.Lost;
        // The first transaction of an order is its debit with the order and its index row.
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(card, 1)));

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (await Json(response)).GetProperty("status").GetString());
        Assert.Equal(1, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
        Assert.Equal((1500L, 1500L, 1), await app.MoneyAsync(partnerId));
        var again = await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(card, 1)));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((1500L, 1500L, 1), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task A_fulfilment_status_change_whose_write_was_stored_but_not_answered_carries_the_order_on_to_delivery()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(2000);
        var (card, _) = await app.NewECardAsync(0);
        var orderId = Guid.NewGuid().ToString();
        var email = $"{Guid.NewGuid():N}@example.test";
        await partner.PostAsJsonAsync("/v1/orders", OrderFor(orderId, email, Line(card, 2)));
        Assert.Equal("AwaitingCertificateAssignment", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status")).GetProperty("status").GetString());
        await app.Get<CertificateStock>().LoadAsync(card, "500 ₽", [$"LATE-{card}-1", $"LATE-{card}-2"]);
        var orders = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(PartnerAccounts.TableName) + "(";
        var lost = app.Proxy!.Lost;
        // The first change of the order row: its codes recorded, AwaitingCertificateAssignment → ReadyForDelivery.
        app.Proxy!.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.StartsWith(orders, StringComparison.Ordinal));

        var order = await app.Get<ECardFulfilment>().FulfilAsync(partnerId, orderId);

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(ECardOrderStatus.Delivered, order!.Status);
        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");
        Assert.Equal("Delivered", details.GetProperty("status").GetString());
        Assert.Equal(2, details.GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("code").GetString()).Distinct().Count());
        Assert.Single(await app.EmailsAsync(email));
        Assert.Equal(0, await app.Get<CertificateStock>().CountAvailableAsync(card, "500 ₽"));
    }

    [Fact]
    public async Task A_code_claim_whose_write_was_stored_but_not_answered_goes_to_the_order_that_claimed_it()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(2000);
        var (card, codes) = await app.NewECardAsync(1);
        var orderId = Guid.NewGuid().ToString();
        var stock = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(CertificateStock.TableName) + "(";
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.StartsWith(stock, StringComparison.Ordinal));

        var response = await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(card, 1)));

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (await Json(response)).GetProperty("status").GetString());
        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");
        Assert.Equal(codes[0], Assert.Single(details.GetProperty("certificates").EnumerateArray()).GetProperty("code").GetString());
        Assert.Equal(0, await app.Get<CertificateStock>().CountAvailableAsync(card, "500 ₽"));
        Assert.Equal((1500L, 1500L, 1), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task A_code_whose_index_insert_was_stored_but_not_answered_is_added_to_stock()
    {
        var (card, _) = await app.NewECardAsync(0);
        var path = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(CertificateStock.IndexTableName);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == path);

        var response = await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { $"LOST-INDEX-{card}" } });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal(1, body.GetProperty("added").GetInt32());
        Assert.Equal(0, body.GetProperty("duplicates").GetInt32());
        Assert.Equal(1, body.GetProperty("available").GetInt32());
    }
}
