using System.Net;
using System.Net.Http.Json;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

/// <summary>What an order costs in storage requests (a class of its own: the order-number block is fresh).</summary>
public sealed class ECardOrderCostTests(ECardsFactory app) : IClassFixture<ECardsFactory>
{
    [Fact]
    public async Task Placing_an_order_delivered_at_once_costs_twelve_storage_requests()
    {
        var (_, partner) = await app.NewPartnerAsync(10_000);
        var (card, _) = await app.NewECardAsync(5);
        // The first order reserves a block of order numbers; the next ones take theirs from it.
        Assert.Equal(HttpStatusCode.OK, (await partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(card, 1)))).StatusCode);

        var response = await partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(card, 1)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (await Json(response)).GetProperty("status").GetString());
        // The partner's client row (the session check) was read by the order before: nothing; the catalogue, the pending mark, the debit's transaction with the order and its index row (3: the ledger reuses
        // the balance row its last movement left, the order's ETag comes from the transaction's answer); fulfilment from
        // the row the transaction wrote, read again by nothing: codes the order claimed earlier, available codes, the
        // claim, the assignment, the delivery, the emailed batch (6); the email, stored and queued (2); the pending row (1).
        // Reading the orderId index and the balance before placing made 15; reading the order back as well, 18.
        Assert.Equal("12", response.Headers.GetValues("X-Storage-Requests").Single());
    }
}
