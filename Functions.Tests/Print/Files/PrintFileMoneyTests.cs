using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Files;
using Serverless.Print.Payments;

namespace Serverless.Tests.Print.Files;

/// <summary>The money of print files: partial refunds of hybrid orders, uploads racing for one order, answers lost.</summary>
public sealed class PrintFileMoneyTests(PrintFilesFactory app) : IClassFixture<PrintFilesFactory>
{
    private async Task<long> HybridOrderAsync(PrintAccount customer, decimal wallet, decimal amount)
    {
        await app.FundAsync(customer, wallet);
        var response = await app.Bearer(customer).PostAsJsonAsync("/create-payment-order", new { amount, use_wallet = true, print_type = "private" });
        var order = await PrintFilesFactory.BodyAsync(response);
        Assert.Equal("hybrid", order.GetProperty("payment_method").GetString());
        var paid = await app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).PostAsync(
            new Uri(order.GetProperty("checkout_url").GetString()!).PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));
        Assert.Equal(HttpStatusCode.Redirect, paid.StatusCode);
        return order.GetProperty("id").GetInt64();
    }

    [Fact]
    public async Task Files_of_a_hybrid_order_are_refunded_wallet_part_first_then_through_the_provider_once_each()
    {
        var customer = await app.SignUpAsync();
        // ₹3 from the wallet, ₹7 online; two files of 4 and 5 pages cost ₹9, so ₹1 goes back to the wallet at once.
        var id = await HybridOrderAsync(customer, 3, 10);
        var (status, upload) = await app.UploadAsync(customer, [("a.pdf", TestDocuments.Pdf(4)), ("b.pdf", TestDocuments.Pdf(5))]);
        Assert.True(status == HttpStatusCode.Created, upload.ToString());
        Assert.Equal(1m, await app.BalanceAsync(customer));
        var files = upload.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("file_id").GetInt64()).ToList();

        // The ₹4 file: ₹2 left of the wallet part back to the wallet, ₹2 through the provider.
        var first = await PrintFilesFactory.BodyAsync(await app.Bearer(customer).PostAsync($"/withdraw/{files[0]}", null));
        Assert.Equal((4m, 2m, 2m), (first.GetProperty("refund_amount").GetDecimal(), first.GetProperty("refunded_to_wallet").GetDecimal(),
            first.GetProperty("refunded_to_source").GetDecimal()));
        // The ₹5 file, all to the wallet as the customer asks.
        var second = await PrintFilesFactory.BodyAsync(await app.Bearer(customer).PostAsJsonAsync($"/withdraw/{files[1]}", new { refund_to = "wallet" }));
        Assert.Equal((5m, 5m, 0m), (second.GetProperty("refund_amount").GetDecimal(), second.GetProperty("refunded_to_wallet").GetDecimal(),
            second.GetProperty("refunded_to_source").GetDecimal()));

        Assert.Equal(8m, await app.BalanceAsync(customer));
        var intent = await app.Get<PaymentIntents>().FindAsync(PaymentOrders.Surface, PaymentOrderRow.IntentReference(customer.Id, id), default);
        Assert.Equal(2_00, (await app.Get<PaymentIntents>().RefundsAsync(intent!.Id, default)).Sum(r => r.AmountMinor));
        // Everything was given back (₹1 + ₹2 + ₹5 to the wallet, ₹2 online): the order is refunded; nothing more can be.
        Assert.Equal("refunded", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{id}/status")).GetProperty("status").GetString());
        Assert.Equal(OrderRefundOutcome.AlreadyRefunded, await app.Get<PaymentOrders>().RefundAsync(customer.Id, id, false, default));
        Assert.Equal(8m, await app.BalanceAsync(customer));
    }

    [Fact]
    public async Task A_file_paid_online_only_is_refunded_through_the_provider_and_its_order_ends_refunded()
    {
        var customer = await app.SignUpAsync();
        var response = await app.Bearer(customer).PostAsJsonAsync("/create-payment-order", new { amount = 3m, use_wallet = false, print_type = "private" });
        var order = await PrintFilesFactory.BodyAsync(response);
        Assert.Equal("razorpay", order.GetProperty("payment_method").GetString());
        var paid = await app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).PostAsync(
            new Uri(order.GetProperty("checkout_url").GetString()!).PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));
        Assert.Equal(HttpStatusCode.Redirect, paid.StatusCode);
        var (_, upload) = await app.UploadAsync(customer, [("a.pdf", TestDocuments.Pdf(3))]);

        var withdraw = await PrintFilesFactory.BodyAsync(await app.Bearer(customer).PostAsync($"/withdraw/{upload.GetProperty("file_id").GetInt64()}", null));

        Assert.Equal((3m, 0m, 3m), (withdraw.GetProperty("refund_amount").GetDecimal(), withdraw.GetProperty("refunded_to_wallet").GetDecimal(),
            withdraw.GetProperty("refunded_to_source").GetDecimal()));
        Assert.Equal(0m, await app.BalanceAsync(customer));
        var id = order.GetProperty("id").GetInt64();
        var intent = await app.Get<PaymentIntents>().FindAsync(PaymentOrders.Surface, PaymentOrderRow.IntentReference(customer.Id, id), default);
        Assert.Equal(3_00, (await app.Get<PaymentIntents>().RefundsAsync(intent!.Id, default)).Sum(r => r.AmountMinor));
        Assert.Equal("refunded", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{id}/status")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Uploads_racing_for_one_order_use_it_once_and_the_losers_leave_no_content()
    {
        var customer = await app.SignUpAsync();
        var order = await app.PaidOrderAsync(customer, 10);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            app.UploadAsync(customer, [($"f{i}.pdf", TestDocuments.Pdf(i + 1))], new { print_type = "private", payment_order_id = order })));

        var winner = Assert.Single(results, r => r.Status == HttpStatusCode.Created);
        Assert.All(results.Where(r => r.Status != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
        Assert.Equal(10m - winner.Body.GetProperty("total_cost").GetDecimal(), await app.BalanceAsync(customer));
        Assert.Equal(1, (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/my-files")).GetProperty("total").GetInt32());
        var blobs = new List<string>();
        await foreach (var blob in app.Get<StorageAccount>().Container(FileSettings.Container).GetBlobsAsync(
                           Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, FileKeys.CustomerBlobPrefix(customer.Id), default))
            blobs.Add(blob.Name);
        Assert.Single(blobs);
    }

    [Fact]
    public async Task Withdrawals_racing_for_one_file_refund_it_once()
    {
        var customer = await app.SignUpAsync();
        await app.PaidOrderAsync(customer, 5);
        var (_, upload) = await app.UploadAsync(customer, [("a.pdf", TestDocuments.Pdf(5))]);
        var id = upload.GetProperty("file_id").GetInt64();

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => app.Bearer(customer).PostAsync($"/withdraw/{id}", null)));

        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(5m, await app.BalanceAsync(customer));
    }
}

