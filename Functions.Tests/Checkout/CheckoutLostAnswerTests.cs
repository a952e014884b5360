using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Checkout.Orders;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Checkout;

/// <summary>
/// Storage did a checkout write but its answer was lost: the SDK retries, meets its own write (409 or 412), and the
/// operation id stamped on the row tells the checkout's code it was its own. One order, one move, one callback.
/// </summary>
public sealed class CheckoutLostAnswerTests(CheckoutLostAnswerTests.Factory app) : IClassFixture<CheckoutLostAnswerTests.Factory>
{
    public sealed class Factory : CheckoutFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    private void LoseBatchTo(string table, string content)
    {
        var name = app.Get<StorageAccount>().TableName(table);
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch" && LossyStorageProxy.BodyOf(r) is var body
                                     && body.Contains(name, StringComparison.Ordinal) && body.Contains(content, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_creates_the_order_once_and_answers_201()
    {
        var ecommerceOrderId = "lost-create-" + Guid.NewGuid().ToString("N")[..8];
        var lost = app.Proxy!.Lost;
        LoseBatchTo(CheckoutOrders.TableName, ecommerceOrderId);

        var created = await app.CreateOrderAsync(app.StoreA, ecommerceOrderId);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        var list = await app.StoreClient(app.StoreA).GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={app.StoreA.Id}&withCount=true");
        var mine = list.GetProperty("orders").EnumerateArray().Where(o => o.GetProperty("ecommerceOrderId").GetString() == ecommerceOrderId).ToList();
        Assert.Equal(created.GetProperty("id").GetString(), Assert.Single(mine).GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_update_whose_answer_was_lost_moves_the_order_once_with_one_callback()
    {
        var store = await app.CreateStoreAsync("lost-update", new { name = "Lost update", email = "lu@example.test" });
        var id = (await app.CreateOrderAsync(store, "lost-update")).GetProperty("id").GetString()!;
        var lost = app.Proxy!.Lost;
        LoseBatchTo(CheckoutOrders.TableName, PaymentStatus.OnHold);

        var response = await app.StoreClient(store).PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "on-hold", transactionHash = "0xabcdef987654321" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal("on-hold", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentStatus").GetString());
        var callback = Assert.Single(await app.CallbacksAsync(store, id));
        Assert.Equal("on-hold", callback.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_payment_whose_confirmation_write_was_lost_confirms_once_with_one_callback()
    {
        var store = await app.CreateStoreAsync("lost-payment", new { name = "Lost payment", email = "lp@example.test" });
        var order = await app.CreateOrderAsync(store, "lost-payment");
        var id = order.GetProperty("id").GetString()!;
        var lost = app.Proxy!.Lost;
        LoseBatchTo(CheckoutOrders.TableName, PaymentStatus.Confirmed);

        await app.PayInSandboxAsync(order.GetProperty("sessionToken").GetString()!);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal("confirmed", (await app.StoreClient(store).GetFromJsonAsync<JsonElement>($"/plugins/orders/{id}")).GetProperty("paymentStatus").GetString());
        var callback = Assert.Single(await app.CallbacksAsync(store, id));
        Assert.Equal("confirmed", callback.GetProperty("status").GetString());
    }
}
