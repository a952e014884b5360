using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Serverless.Tests.PreOrders;

/// <summary>Storage requests per pre-order request (the Development <c>X-Storage-Requests</c> header), a cost figure.</summary>
public sealed class PreOrderCostTests(PreOrdersFactory app, ITestOutputHelper output) : IClassFixture<PreOrdersFactory>
{
    private static int Count(HttpResponseMessage response) => int.Parse(response.Headers.GetValues("X-Storage-Requests").Single());

    [Fact]
    public async Task Creating_cancelling_and_paying_cost_a_known_number_of_storage_requests()
    {
        var merchant = await app.MerchantClientAsync();
        await app.CreateAsync(merchant, TimeSpan.FromDays(1));

        var create = await merchant.PostAsJsonAsync("/api/pre-orders", PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1))));
        var cancelled = (await create.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var cancel = await merchant.PostAsync($"/api/pre-orders/{cancelled}/cancel", null);
        var paid = (await app.CreateAsync(merchant, TimeSpan.FromDays(1))).GetProperty("id").GetString();
        var pay = await app.CreateClient().PostAsync($"/pay/{paid}/checkout", null);
        var checkoutUrl = (await pay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkout_url").GetString();
        var confirm = await app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false })
            .PostAsync(checkoutUrl, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));

        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pay.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, confirm.StatusCode);
        output.WriteLine($"create {Count(create)}, cancel {Count(cancel)}, checkout {Count(pay)}, sandbox confirmation {Count(confirm)}");
        Assert.Equal((CreateCost, CancelCost, CheckoutCost, ConfirmCost), (Count(create), Count(cancel), Count(pay), Count(confirm)));
    }

    /// <summary>
    /// Link insert, pre-order insert, deadline row and message. The merchant's client row (the session check) was read
    /// by the request before, and is read again at most every few seconds.
    /// </summary>
    private const int CreateCost = 4;

    /// <summary>
    /// Read; the outbox's recovery message; one transaction of the row and its outbox row; the webhook (endpoint read,
    /// event and delivery transaction, queue message); deleting the outbox row and the recovery message; then the
    /// pre-order's payment intent is closed (one read when no payment was ever started).
    /// </summary>
    private const int CancelCost = 9;

    /// <summary>
    /// The pay button: the page's read of the pre-order, the intent row written with the right to ask the provider
    /// (read, insert), the sandbox's order (insert), the order index (upsert), the intent's move to pending with its
    /// callback (recovery message, transaction, forward: deleting the outbox row and the message), and its
    /// reconciliation deadline (row, message).
    /// </summary>
    private const int CheckoutCost = 11;

    /// <summary>
    /// The sandbox page's "Pay": the sandbox order (read, write), then the inbound path: the event stored (read,
    /// recovery message, transaction); processed: event read, intent read, the intent's success (recovery message,
    /// transaction) whose callback pays the pre-order (read, recovery message, transaction, the webhook: endpoint read,
    /// event transaction, queue message, then its outbox row and message deleted), the intent's outbox row and message
    /// deleted, the event marked processed (write); and the event's own outbox row and message deleted.
    /// </summary>
    private const int ConfirmCost = 23;
}