/// <summary>Storage stored an upload's or a withdrawal's transaction but the answer was lost: each still happens once.</summary>
public sealed class PrintFileLostAnswerTests(PrintFileLostAnswerTests.Factory app) : IClassFixture<PrintFileLostAnswerTests.Factory>
{
    public sealed class Factory : PrintFilesFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    [Fact]
    public async Task An_upload_and_a_withdrawal_whose_answers_were_lost_happen_once()
    {
        var customer = await app.SignUpAsync();
        await app.PaidOrderAsync(customer, 10);

        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch"
                                     && Infrastructure.LossyStorageProxy.BodyOf(r).Contains("print-file|", StringComparison.Ordinal));
        var (status, upload) = await app.UploadAsync(customer, [("a.pdf", TestDocuments.Pdf(3))]);

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.True(status == HttpStatusCode.Created, upload.ToString());
        Assert.Equal(7m, await app.BalanceAsync(customer));
        Assert.Equal(1, (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/my-files")).GetProperty("total").GetInt32());

        lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch"
                                     && Infrastructure.LossyStorageProxy.BodyOf(r).Contains("withdrawn", StringComparison.Ordinal));
        var withdraw = await app.Bearer(customer).PostAsync($"/withdraw/{upload.GetProperty("file_id").GetInt64()}", null);

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, withdraw.StatusCode);
        Assert.Equal(10m, await app.BalanceAsync(customer));
    }
}
