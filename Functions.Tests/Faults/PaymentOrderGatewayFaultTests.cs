using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Wallet;
using Serverless.Tests.Platform.Payments.Razorpay;
using Serverless.Tests.Print;

namespace Serverless.Tests.Faults;

/// <summary>
/// Gateway faults against a print payment order paid partly from the wallet and the rest on Razorpay (hybrid), end to
/// end: the wallet part is taken once and given back once when the order does not get paid, and a payment Razorpay
/// took is either the order's or refunded, never lost.
/// </summary>
public sealed class PaymentOrderGatewayFaultTests(PrintRazorpayFactory app) : IClassFixture<PrintRazorpayFactory>
{
    private FakeRazorpay Razorpay => app.Razorpay;

    private static object Order(decimal amount) => new
    {
        amount, use_wallet = true, print_type = "private", copies = 1, print_mode = "single", color_mode = "bw", paper_size = "A4",
    };

    private async Task<PrintAccount> FundedCustomerAsync(decimal rupees)
    {
        var customer = await app.SignUpAsync();
        Assert.Equal(MovementStatus.Applied, (await app.Ledger.CreditAsync(PrintWallets.Account(customer.Id), WalletKeys.Seed + Guid.NewGuid().ToString("N"),
            (long)(rupees * 100), memo: "Test funds")).Status);
        return customer;
    }

    private Task<HttpResponseMessage> CreateAsync(PrintAccount customer, decimal amount) =>
        app.Bearer(customer).PostAsJsonAsync("/create-payment-order", Order(amount));

    /// <summary>A hybrid order: its numeric id and the Razorpay order the rest is paid on.</summary>
    private async Task<(long Id, string RazorpayOrder)> HybridAsync(PrintAccount customer, decimal amount, decimal walletPart)
    {
        var response = await CreateAsync(customer, amount);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var order = JsonDocument.Parse(text).RootElement;
        Assert.Equal(("created", "hybrid", walletPart, amount - walletPart), (order.GetProperty("status").GetString(),
            order.GetProperty("payment_method").GetString(), order.GetProperty("wallet_amount").GetDecimal(), order.GetProperty("razorpay_amount").GetDecimal()));
        var razorpayOrder = order.GetProperty("order_id").GetString()!;
        Assert.Equal((long)((amount - walletPart) * 100), (long)Razorpay.Order(razorpayOrder)["amount"]!);
        return (order.GetProperty("id").GetInt64(), razorpayOrder);
    }

    private async Task<JsonElement> StatusAsync(PrintAccount customer, long id) =>
        await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{id}/status");

    private async Task AssertPaidAsync(PrintAccount customer, long id, string paymentId)
    {
        var status = await StatusAsync(customer, id);
        Assert.Equal(("paid", paymentId), (status.GetProperty("status").GetString(), status.GetProperty("payment_id").GetString()));
    }

    private async Task<List<(string? Type, decimal Amount)>> RowsAsync(PrintAccount customer) =>
        (await app.TransactionsAsync(customer)).Select(t => (t.GetProperty("type").GetString(), t.GetProperty("amount").GetDecimal())).Reverse().ToList();

