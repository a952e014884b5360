using System.Net;
using Serverless.Commerce.Catalog;
using Serverless.Commerce.Orders;
using Serverless.Platform.Payments;
using Serverless.Tests.Commerce;
using Serverless.Tests.Commerce.Orders;
using Serverless.Tests.Platform.Payments.Stripe;
using static Serverless.Tests.Commerce.Orders.CommerceOrdersFactory;

namespace Serverless.Tests.Faults;

/// <summary>
/// Gateway faults against a commerce order paid on Stripe Checkout, end to end (the app as
/// <see cref="CommerceStripeTests.Factory"/> wires it to a loopback Stripe): the order is delivered once for a paid
/// session, and a payment Stripe took for an order that expired goes back to the buyer, webhook or not.
/// </summary>
public sealed class CommerceStripeGatewayFaultTests(CommerceStripeTests.Factory app) : IClassFixture<CommerceStripeTests.Factory>
{
    private const string Sessions = "/v1/checkout/sessions";

    private FakeStripe Stripe => app.Stripe;

    private async Task<(long Buyer, string ProductId, string TokenId, string OrderId, string Session)> OrderAsync()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1, usdMinor: 1000);
        var (buyer, userId) = app.NewUser();
        var order = await CreatedAsync(await CommerceOrdersFactory.OrderAsync(buyer, product));
        var id = order.GetProperty("id").GetString()!;
        return (userId, product, tokens[0], id, (await app.IntentAsync(id)).ProviderOrderId!);
    }

    /// <summary>The order as its buyer reads it, with a token issued now (the test clock moves past earlier ones).</summary>
    private async Task<string?> StatusAsync(long buyer, string id)
    {
        var token = app.Get<Serverless.Platform.Identity.TokenService>().IssueForUser(Serverless.Platform.Identity.TokenAudiences.Commerce, buyer,
            "buyer" + buyer, [Serverless.Commerce.CommerceRoles.User], 0,
            claims: new Dictionary<string, object> { [Serverless.Commerce.CommerceClaims.Company] = CommerceFactory.CompanyId }).Token;
        return (await GetAsync(app.WithToken(token), $"/companies/{CommerceFactory.CompanyId}/orders/{id}")).GetProperty("status").GetString();
    }

    [Fact]
    public async Task A_session_whose_creation_answer_was_lost_is_answered_by_the_retry_and_the_order_holds_its_one_token()
    {
        var sessionsBefore = Stripe.SessionCount;
        var callsBefore = Stripe.CallsTo("POST", Sessions).Count;
        Stripe.Script("POST", Sessions, StripeFault.AnswerLost);

        var (buyer, product, token, id, session) = await OrderAsync();

        Assert.Equal(sessionsBefore + 1, Stripe.SessionCount);
        var calls = Stripe.CallsTo("POST", Sessions).Skip(callsBefore).ToList();
        Assert.Equal([false, true], calls.Select(c => c.Replayed));
        Assert.Equal(TokenStatus.LockedByBooking, (await app.TokenAsync(product, token))!.Status);
        Stripe.Complete(session);
        await app.StripeWebhookAsync(Stripe.Event("checkout.session.completed", session));
        await app.DeliverAsync();
        await app.DrainAsync();
        Assert.Equal("concluded", await StatusAsync(buyer, id));
        Assert.Equal(TokenStatus.Sold, (await app.TokenAsync(product, token))!.Status);
    }

    [Fact]
    public async Task A_paid_session_whose_webhook_never_arrives_is_delivered_once_by_the_reconciliation_deadline()
    {
        var (buyer, product, token, id, session) = await OrderAsync();
        var refundsBefore = Stripe.RefundCount;
        Stripe.Complete(session);

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        await app.DeliverAsync();
        await app.DrainAsync();

        Assert.Equal("concluded", await StatusAsync(buyer, id));
        Assert.Equal(TokenStatus.Sold, (await app.TokenAsync(product, token))!.Status);
        var intent = await app.IntentAsync(id);
        Assert.Equal((IntentStatus.Succeeded, Stripe.Session(session).PaymentIntentId, 2), (intent.Status, intent.PaymentId, intent.Sequence));
        // The event arriving at last, and the order's expiry time passing, change nothing.
        await app.StripeWebhookAsync(Stripe.Event("checkout.session.completed", session));
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.RunDeadlinesAsync();
        await app.DeliverAsync();
        await app.DrainAsync();
        Assert.Equal("concluded", await StatusAsync(buyer, id));
        Assert.Equal(1, app.EventsFor(id).Count(e => e == "order.waiting_delivery"));
        Assert.Equal(refundsBefore, Stripe.RefundCount);
    }

    [Fact]
    public async Task A_payment_made_just_before_the_order_expired_its_webhook_lost_is_refunded_once_when_the_order_expires()
    {
        var (buyer, product, token, id, session) = await OrderAsync();
        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync(); // the first look finds nothing paid
        var refundsBefore = Stripe.RefundCount;
        Stripe.Complete(session);

        // The order's expiry deadline runs before the intent's next look.
        app.Time.Advance(TimeSpan.FromHours(1));
        var row = (await app.Get<CommerceOrders>().GetInCompanyAsync(CommerceFactory.CompanyId, id, CancellationToken.None))!;
        await app.Get<CommerceOrders>().ExpireAsync(row.PartitionKey, row.RowKey, CancellationToken.None);

        Assert.Equal("expired", await StatusAsync(buyer, id));
        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, token))!.Status);
        Assert.Equal(refundsBefore + 1, Stripe.RefundCount);
        var intent = await app.IntentAsync(id);
        // Stripe answers the refund succeeded at once: the expired intent's stray payment is refunded.
        Assert.Equal((IntentStatus.Refunded, Stripe.Session(session).PaymentIntentId), (intent.Status, intent.StrayPaymentId));
        var refund = Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default));
        Assert.Equal(("late_payment", 1060L, RefundStatus.Processed), (refund.Reason, refund.AmountMinor, refund.Status));

        // The webhook arriving at last (Stripe signs each delivery when it sends it), and the deadlines, neither pay the
        // order nor refund twice.
        Assert.Equal(HttpStatusCode.OK, (await app.StripeWebhookAsync(Stripe.Event("checkout.session.completed", session))).StatusCode);
        await app.RunDeadlinesAsync();
        await app.DeliverAsync();
        await app.DrainAsync();
        Assert.Equal("expired", await StatusAsync(buyer, id));
        Assert.Equal(refundsBefore + 1, Stripe.RefundCount);
        Assert.DoesNotContain("order.waiting_delivery", app.EventsFor(id));
    }
}
