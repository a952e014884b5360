using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Wallet;
using Serverless.Tests.Platform.Payments.Stripe;
using Serverless.Tests.Print;

namespace Serverless.Tests.Faults;

/// <summary>The whole print app paying through Stripe Checkout, Stripe's API a <see cref="FakeStripe"/> on loopback on the test clock.</summary>
public sealed class PrintStripeFactory : PrintFactory
{
    public PrintStripeFactory()
    {
        Stripe = new FakeStripe(Time);
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
    }

    public FakeStripe Stripe { get; }

    public override async Task InitializeAsync()
    {
        await Stripe.StartAsync();
        foreach (var (key, value) in Stripe.Settings)
            With(key, value);
        // A lost answer costs a second, not ten.
        With("Payments:Stripe:Timeout", "00:00:01");
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
    }

    public Task<HttpResponseMessage> DeliverAsync((string Json, string SignatureHeader, string EventId) stripeEvent)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/payments/webhooks/stripe") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(stripeEvent.Json)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Stripe-Signature", stripeEvent.SignatureHeader);
        return CreateClient().SendAsync(request);
    }
}

/// <summary>
/// Gateway faults against a print wallet top-up paid on Stripe Checkout, end to end: session creation failing or
/// answering nothing, the completed event 50 times at once, and no event at all (the reconciliation deadline asks
/// Stripe). The wallet is credited exactly once for a paid session and never for a failed one.
/// </summary>
public sealed class StripeTopupGatewayFaultTests(PrintStripeFactory app) : IClassFixture<PrintStripeFactory>
{
    private const string Sessions = "/v1/checkout/sessions";

    private FakeStripe Stripe => app.Stripe;

    private async Task<HttpResponseMessage> StartTopupAsync(PrintAccount customer, decimal amount, string? idempotencyKey = null)
    {
        var request = PrintFactory.Json(HttpMethod.Post, "/wallet/topup", new { amount }, customer.Token);
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await app.CreateClient().SendAsync(request);
    }

    /// <summary>A top-up the customer starts, and the Checkout Session it answers.</summary>
    private async Task<string> TopupSessionAsync(PrintAccount customer, decimal amount, string? idempotencyKey = null)
    {
        var response = await StartTopupAsync(customer, amount, idempotencyKey);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var body = JsonDocument.Parse(text).RootElement;
        var sessionId = body.GetProperty("order_id").GetString()!;
        Assert.Equal("https://checkout.stripe.com/c/pay/" + sessionId, body.GetProperty("checkout_url").GetString());
        Assert.Equal((long)(amount * 100), Stripe.Session(sessionId).AmountTotal);
        return sessionId;
    }

    private Task<PaymentIntent?> IntentAsync(string sessionId) =>
        app.Get<PaymentIntents>().FindByOrderAsync("stripe", sessionId, default);