    [Fact]
    public async Task Order_creation_timing_out_ends_the_order_with_its_wallet_part_returned_and_the_retry_is_paid_once()
    {
        var customer = await FundedCustomerAsync(100);
        Razorpay.Script("POST /v1/orders", RazorpayReply.Stalled);

        var first = await CreateAsync(customer, 250);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        await app.AssertWalletAsync(customer, 100);
        var (id, razorpayOrder) = await HybridAsync(customer, 250, 100);
        var paymentId = Razorpay.Pay(razorpayOrder);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            app.DeliverAsync(i % 2 == 0 ? Razorpay.Webhook("payment.captured", paymentId, razorpayOrder) : Razorpay.Webhook("order.paid", razorpayOrder, paymentId))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await AssertPaidAsync(customer, id, paymentId);
        await app.AssertWalletAsync(customer, 0);
        Assert.Equal([("topup", 100m), ("payment", -100m), ("refund", 100m), ("payment", -100m)], await RowsAsync(customer));
        var orders = (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/my-orders")).GetProperty("orders").EnumerateArray()
            .Select(o => o.GetProperty("status").GetString()).ToList();
        Assert.Equal(["paid", "expired"], orders);
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
    }

    [Fact]
    public async Task A_captured_payment_whose_webhook_never_arrives_pays_the_order_at_the_reconciliation_deadline()
    {
        var customer = await FundedCustomerAsync(40);
        var (id, razorpayOrder) = await HybridAsync(customer, 100, 40);
        var paymentId = Razorpay.Pay(razorpayOrder);

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();

        await AssertPaidAsync(customer, id, paymentId);
        await app.AssertWalletAsync(customer, 0);
        Assert.Equal([("topup", 40m), ("payment", -40m)], await RowsAsync(customer));
        // Past the order's lifetime nothing changes: it is paid, its wallet part stays spent.
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.RunDeadlinesAsync();
        await AssertPaidAsync(customer, id, paymentId);
        await app.AssertWalletAsync(customer, 0);
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
    }

    [Fact]
    public async Task A_failed_payment_whose_webhook_never_arrives_expires_the_order_and_returns_its_wallet_part_once()
    {
        var customer = await FundedCustomerAsync(60);
        var (id, razorpayOrder) = await HybridAsync(customer, 90, 60);
        Razorpay.Fail(razorpayOrder, "Payment was declined by the bank.");

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        Assert.Equal(IntentStatus.Failed, (await app.IntentOfOrderAsync(razorpayOrder))!.Status);
        Assert.Equal("created", (await StatusAsync(customer, id)).GetProperty("status").GetString());
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.RunDeadlinesAsync();

        Assert.Equal("expired", (await StatusAsync(customer, id)).GetProperty("status").GetString());
        Assert.Equal(IntentStatus.Expired, (await app.IntentOfOrderAsync(razorpayOrder))!.Status);
        await app.AssertWalletAsync(customer, 60);
        Assert.Equal([("topup", 60m), ("payment", -60m), ("refund", 60m)], await RowsAsync(customer));
    }

    [Fact]
    public async Task A_payment_made_just_before_the_order_expires_whose_webhook_never_arrives_is_not_lost()
    {
        var customer = await FundedCustomerAsync(30);
        var (id, razorpayOrder) = await HybridAsync(customer, 80, 30);
        // The reconciliation looks at 5, 10 and 20 minutes and finds nothing paid.
        app.Time.Advance(TimeSpan.FromMinutes(25));
        await app.RunDeadlinesAsync();
        Assert.Equal(IntentStatus.Pending, (await app.IntentOfOrderAsync(razorpayOrder))!.Status);

        // At minute 25 the customer pays; Razorpay's webhook is lost. At minute 30 the order's lifetime ends.
        var paymentId = Razorpay.Pay(razorpayOrder);
        app.Time.Advance(TimeSpan.FromMinutes(5));
        await app.RunDeadlinesAsync();

        var status = (await StatusAsync(customer, id)).GetProperty("status").GetString();
        var refunds = Razorpay.Refunds.Where(r => (string)r["payment_id"]! == paymentId).ToList();
        if (status == "paid")
        {
            // The payment counted: the wallet part stays spent, nothing is refunded.
            await AssertPaidAsync(customer, id, paymentId);
            await app.AssertWalletAsync(customer, 0);
            Assert.Empty(refunds);
        }
        else
        {
            // The order expired: its wallet part is back and the payment is refunded in full at Razorpay, once.
            Assert.Equal("expired", status);
            await app.AssertWalletAsync(customer, 30);
            Assert.Equal(50_00, (long)Assert.Single(refunds)["amount"]!);
        }
        // Its webhook, arriving at last, changes nothing.
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, razorpayOrder));
        Assert.Equal(status, (await StatusAsync(customer, id)).GetProperty("status").GetString());
        Assert.Equal(refunds.Count, Razorpay.Refunds.Count(r => (string)r["payment_id"]! == paymentId));
    }

    [Fact]
    public async Task An_order_expiring_before_the_reconciliation_looks_finds_the_payment_whose_webhook_was_lost_and_refunds_it_once()
    {
        var customer = await FundedCustomerAsync(30);
        var (id, razorpayOrder) = await HybridAsync(customer, 80, 30);
        app.Time.Advance(TimeSpan.FromMinutes(25));
        await app.RunDeadlinesAsync();
        var paymentId = Razorpay.Pay(razorpayOrder);
        var fetchesBefore = Razorpay.CallCount($"GET /v1/orders/{razorpayOrder}/payments");

        // At minute 30 the order's expiry deadline happens to run before the intent's reconciliation deadline.
        app.Time.Advance(TimeSpan.FromMinutes(5));
        await app.Get<Serverless.Print.Payments.PaymentOrders>().ExpireAsync(customer.Id, id, force: false, default);

        Assert.Equal("expired", (await StatusAsync(customer, id)).GetProperty("status").GetString());
        await app.AssertWalletAsync(customer, 30);
        Assert.Equal([("topup", 30m), ("payment", -30m), ("refund", 30m)], await RowsAsync(customer));
        Assert.Equal(1, Razorpay.CallCount($"GET /v1/orders/{razorpayOrder}/payments") - fetchesBefore);
        var refund = Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Assert.Equal(50_00, (long)refund["amount"]!);
        var intent = (await app.IntentOfOrderAsync(razorpayOrder))!;
        Assert.Equal((IntentStatus.Expired, paymentId), (intent.Status, intent.StrayPaymentId));
        var recorded = Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default));
        Assert.Equal(("late_payment", paymentId), (recorded.Reason, recorded.PaymentId));

        // The reconciliation deadline, the refund settling and the lost webhook arriving at last change nothing more.
        await app.RunDeadlinesAsync();
        Razorpay.ProcessRefund((string)refund["id"]!);
        await app.DeliverAsync(Razorpay.Webhook("refund.processed", (string)refund["id"]!, paymentId));
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, razorpayOrder));
        Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Assert.Equal(IntentStatus.Refunded, (await app.IntentOfOrderAsync(razorpayOrder))!.Status);
        Assert.Equal("expired", (await StatusAsync(customer, id)).GetProperty("status").GetString());
        await app.AssertWalletAsync(customer, 30);
    }

    [Fact]
    public async Task A_payment_taken_while_Razorpay_does_not_answer_at_the_orders_end_is_refunded_once_when_it_answers_again()
    {
        var customer = await FundedCustomerAsync(30);
        var (id, razorpayOrder) = await HybridAsync(customer, 80, 30);
        app.Time.Advance(TimeSpan.FromMinutes(25));
        await app.RunDeadlinesAsync();

        // The customer pays at minute 25; the webhook is lost, and Razorpay does not answer the looks around minute 30.
        var paymentId = Razorpay.Pay(razorpayOrder);
        Razorpay.Script($"GET /v1/orders/{razorpayOrder}", Enumerable.Repeat(RazorpayReply.ServerError(503), 30).ToArray());
        app.Time.Advance(TimeSpan.FromMinutes(5));
        await app.RunDeadlinesAsync();
        Assert.Equal("expired", (await StatusAsync(customer, id)).GetProperty("status").GetString());
        await app.AssertWalletAsync(customer, 30);
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);

        // Razorpay answers again: the next look finds the payment the order can no longer take, and it goes back.
        Razorpay.Script($"GET /v1/orders/{razorpayOrder}");
        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        app.Time.Advance(TimeSpan.FromHours(7));
        await app.RunDeadlinesAsync();

        var refund = Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Assert.Equal(50_00, (long)refund["amount"]!);
        var intent = (await app.IntentOfOrderAsync(razorpayOrder))!;
        Assert.Equal((IntentStatus.Expired, paymentId), (intent.Status, intent.StrayPaymentId));
        Assert.Equal("expired", (await StatusAsync(customer, id)).GetProperty("status").GetString());
        await app.AssertWalletAsync(customer, 30);
    }
}
