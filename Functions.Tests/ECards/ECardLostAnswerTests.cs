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
