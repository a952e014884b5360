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
        var pay = await app.CreateClient().PostAsync($"/pay/{paid}/sandbox", null);

        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pay.StatusCode);
        output.WriteLine($"create {Count(create)}, cancel {Count(cancel)}, pay {Count(pay)}");
        Assert.Equal((CreateCost, CancelCost, PayCost), (Count(create), Count(cancel), Count(pay)));
    }

    /// <summary>
    /// Link insert, pre-order insert, deadline row and message. The merchant's client row (the session check) was read
    /// by the request before, and is read again at most every few seconds.
    /// </summary>
    private const int CreateCost = 4;

    /// <summary>
    /// Read; the outbox's recovery message; one transaction of the row and its outbox row; the webhook (endpoint read,
    /// event and delivery transaction, queue message); deleting the outbox row and the recovery message.
    /// </summary>
    private const int CancelCost = 8;

    /// <summary>As a cancel, plus the payment attempt recorded before the gateway is called (the read is the page's).</summary>
    private const int PayCost = 9;
}
