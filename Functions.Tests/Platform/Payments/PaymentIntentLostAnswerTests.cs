using System.Net;
using System.Net.Http.Json;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Payments;

/// <summary>
/// Storage did the write but its answer was lost: the SDK retries and meets its own first attempt (409 or 412).
/// Each write of the payments platform is recognised by its operation id: nothing is done twice, nothing is lost.
/// </summary>
public sealed class PaymentIntentLostAnswerTests(PaymentIntentLostAnswerTests.Factory app) : IClassFixture<PaymentIntentLostAnswerTests.Factory>
{
    public sealed class Factory : PaymentIntentFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    private string TablePath(string table) => "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(table);

    private void LoseBatchContaining(string table, string content)
    {
        var name = app.Get<StorageAccount>().TableName(table);
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch"
                                     && LossyStorageProxy.BodyOf(r) is var body && body.Contains(name, StringComparison.Ordinal)
                                     && body.Contains(content, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_intent_whose_first_insert_was_stored_but_not_answered_opens_one_provider_order()
    {
        var reference = PaymentIntentFactory.NewReference();
        var lost = app.Proxy!.Lost;
        var path = TablePath(PaymentIntents.TableName);
        app.Proxy.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == path);

        var checkout = await app.Intents.CheckoutAsync(app.Request(reference), CancellationToken.None);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(IntentStatus.Pending, checkout.Intent.Status);
        Assert.NotNull(checkout.CheckoutUrl);
        Assert.Single(await app.SandboxOrdersAsync(checkout.Intent.Id));
    }

    [Fact]
    public async Task A_refund_whose_record_was_stored_but_not_answered_is_one_refund()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference(), amountMinor: 80_00);
        await app.DeliverAsync(await app.CustomerAsync(intent));
        var lost = app.Proxy!.Lost;
        LoseBatchContaining(PaymentIntents.TableName, "\"Status\":\"requested\"");

        var result = await app.Intents.RefundAsync(intent.Id, "lost-refund", 30_00, "customer asked", CancellationToken.None);
        var again = await app.Intents.RefundAsync(intent.Id, "lost-refund", 30_00, "customer asked", CancellationToken.None);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(RefundOutcome.Requested, result.Outcome);
        Assert.Equal(result.Refund!.RefundId, again.Refund!.RefundId);
        var refund = Assert.Single(await app.RefundsAsync(intent.Id));
        Assert.Equal((RefundStatus.Processed, 30_00L), (refund.Status, refund.AmountMinor));
        var after = await app.IntentAsync(intent.Id);
        Assert.Equal((IntentStatus.PartiallyRefunded, 30_00L, 30_00L), (after.Status, after.RefundReservedMinor, after.RefundedMinor));
        Assert.Equal(30_00, (await app.SandboxOrdersAsync(intent.Id)).Single().RefundedMinor);
    }

    [Fact]
    public async Task A_success_whose_write_was_stored_but_not_answered_moves_the_intent_once_with_one_callback()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference());
        var lost = app.Proxy!.Lost;
        LoseBatchContaining(PaymentIntents.TableName, "\"Status\":\"succeeded\"");

        var response = await app.DeliverAsync(await app.CustomerAsync(intent));

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("stored", (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("status").GetString());
        Assert.Equal((IntentStatus.Succeeded, 2), ((await app.IntentAsync(intent.Id)).Status, (await app.IntentAsync(intent.Id)).Sequence));
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded], app.Surface.MovesOf(intent.Id));
    }

    [Fact]
    public async Task A_payout_whose_record_was_stored_but_not_answered_is_one_payout()
    {
        var payouts = app.Get<Payouts>();
        var order = new PayoutOrder(RecordingSurface.Name, "shop-" + Guid.NewGuid().ToString("N")[..6], "week-49", 500_00, "INR",
            new PayoutBankAccount("Shop", "HDFC0001234", "998877665544"), "Shop", null);
        var lost = app.Proxy!.Lost;
        var path = TablePath(Payouts.TableName);
        app.Proxy.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == path);

        var (outcome, payout) = await payouts.RequestAsync(order, CancellationToken.None);
        var (again, same) = await payouts.RequestAsync(order, CancellationToken.None);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal((PayoutOutcome.Requested, PayoutOutcome.Requested), (outcome, again));
        Assert.Equal(payout!.PayoutId, same!.PayoutId);
        Assert.Equal(PayoutStatus.Processed, (await payouts.FindAsync(payout.PayoutId, CancellationToken.None))!.Status);
    }
}
