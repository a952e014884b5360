using System.Net;
using System.Text;
using Serverless.Commerce.Catalog;
using Serverless.Commerce.Orders;
using Serverless.Platform.Payments;
using Serverless.Tests.Platform.Payments.Stripe;
using static Serverless.Tests.Commerce.Orders.CommerceOrdersFactory;

namespace Serverless.Tests.Commerce.Orders;

/// <summary>Commerce orders paid through Stripe Checkout (the payments platform's intents), Stripe a fake on loopback on the test clock.</summary>
public sealed class CommerceStripeTests(CommerceStripeTests.Factory app) : IClassFixture<CommerceStripeTests.Factory>
{
    public sealed class Factory : CommerceOrdersFactory
    {
        public Factory() => Stripe = new FakeStripe(Time);

        public FakeStripe Stripe { get; }

        public override async Task InitializeAsync()
        {
            await Stripe.StartAsync();
            With("Payments:Stripe:SecretKey", Stripe.SecretKey);
            With("Payments:Stripe:WebhookSecret", Stripe.WebhookSecret);
            With("Payments:Stripe:BaseUrl", Stripe.Url);
            await base.InitializeAsync();
            // This company takes USD cards through Stripe.
            await Catalog.Companies.UpsertEntityAsync(new CompanyPaymentOption
            {
                PartitionKey = CompanyId, RowKey = CompanyPaymentOption.RowKeyFor(Usd, "credit_card"), CurrencyId = Usd,
                PaymentMethod = "credit_card", Provider = CommerceProviders.Stripe,
            });
            Catalog.Forget(CompanyId);
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Stripe.DisposeAsync();
        }

        public Task<HttpResponseMessage> StripeWebhookAsync((string Json, string SignatureHeader, string EventId) stripeEvent)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/payments/webhooks/stripe") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(stripeEvent.Json)) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("Stripe-Signature", stripeEvent.SignatureHeader);
            return CreateClient().SendAsync(request);
        }

        public async Task<PaymentIntent> IntentAsync(string orderId)
        {
            var row = (await Get<CommerceOrders>().GetInCompanyAsync(CompanyId, orderId, CancellationToken.None))!;
            return (await Get<PaymentIntents>().FindAsync(CommerceOrders.Surface, CommerceOrders.Key(row), CancellationToken.None))!;
        }
    }

    [Fact]
    public async Task An_order_paid_on_Stripe_Checkout_is_delivered_once_however_often_Stripe_says_so()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1, usdMinor: 1000);
        var (buyer, _) = app.NewUser();

        var order = await CreatedAsync(await OrderAsync(buyer, product));

        Assert.Equal("stripe", order.GetProperty("paymentProvider").GetString());
        var id = order.GetProperty("id").GetString()!;
        var session = (await app.IntentAsync(id)).ProviderOrderId!;
        Assert.StartsWith("cs_", session);
        Assert.Equal(1060, app.Stripe.Session(session).AmountTotal);
        Assert.Equal(order.GetProperty("paymentInfo").GetProperty("paymentUrl").GetString(), (await app.IntentAsync(id)).CheckoutUrl);

        app.Stripe.Complete(session);
        var completed = app.Stripe.Event("checkout.session.completed", session);
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => app.StripeWebhookAsync(completed)));
        await app.DeliverAsync();
        await app.DrainAsync();

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal("concluded", (await GetAsync(buyer, $"/companies/{CommerceFactory.CompanyId}/orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(TokenStatus.Sold, (await app.TokenAsync(product, tokens[0]))!.Status);
        Assert.Equal(1, app.EventsFor(id).Count(e => e == "order.waiting_delivery"));
    }

    [Fact]
    public async Task An_order_that_expires_unpaid_expires_its_Stripe_session_and_fetching_the_newest_status_reads_it()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var order = await CreatedAsync(await OrderAsync(buyer, product));
        var id = order.GetProperty("id").GetString()!;
        var session = (await app.IntentAsync(id)).ProviderOrderId!;

        // Paid on Stripe, its webhook not arrived yet: fetchNewestStatus asks Stripe and applies the answer.
        app.Stripe.Complete(session);
        var fetched = await GetAsync(buyer, $"/companies/{CommerceFactory.CompanyId}/orders/{id}?fetchNewestStatus=true");
        Assert.Equal("waiting_delivery", fetched.GetProperty("status").GetString());

        var (other, _) = await app.AddProductAsync(tokens: 1);
        var unpaid = await CreatedAsync(await OrderAsync(buyer, other));
        var unpaidId = unpaid.GetProperty("id").GetString()!;
        var unpaidSession = (await app.IntentAsync(unpaidId)).ProviderOrderId!;
        app.Time.Advance(TimeSpan.FromMinutes(9));
        await app.RunDeadlinesAsync();

        Assert.Equal("expired", app.Stripe.Session(unpaidSession).Status);
        Assert.Equal(IntentStatus.Expired, (await app.IntentAsync(unpaidId)).Status);
        Assert.Equal("expired", (await GetAsync(buyer, $"/companies/{CommerceFactory.CompanyId}/orders/{unpaidId}")).GetProperty("status").GetString());
        _ = tokens;
    }

    [Fact]
    public async Task A_create_whose_Stripe_call_fails_leaves_no_order_and_no_booked_token()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        app.Stripe.Script("POST", "/v1/checkout/sessions", StripeFault.ServerError, StripeFault.ServerError, StripeFault.ServerError, StripeFault.ServerError);

        var response = await OrderAsync(buyer, product);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, tokens[0]))!.Status);
        var list = await GetAsync(buyer, $"/companies/{CommerceFactory.CompanyId}/orders");
        Assert.Equal(0, list.GetProperty("meta").GetProperty("totalItems").GetInt32());
        // The next try goes through.
        app.Stripe.Script("POST", "/v1/checkout/sessions");
        await CreatedAsync(await OrderAsync(buyer, product));
    }
}