    private async Task AssertWalletAsync(PrintAccount customer, decimal expected)
    {
        var balance = (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/balance")).GetProperty("balance").GetDecimal();
        var rows = (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/transactions")).GetProperty("transactions").EnumerateArray().ToList();
        Assert.Equal(expected, balance);
        Assert.Equal(balance, rows.Sum(r => r.GetProperty("amount").GetDecimal()));
        Assert.All(rows, r => Assert.Equal("topup", r.GetProperty("type").GetString()));
        Assert.Equal(expected == 0 ? 0 : 1, rows.Count);
        var ledger = app.Get<Ledger>();
        var (statement, _) = await ledger.StatementAsync(PrintWallets.Account(customer.Id), 100, 0);
        Assert.Equal((long)(expected * 100), (await ledger.BalanceAsync(PrintWallets.Account(customer.Id))).Available);
        Assert.Equal((long)(expected * 100), statement.Sum(r => r.Amount));
    }

    private async Task AssertSucceededOnceAsync(string sessionId)
    {
        var intent = (await IntentAsync(sessionId))!;
        Assert.Equal((IntentStatus.Succeeded, Stripe.Session(sessionId).PaymentIntentId, 2, 0), (intent.Status, intent.PaymentId, intent.Sequence, intent.RefundCount));
    }

    [Fact]
    public async Task A_server_error_on_session_creation_is_retried_under_one_idempotency_key_and_the_top_up_credited_once()
    {
        var customer = await app.SignUpAsync();
        var callsBefore = Stripe.CallsTo("POST", Sessions).Count;
        Stripe.Script("POST", Sessions, StripeFault.ServerError);

        var sessionId = await TopupSessionAsync(customer, 500);
        Stripe.Complete(sessionId);
        await app.DeliverAsync(Stripe.Event("checkout.session.completed", sessionId));

        var calls = Stripe.CallsTo("POST", Sessions).Skip(callsBefore).ToList();
        Assert.Equal(2, calls.Count);
        Assert.Single(calls.Select(c => c.IdempotencyKey).Distinct());
        await AssertWalletAsync(customer, 500);
        await AssertSucceededOnceAsync(sessionId);
    }

    [Fact]
    public async Task Session_creation_answering_nothing_then_the_customer_retrying_credits_once_from_the_one_session_paid()
    {
        var customer = await app.SignUpAsync();
        var sessionsBefore = Stripe.SessionCount;
        // Stripe makes the session, and neither the first attempt's answer nor the library's retries' arrive.
        Stripe.Script("POST", Sessions, StripeFault.AnswerLost, StripeFault.AnswerLost, StripeFault.AnswerLost);

        var first = await StartTopupAsync(customer, 250, "stripe-topup-retry");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(sessionsBefore + 1, Stripe.SessionCount);
        var sessionId = await TopupSessionAsync(customer, 250, "stripe-topup-retry");
        Stripe.Complete(sessionId);
        await app.DeliverAsync(Stripe.Event("checkout.session.completed", sessionId));

        await AssertWalletAsync(customer, 250);
        await AssertSucceededOnceAsync(sessionId);
    }

    [Fact]
    public async Task The_completed_event_delivered_fifty_times_at_once_credits_once()
    {
        var customer = await app.SignUpAsync();
        var sessionId = await TopupSessionAsync(customer, 300);
        Stripe.Complete(sessionId);
        var completed = Stripe.Event("checkout.session.completed", sessionId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.DeliverAsync(completed)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await AssertWalletAsync(customer, 300);
        await AssertSucceededOnceAsync(sessionId);
    }

    [Fact]
    public async Task A_paid_session_whose_event_never_arrives_is_credited_once_by_the_reconciliation_deadline()
    {
        var customer = await app.SignUpAsync();
        var sessionId = await TopupSessionAsync(customer, 450);
        Stripe.Complete(sessionId);

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();

        await AssertWalletAsync(customer, 450);
        await AssertSucceededOnceAsync(sessionId);
        // The event, arriving at last, changes nothing.
        await app.DeliverAsync(Stripe.Event("checkout.session.completed", sessionId));
        await AssertWalletAsync(customer, 450);
    }

    [Fact]
    public async Task A_delayed_payment_that_failed_whose_events_never_arrive_ends_with_no_money()
    {
        var customer = await app.SignUpAsync();
        var sessionId = await TopupSessionAsync(customer, 650);
        Stripe.CompleteAsync(sessionId);
        Stripe.AsyncFail(sessionId);

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        var failed = (await IntentAsync(sessionId))!;
        Assert.True(failed.Status is IntentStatus.Failed or IntentStatus.Created, failed.Status);
        Assert.Null(failed.PaymentId);
        await AssertWalletAsync(customer, 0);

        app.Time.Advance(TimeSpan.FromHours(1));
        await app.RunDeadlinesAsync();
        var over = (await IntentAsync(sessionId))!;
        Assert.Equal((IntentStatus.Expired, null), (over.Status, over.PaymentId));
        await AssertWalletAsync(customer, 0);
        Assert.Equal(0, Stripe.RefundCount);
    }
}
