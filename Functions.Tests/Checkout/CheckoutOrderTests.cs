using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Serverless.Checkout.Rates;

namespace Serverless.Tests.Checkout;

public sealed class CheckoutOrderTests(CheckoutFactory app) : IClassFixture<CheckoutFactory>
{
    private static string NewId() => "order-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_created_order_answers_the_documented_shape_with_its_session_token_and_the_rates_it_was_priced_with()
    {
        var rates = await app.Get<MarketRates>().CurrentAsync(CancellationToken.None);
        var created = await app.CreateOrderAsync(app.StoreA, "103");
        var id = created.GetProperty("id").GetString()!;
        Assert.Matches("^[0-9a-f]{24}$", id);
        Assert.StartsWith("eyJ", created.GetProperty("sessionToken").GetString());

        var order = await app.StoreClient(app.StoreA).GetFromJsonAsync<JsonElement>($"/plugins/orders/{id}");
        Assert.Equal("103", order.GetProperty("ecommerceOrderId").GetString());
        Assert.Equal("api", order.GetProperty("ecommerce").GetString());
        Assert.Equal("25.40", order.GetProperty("orderTotal").GetString());
        Assert.Equal("USD", order.GetProperty("orderCurrency").GetString());
        Assert.Equal("10", order.GetProperty("storeMarkupPercentage").GetString());
        Assert.Equal("0", order.GetProperty("storeDiscountPercentage").GetString());
        Assert.Equal("27.94", order.GetProperty("payableTotal").GetString());
        Assert.Equal("pending", order.GetProperty("paymentStatus").GetString());
        Assert.Equal("https://store.example.test/thanks", order.GetProperty("successReturnUrl").GetString());
        Assert.Equal("AR", order.GetProperty("deliveryInfo").GetProperty("country").GetString());
        Assert.Equal($"{CheckoutFactory.BaseUrl}/checkout/{created.GetProperty("sessionToken").GetString()}", order.GetProperty("checkoutUrl").GetString());
        var store = order.GetProperty("store");
        Assert.Equal(app.StoreA.Id, store.GetProperty("id").GetString());
        Assert.Equal("Store A", store.GetProperty("name").GetString());
        Assert.Equal("ETHEREUM", store.GetProperty("wallets")[0].GetProperty("protocol").GetString());
        var storeJson = store.GetRawText();
        Assert.DoesNotContain(app.StoreA.ApiKey, storeJson);
        Assert.DoesNotContain(app.StoreA.WebhookSecret, storeJson);
        Assert.DoesNotContain("webhookSecret", storeJson);
        var marketRates = order.GetProperty("marketRates").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(rates.Rates.Count, marketRates.Count);
        foreach (var (code, rate) in rates.Rates)
            Assert.Equal(rate, marketRates[code]);
    }

    [Fact]
    public async Task The_same_ecommerceOrderId_with_the_same_body_answers_the_existing_order_and_with_another_body_409()
    {
        var ecommerceOrderId = NewId();
        var created = await app.CreateOrderAsync(app.StoreA, ecommerceOrderId);
        var again = await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", CheckoutFactory.OrderBody(app.StoreA, ecommerceOrderId));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(created.GetProperty("id").GetString(), (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());

        var different = await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout",
            CheckoutFactory.OrderBody(app.StoreA, ecommerceOrderId, orderTotal: "30.00"));
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);
        var error = await different.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(409, error.GetProperty("statusCode").GetInt32());
        Assert.Contains(ecommerceOrderId, error.GetProperty("message").GetString());

        // Another store may use the same id for its own order.
        var other = await app.CreateOrderAsync(app.StoreB, ecommerceOrderId);
        Assert.NotEqual(created.GetProperty("id").GetString(), other.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Twenty_concurrent_creates_with_one_ecommerceOrderId_make_one_order()
    {
        var ecommerceOrderId = NewId();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", CheckoutFactory.OrderBody(app.StoreA, ecommerceOrderId))));
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{r.StatusCode}"));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var ids = new HashSet<string>();
        foreach (var response in responses)
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        Assert.Single(ids);
        var list = await app.StoreClient(app.StoreA).GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={app.StoreA.Id}&withCount=true");
        Assert.Single(list.GetProperty("orders").EnumerateArray(), o => o.GetProperty("ecommerceOrderId").GetString() == ecommerceOrderId);
    }

    public static TheoryData<string, object?, string> BadFields => new()
    {
        { "ecommerceOrderId", null, "'ecommerceOrderId' is required" },
        { "ecommerceType", "shopify", "'ecommerceType' must be one of: api, wordpress" },
        { "orderTotal", null, "'orderTotal' is required" },
        { "orderTotal", "25.401", "at most 2 decimal places for USD" },
        { "orderTotal", "-1", "'orderTotal' must be a positive decimal" },
        { "orderTotal", "0.00", "'orderTotal' must be a positive decimal" },
        { "orderTotal", "1e3", "'orderTotal' must be a positive decimal" },
        { "orderCurrency", "XYZ", "'orderCurrency' must be an ISO 4217 currency code" },
        { "orderCurrency", null, "'orderCurrency' is required" },
        { "paymentStatus", "confirmed", "'paymentStatus' must be one of: on-hold, pending" },
        { "callbackUrl", "ftp://example.test/cb", "callbackUrl" },
        { "callbackUrl", null, "'callbackUrl' is required" },
        { "store", null, "'store' is required" },
        { "deliveryInfo", null, "'deliveryInfo' is required" },
        { "successReturnUrl", "javascript:alert(1)", "'successReturnUrl' must be an absolute http or https URL" },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public async Task A_bad_field_is_a_400_naming_it(string field, object? value, string message)
    {
        var body = CheckoutFactory.OrderBody(app.StoreA, NewId());
        body[field] = value;
        var response = await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal("Bad Request", error.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("firstName", "'deliveryInfo.firstName' is required")]
    [InlineData("email", "'deliveryInfo.email' is required")]
    [InlineData("country", "'deliveryInfo.country' is required")]
    public async Task A_missing_delivery_field_is_a_400_naming_it(string field, string message)
    {
        var body = CheckoutFactory.OrderBody(app.StoreA, NewId());
        ((Dictionary<string, object?>)body["deliveryInfo"]!).Remove(field);
        var response = await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Minor_digits_follow_the_currency_and_wrong_types_and_malformed_json_are_400()
    {
        var yen = CheckoutFactory.OrderBody(app.StoreA, NewId(), orderTotal: "10.5", currency: "JPY");
        Assert.Equal(HttpStatusCode.BadRequest, (await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", yen)).StatusCode);
        var number = CheckoutFactory.OrderBody(app.StoreA, NewId());
        number["orderTotal"] = 25.40m;
        Assert.Equal(HttpStatusCode.BadRequest, (await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", number)).StatusCode);
        var malformed = await app.StoreClient(app.StoreA).PostAsync("/plugins/orders/checkout",
            new StringContent("{\"ecommerceOrderId\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(400, (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task Another_stores_id_in_the_body_is_404_and_nothing_is_created()
    {
        var body = CheckoutFactory.OrderBody(app.StoreA, NewId());
        body["store"] = app.StoreB.Id;
        var response = await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", body);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Without_a_key_with_a_bad_key_or_a_disabled_stores_key_every_call_is_401_and_another_stores_order_is_404()
    {
        var order = await app.CreateOrderAsync(app.StoreA, NewId());
        var id = order.GetProperty("id").GetString()!;
        var anonymous = await app.CreateClient().GetAsync($"/plugins/orders/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("x-api-key", (await anonymous.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.KeyClient("sk_not-a-key").GetAsync($"/plugins/orders/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.KeyClient("sk_not-a-key").PostAsync("/plugins/stores/verification", null)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await app.StoreClient(app.StoreB).GetAsync($"/plugins/orders/{id}")).StatusCode);
        var put = await app.StoreClient(app.StoreB).PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "cancelled" });
        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.Equal("pending", (await app.StoreClient(app.StoreA).GetFromJsonAsync<JsonElement>($"/plugins/orders/{id}")).GetProperty("paymentStatus").GetString());

        // A platform token is not a store's key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Admin().GetAsync($"/plugins/orders/{id}")).StatusCode);

        var doomed = await app.CreateStoreAsync("doomed", new { name = "Doomed", email = "doomed@example.test" });
        Assert.Equal(HttpStatusCode.OK, (await app.StoreClient(doomed).PostAsync("/plugins/stores/verification", null)).StatusCode);
        var token = (await app.CreateOrderAsync(doomed, NewId())).GetProperty("sessionToken").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await app.Admin().PostAsync($"/plugins/admin/stores/{doomed.Id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.StoreClient(doomed).PostAsync("/plugins/stores/verification", null)).StatusCode);
        // Its customers can no longer pay it.
        var pay = await app.CreateClient().PostAsync($"/checkout/{token}/pay", null);
        Assert.Equal(HttpStatusCode.Conflict, pay.StatusCode);
        Assert.Equal("store_disabled", (await pay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        // Store admin is the platform admin's alone.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/admin/stores", new { name = "x", email = "x@x.test" })).StatusCode);
    }

    [Fact]
    public async Task Verification_returns_the_store_with_the_secret_that_signs_its_callbacks_and_a_rotation_changes_it()
    {
        var store = await app.CreateStoreAsync("rotating", new { name = "Rotating", email = "rot@example.test" });
        var verified = await app.StoreClient(store).PostAsync("/plugins/stores/verification", null);
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var body = await verified.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(store.Id, body.GetProperty("id").GetString());
        Assert.Equal(store.WebhookSecret, body.GetProperty("webhookSecret").GetString());

        var first = await app.CreateOrderAsync(store, NewId());
        await app.StoreClient(store).PutAsJsonAsync($"/plugins/checkout/{first.GetProperty("id").GetString()}", new { paymentStatus = "failed" });
        Assert.Single(await app.CallbacksAsync(store));

        var rotated = await app.Admin().PostAsync($"/plugins/admin/stores/{store.Id}/rotate-webhook-secret", null);
        var secret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("webhookSecret").GetString()!;
        Assert.NotEqual(store.WebhookSecret, secret);
        // The operator's view of the store never shows its secret.
        var viewed = await app.Admin().GetFromJsonAsync<JsonElement>($"/plugins/admin/stores/{store.Id}");
        Assert.Equal(store.Id, viewed.GetProperty("id").GetString());
        Assert.False(viewed.TryGetProperty("webhookSecret", out _));
        Assert.Equal(secret, (await (await app.StoreClient(store).PostAsync("/plugins/stores/verification", null)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("webhookSecret").GetString());
        var second = await app.CreateOrderAsync(store, NewId());
        await app.StoreClient(store).PutAsJsonAsync($"/plugins/checkout/{second.GetProperty("id").GetString()}", new { paymentStatus = "failed" });
        await app.DrainAsync();
        var last = store.Hook.Received[^1];
        Assert.True(Hmac.Verify(secret, last.Body, last.Header("x-webhook-signature")!));
        Assert.False(Hmac.Verify(store.WebhookSecret, last.Body, last.Header("x-webhook-signature")!));
    }

    [Fact]
    public async Task A_store_update_moves_the_order_and_sends_one_signed_callback_per_move()
    {
        var store = await app.CreateStoreAsync("updates", new { name = "Updates", email = "u@example.test" });
        var order = await app.CreateOrderAsync(store, "2");
        var id = order.GetProperty("id").GetString()!;
        var client = app.StoreClient(store);

        var held = await client.PutAsJsonAsync($"/plugins/checkout/{id}",
            new { transactionHash = "0x7a9c9aa39517d3d", paymentMethod = "CELO", paymentStatus = "on-hold", blockchain = "CELO", convertedTotal = "79.31" });
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        var view = await held.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("on-hold", view.GetProperty("paymentStatus").GetString());
        Assert.Equal("79.31", view.GetProperty("convertedTotal").GetString());
        // The same update again is no move and no callback.
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"/plugins/checkout/{id}",
            new { transactionHash = "0x7a9c9aa39517d3d", paymentStatus = "on-hold", blockchain = "CELO" })).StatusCode);

        var callbacks = await app.CallbacksAsync(store, id);
        var callback = Assert.Single(callbacks);
        Assert.Equal("on-hold", callback.GetProperty("status").GetString());
        Assert.Equal("Payment is awaiting confirmation", callback.GetProperty("message").GetString());
        Assert.Equal(id, callback.GetProperty("orderId").GetString());
        Assert.Equal("2", callback.GetProperty("ecommerceOrderId").GetString());
        Assert.Equal(store.Id, callback.GetProperty("storeId").GetString());
        Assert.Equal("CELO", callback.GetProperty("transactions")[0].GetProperty("protocol").GetString());
        Assert.Equal("0x7a9c9aa39517d3d", callback.GetProperty("transactions")[0].GetProperty("hash").GetString());
        Assert.Equal(JsonValueKind.Null, callback.GetProperty("updatedProducts").ValueKind);
        Assert.Equal(["message", "status", "orderId", "ecommerceOrderId", "storeId", "transactions", "updatedProducts"],
            callback.EnumerateObject().Select(p => p.Name).ToArray());

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "cancelled" })).StatusCode);
        var final = await client.PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "pending" });
        Assert.Equal(HttpStatusCode.Conflict, final.StatusCode);
        Assert.Contains("cancelled", (await final.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        // Repeating the final status is harmless.
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "cancelled" })).StatusCode);

        callbacks = await app.CallbacksAsync(store, id);
        Assert.Equal(["on-hold", "cancelled"], callbacks.Select(c => c.GetProperty("status").GetString()!).ToArray());
        Assert.Equal("Order was cancelled", callbacks[1].GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{}", "Send at least one of")]
    [InlineData("{\"paymentStatus\":\"confirmed\"}", "cannot be set to confirmed")]
    [InlineData("{\"paymentStatus\":\"paid\"}", "'paymentStatus' must be one of")]
    [InlineData("{\"transactionHash\":\"<script>\"}", "'transactionHash' must be a transaction hash")]
    [InlineData("{\"convertedTotal\":\"lots\"}", "'convertedTotal' must be a decimal")]
    [InlineData("{\"paymentStatus\":1}", "")]
    public async Task A_bad_update_is_a_400(string json, string message)
    {
        var order = await app.CreateOrderAsync(app.StoreA, NewId());
        var response = await app.StoreClient(app.StoreA).PutAsync($"/plugins/checkout/{order.GetProperty("id").GetString()}",
            new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Unknown_order_ids_are_404()
    {
        var client = app.StoreClient(app.StoreA);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/plugins/orders/7fffffffffffffff00000000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/plugins/orders/..%2F..%2Fetc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync("/plugins/checkout/nope", new { paymentStatus = "failed" })).StatusCode);
    }

    [Fact]
    public async Task Twenty_concurrent_updates_to_one_status_are_one_move_and_one_callback()
    {
        var store = await app.CreateStoreAsync("concurrent", new { name = "Concurrent", email = "c@example.test" });
        var order = await app.CreateOrderAsync(store, NewId());
        var id = order.GetProperty("id").GetString()!;
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            app.StoreClient(store).PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "on-hold", transactionHash = "0xabcdef0123456789" })));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var callback = Assert.Single(await app.CallbacksAsync(store, id));
        Assert.Equal("on-hold", callback.GetProperty("status").GetString());
        Assert.Single(callback.GetProperty("transactions").EnumerateArray());
    }

    [Fact]
    public async Task The_list_is_this_stores_orders_newest_first_filtered_paged_and_counted()
    {
        var store = await app.CreateStoreAsync("lists", new { name = "Lists", email = "l@example.test" });
        var client = app.StoreClient(store);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await app.CreateOrderAsync(store, $"list-{i}")).GetProperty("id").GetString()!);
            app.Time.Advance(TimeSpan.FromMinutes(1));
        }
        await client.PutAsJsonAsync($"/plugins/checkout/{ids[1]}", new { paymentStatus = "failed" });

        var all = await client.GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={store.Id}&withCount=true");
        Assert.Equal(5, all.GetProperty("total").GetInt32());
        Assert.Equal(ids.AsEnumerable().Reverse(), all.GetProperty("orders").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
        Assert.Equal(store.Id, all.GetProperty("orders")[0].GetProperty("store").GetString());

        var page = await client.GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={store.Id}&limit=2&offset=1");
        Assert.False(page.TryGetProperty("total", out _));
        Assert.Equal([ids[3], ids[2]], page.GetProperty("orders").EnumerateArray().Select(o => o.GetProperty("id").GetString()));

        var failed = await client.GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={store.Id}&paymentStatus=failed&withTotal=true");
        Assert.Equal(1, failed.GetProperty("total").GetInt32());
        Assert.Equal(ids[1], failed.GetProperty("orders")[0].GetProperty("id").GetString());

        var created = all.GetProperty("orders")[2].GetProperty("createdAt").GetString()!;
        var since = await client.GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={store.Id}&startDate={Uri.EscapeDataString(created)}&withCount=true");
        Assert.Equal(3, since.GetProperty("total").GetInt32());
        var until = await client.GetFromJsonAsync<JsonElement>($"/plugins/orders?storeId={store.Id}&endDate={Uri.EscapeDataString(created)}&withCount=true");
        Assert.Equal(3, until.GetProperty("total").GetInt32());

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/plugins/orders?storeId={app.StoreA.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/plugins/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/plugins/orders?storeId={store.Id}&limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/plugins/orders?storeId={store.Id}&paymentStatus=paid")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/plugins/orders?storeId={store.Id}&startDate=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/plugins/orders?storeId={store.Id}&limit=ten")).StatusCode);

        // Optional parameters that do not parse are named, whatever their type.
        foreach (var (query, message) in new[]
                 {
                     ("limit=ten", "Invalid value for 'limit': \"ten\" is not a whole number."),
                     ("offset=1.5", "Invalid value for 'offset': \"1.5\" is not a whole number."),
                     ("withCount=maybe", "Invalid value for 'withCount': \"maybe\" is not true or false."),
                 })
        {
            var bad = await client.GetAsync($"/plugins/orders?storeId={store.Id}&{query}");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(message, (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task A_sandbox_payment_confirms_the_order_with_one_callback_and_a_second_payment_is_refused()
    {
        var store = await app.CreateStoreAsync("paid", new { name = "Paid", email = "p@example.test" });
        var order = await app.CreateOrderAsync(store, NewId());
        var id = order.GetProperty("id").GetString()!;
        var token = order.GetProperty("sessionToken").GetString()!;
        await app.PayInSandboxAsync(token);

        var view = await app.StoreClient(store).GetFromJsonAsync<JsonElement>($"/plugins/orders/{id}");
        Assert.Equal("confirmed", view.GetProperty("paymentStatus").GetString());
        var callback = Assert.Single(await app.CallbacksAsync(store, id));
        Assert.Equal("confirmed", callback.GetProperty("status").GetString());
        Assert.Equal("Payment was successful", callback.GetProperty("message").GetString());
        Assert.Equal("sandbox", callback.GetProperty("transactions")[0].GetProperty("protocol").GetString());

        var status = await app.CreateClient().GetFromJsonAsync<JsonElement>($"/checkout/{token}/status");
        Assert.Equal("confirmed", status.GetProperty("status").GetString());
        Assert.Equal("https://store.example.test/thanks", status.GetProperty("redirectUrl").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await app.CreateClient().PostAsync($"/checkout/{token}/pay", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await app.StoreClient(store).PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "cancelled" })).StatusCode);
    }

    [Fact]
    public async Task An_unpaid_order_is_cancelled_at_its_expiry_with_a_callback_and_an_order_on_hold_waits()
    {
        var store = await app.CreateStoreAsync("expiry", new { name = "Expiry", email = "e@example.test" });
        var unpaid = (await app.CreateOrderAsync(store, NewId())).GetProperty("id").GetString()!;
        var held = (await app.CreateOrderAsync(store, NewId())).GetProperty("id").GetString()!;
        await app.StoreClient(store).PutAsJsonAsync($"/plugins/checkout/{held}", new { transactionHash = "0x1234567890abcdef", blockchain = "ETHEREUM" });

        app.Time.Advance(TimeSpan.FromHours(24));
        await app.RunDeadlinesAsync();

        var callback = Assert.Single(await app.CallbacksAsync(store, unpaid));
        Assert.Equal("cancelled", callback.GetProperty("status").GetString());
        Assert.Equal("Order expired without payment", callback.GetProperty("message").GetString());
        Assert.Equal("cancelled", (await app.StoreClient(store).GetFromJsonAsync<JsonElement>($"/plugins/orders/{unpaid}")).GetProperty("paymentStatus").GetString());
        Assert.Equal("on-hold", (await app.StoreClient(store).GetFromJsonAsync<JsonElement>($"/plugins/orders/{held}")).GetProperty("paymentStatus").GetString());

        // An operator who saw the transfer on the chain confirms it.
        var confirmed = await app.Admin().PostAsJsonAsync($"/plugins/admin/stores/{store.Id}/orders/{held}/confirm", new { });
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(["on-hold", "confirmed"], (await app.CallbacksAsync(store, held)).Select(c => c.GetProperty("status").GetString()!).ToArray());
        Assert.Equal(HttpStatusCode.Conflict, (await app.Admin().PostAsJsonAsync($"/plugins/admin/stores/{store.Id}/orders/{unpaid}/confirm", new { })).StatusCode);
    }

    [Fact]
    public async Task A_callback_receiver_that_is_down_gets_every_callback_once_it_is_back()
    {
        var store = await app.CreateStoreAsync("flaky", new { name = "Flaky", email = "f@example.test" });
        store.Hook.Default = new Tests.Platform.Webhooks.Reply(503);
        var id = (await app.CreateOrderAsync(store, NewId())).GetProperty("id").GetString()!;
        var client = app.StoreClient(store);
        await client.PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "on-hold", transactionHash = "0xfeedfacecafebeef" });
        await client.PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "failed" });
        // One batch: each callback is attempted, refused, and its retry scheduled (the receiver keeps refusing until told).
        await app.RunOnceAsync();
        Assert.Equal(2, store.Hook.Received.Count);

        store.Hook.Default = Tests.Platform.Webhooks.Reply.Ok;
        for (var i = 0; i < 5 && store.Hook.Received.Count < 4; i++)
        {
            app.Time.Advance(TimeSpan.FromMinutes(10));
            await app.RunOnceAsync();
        }
        Assert.Equal(4, store.Hook.Received.Count);
        var delivered = store.Hook.Received.Skip(2).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetString()!).Order().ToArray();
        Assert.Equal(["failed", "on-hold"], delivered);
        foreach (var received in store.Hook.Received)
            Assert.True(Hmac.Verify(store.WebhookSecret, received.Body, received.Header("x-webhook-signature")!));
    }

    [Fact]
    public async Task Store_settings_are_validated_and_an_orders_price_keeps_the_markup_it_was_created_with()
    {
        var store = await app.CreateStoreAsync("settings", new { name = "Settings", email = "s@example.test", storeDiscountPercentage = "5" });
        var before = await app.CreateOrderAsync(store, NewId(), "100.00");
        Assert.Equal("95.00", before.GetProperty("payableTotal").GetString());
        var patch = await app.Admin().PatchAsJsonAsync($"/plugins/admin/stores/{store.Id}", new { storeDiscountPercentage = "0", storeMarkupPercentage = "2.5" });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var after = await app.CreateOrderAsync(store, NewId(), "100.00");
        Assert.Equal("102.50", after.GetProperty("payableTotal").GetString());
        Assert.Equal("95.00", (await app.StoreClient(store).GetFromJsonAsync<JsonElement>($"/plugins/orders/{before.GetProperty("id").GetString()}"))
            .GetProperty("payableTotal").GetString());

        foreach (var bad in new object[]
                 {
                     new { storeMarkupPercentage = "100" }, new { storeDiscountPercentage = "-1" }, new { storeMarkupPercentage = 5 },
                     new { wallets = new[] { new { protocol = "DOGE", address = "D1234567890123456789012345" } } },
                     new { wallets = new[] { new { protocol = "ETHEREUM", address = "0x123" } } },
                 })
            Assert.Equal(HttpStatusCode.BadRequest, (await app.Admin().PatchAsJsonAsync($"/plugins/admin/stores/{store.Id}", bad)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Admin().GetAsync("/plugins/admin/stores/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.Admin().PostAsJsonAsync("/plugins/admin/stores", new { name = "No email" })).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_says_which_operations_take_the_stores_api_key()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("StoreApiKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("x-api-key", scheme.GetProperty("name").GetString());
        var paths = document.GetProperty("paths");
        string[] Security(string path, string method) => paths.GetProperty(path).GetProperty(method).TryGetProperty("security", out var security)
            ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToArray()
            : [];
        Assert.Equal(["StoreApiKey"], Security("/plugins/orders/checkout", "post"));
        Assert.Equal(["StoreApiKey"], Security("/plugins/checkout/{orderId}", "put"));
        Assert.Equal(["StoreApiKey"], Security("/plugins/orders", "get"));
        Assert.Equal(["Bearer"], Security("/plugins/admin/stores", "post"));
        Assert.Empty(Security("/checkout/{sessionToken}", "get"));
    }
}
