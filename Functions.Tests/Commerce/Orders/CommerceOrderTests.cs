using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce;
using Serverless.Commerce.Catalog;
using Serverless.Commerce.Orders;
using Serverless.Platform.Payments;
using Serverless.Platform.Identity;
using static Serverless.Tests.Commerce.Orders.CommerceOrdersFactory;

namespace Serverless.Tests.Commerce.Orders;

public sealed class CommerceOrderTests(CommerceOrdersFactory app) : IClassFixture<CommerceOrdersFactory>
{
    private const string Company = CommerceFactory.CompanyId;

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response, HttpStatusCode status, string? errorCode = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("statusCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        if (errorCode is not null)
            Assert.Equal(errorCode, body.GetProperty("errorCode").GetString());
        return body;
    }

    [Fact]
    public async Task A_preview_prices_the_cart_with_the_fee_the_coupon_and_a_signed_gas_fee()
    {
        var (product, _) = await app.AddProductAsync(tokens: 3, usdMinor: 1000);
        var (buyer, _) = app.NewUser();

        var response = await buyer.PostAsJsonAsync($"/companies/{Company}/orders/preview", Preview(product, quantity: 2, coupon: "save10"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("20.00", preview.GetProperty("cartPrice").GetString());
        Assert.Equal("2.00", preview.GetProperty("discount").GetString());
        // 2.5% of 18.00, and the company's 0.35 USD gas fee.
        Assert.Equal("0.45", preview.GetProperty("clientServiceFee").GetString());
        Assert.Equal("0.35", preview.GetProperty("gasFee").GetProperty("amount").GetString());
        Assert.False(string.IsNullOrEmpty(preview.GetProperty("gasFee").GetProperty("signature").GetString()));
        Assert.Equal("18.80", preview.GetProperty("totalPrice").GetString());
        Assert.Equal(2, preview.GetProperty("products")[0].GetProperty("quantity").GetInt32());
        Assert.Equal("credit_card", preview.GetProperty("providersForSelection")[0].GetProperty("paymentMethod").GetString());
        Assert.Equal(0, preview.GetProperty("productsErrors").GetArrayLength());
    }

    [Fact]
    public async Task A_preview_lists_what_cannot_be_ordered_as_product_errors()
    {
        var (product, _) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var unknown = Guid.NewGuid().ToString();

        var response = await buyer.PostAsJsonAsync($"/companies/{Company}/orders/preview", new
        {
            orderProducts = new object[] { new { productId = product, quantity = 2 }, new { productId = unknown } },
            currencyId = CommerceFactory.Usd,
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = await response.Content.ReadFromJsonAsync<JsonElement>();
        var errors = preview.GetProperty("productsErrors").EnumerateArray().Select(e => e.GetProperty("error").GetProperty("code").GetString()).Order().ToList();
        Assert.Equal(["no-product-tokens-available", "product-not-found"], errors);
        Assert.Equal("0.00", preview.GetProperty("cartPrice").GetString());
        Assert.Equal("0.00", preview.GetProperty("gasFee").GetProperty("amount").GetString());
    }

    [Fact]
    public async Task An_order_paid_in_the_sandbox_is_delivered_and_concluded_with_a_webhook_per_status()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1, usdMinor: 1000);
        var (buyer, userId) = app.NewUser();

        var order = await CreatedAsync(await OrderAsync(buyer, product));

        Assert.Equal("pending", order.GetProperty("status").GetString());
        Assert.Equal(userId.ToString(), order.GetProperty("userId").GetString());
        Assert.Equal("10.00", order.GetProperty("currencyAmount").GetString());
        Assert.Equal("10.60", order.GetProperty("totalAmount").GetString());
        Assert.Equal("sandbox", order.GetProperty("paymentProvider").GetString());
        Assert.Equal(tokens[0], order.GetProperty("products")[0].GetProperty("productTokenId").GetString());
        var id = order.GetProperty("id").GetString()!;
        Assert.Equal(app.Time.GetUtcNow().AddMinutes(9), DateTimeOffset.Parse(order.GetProperty("expiresIn").GetString()!));
        Assert.Equal(TokenStatus.LockedByBooking, (await app.TokenAsync(product, tokens[0]))!.Status);
        var paymentUrl = order.GetProperty("paymentInfo").GetProperty("paymentUrl").GetString()!;
        Assert.True(Uri.IsWellFormedUriString(paymentUrl, UriKind.Absolute), paymentUrl);

        await app.PaySandboxAsync(paymentUrl);
        var paid = await GetAsync(buyer, $"/companies/{Company}/orders/{id}");
        Assert.Equal("waiting_delivery", paid.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, paid.GetProperty("paymentInfo").GetProperty("paymentUrl").ValueKind);

        await app.DeliverAsync();
        await app.DrainAsync();

        var concluded = await GetAsync(buyer, $"/companies/{Company}/orders/{id}");
        Assert.Equal("concluded", concluded.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(concluded.GetProperty("deliverId").GetString()));
        var token = (await app.TokenAsync(product, tokens[0]))!;
        Assert.Equal(TokenStatus.Sold, token.Status);
        Assert.Equal(userId.ToString(), token.OwnerUserId);
        Assert.Equal(Wallet, token.WalletAddress);
        // Deliveries run in parallel, so they may arrive in any order; each status is sent once.
        Assert.Equal(["order.concluded", "order.delivering", "order.pending", "order.waiting_delivery"], app.EventsFor(id).Order().ToList());
        Assert.All(app.CompanyHook.Received, r => Assert.True(r.StandardSignatureValid));
    }

    [Fact]
    public async Task A_free_order_is_paid_at_once_and_delivered()
    {
        // BRL pix is the free provider; the product costs nothing in BRL.
        var (product, tokens) = await app.AddProductAsync(tokens: 1, brlMinor: 0);
        var (buyer, _) = app.NewUser();

        var order = await CreatedAsync(await OrderAsync(buyer, product, currencyId: CommerceFactory.Brl, method: "pix"));

        Assert.Equal("waiting_delivery", order.GetProperty("status").GetString());
        Assert.Equal("free", order.GetProperty("paymentProvider").GetString());
        Assert.Equal("0.00", order.GetProperty("totalAmount").GetString());
        await app.DeliverAsync();
        var concluded = await GetAsync(buyer, $"/companies/{Company}/orders/{order.GetProperty("id").GetString()}");
        Assert.Equal("concluded", concluded.GetProperty("status").GetString());
        Assert.Equal(TokenStatus.Sold, (await app.TokenAsync(product, tokens[0]))!.Status);
    }

    [Fact]
    public async Task A_gas_fee_signature_is_valid_for_40_seconds_and_a_forged_one_is_refused()
    {
        var (product, _) = await app.AddProductAsync(tokens: 3);
        var (buyer, _) = app.NewUser();
        var preview = await PreviewAsync(buyer, product);
        var signature = preview.GetProperty("gasFee").GetProperty("signature").GetString()!;

        // Another company's signature, and one whose amount was changed, are forged.
        var other = await PreviewAsync(app.NewUser(CommerceFactory.OtherCompanyId).Client, (await app.AddProductAsync(CommerceFactory.OtherCompanyId)).ProductId,
            CommerceFactory.OtherCompanyId);
        var foreign = other.GetProperty("gasFee").GetProperty("signature").GetString()!;
        await ErrorOf(await buyer.PostAsJsonAsync($"/companies/{Company}/orders", Create(product, "10.00", foreign)), HttpStatusCode.BadRequest,
            "invalid-gas-fee-signature");
        var parts = signature.Split('.');
        var cheaper = Convert.ToBase64String("0.99999999999"u8.ToArray()).TrimEnd('=') + "." + parts[1];
        await ErrorOf(await buyer.PostAsJsonAsync($"/companies/{Company}/orders", Create(product, "10.00", cheaper)), HttpStatusCode.BadRequest,
            "invalid-gas-fee-signature");

        app.Time.Advance(TimeSpan.FromSeconds(41));
        await ErrorOf(await buyer.PostAsJsonAsync($"/companies/{Company}/orders", Create(product, "10.00", signature)), HttpStatusCode.BadRequest,
            "gas-fee-signature-expired");

        var fresh = await PreviewAsync(buyer, product);
        var created = await buyer.PostAsJsonAsync($"/companies/{Company}/orders",
            Create(product, "10.00", fresh.GetProperty("gasFee").GetProperty("signature").GetString()!));
        Assert.Equal("0.35", (await CreatedAsync(created)).GetProperty("gasFee").GetString());
    }

    [Fact]
    public async Task An_order_is_refused_when_the_price_moved_from_what_the_client_expected()
    {
        var (product, _) = await app.AddProductAsync(tokens: 2, usdMinor: 1000);
        var (buyer, _) = app.NewUser();
        var signature = (await PreviewAsync(buyer, product)).GetProperty("gasFee").GetProperty("signature").GetString()!;

        var body = await ErrorOf(await buyer.PostAsJsonAsync($"/companies/{Company}/orders", Create(product, "9.00", signature)),
            HttpStatusCode.BadRequest, "product-price-changed");

        Assert.Contains("10.00", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_token_that_is_not_for_sale_or_is_fixed_to_another_user_cannot_be_ordered()
    {
        var (_, otherUser) = app.NewUser();
        var (fixedProduct, fixedTokens) = await app.AddProductAsync(tokens: 1, distribution: DistributionTypes.Fixed, fixedUserId: otherUser.ToString());
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var (first, _) = app.NewUser();
        await CreatedAsync(await OrderAsync(first, product, tokenId: tokens[0]));

        await ErrorOf(await OrderAsync(buyer, product, tokenId: tokens[0]), HttpStatusCode.BadRequest, "product-token-not-for-sale");
        await ErrorOf(await OrderAsync(buyer, fixedProduct, tokenId: fixedTokens[0]), HttpStatusCode.BadRequest, "product-token-fixed-to-another-user");
        // A fixed distribution needs the token named.
        var signature = (await PreviewAsync(buyer, product)).GetProperty("gasFee").GetProperty("signature").GetString()!;
        await ErrorOf(await buyer.PostAsJsonAsync($"/companies/{Company}/orders", Create(fixedProduct, "10.00", signature)), HttpStatusCode.BadRequest,
            "product-token-required");
    }

    [Fact]
    public async Task A_similar_order_in_a_short_period_is_refused_unless_the_buyer_accepts_it()
    {
        var (product, _) = await app.AddProductAsync(tokens: 3);
        var (buyer, _) = app.NewUser();
        await CreatedAsync(await OrderAsync(buyer, product, acceptSimilar: false));

        await ErrorOf(await OrderAsync(buyer, product, acceptSimilar: false), HttpStatusCode.BadRequest, "similar-order-not-accepted");
        await CreatedAsync(await OrderAsync(buyer, product, acceptSimilar: true));
        // Another buyer's order of the same product is not similar.
        await CreatedAsync(await OrderAsync(app.NewUser().Client, product, acceptSimilar: false));
    }

    [Fact]
    public async Task Twenty_buyers_racing_for_the_last_token_give_it_to_exactly_one()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var buyers = Enumerable.Range(0, 20).Select(_ => app.NewUser().Client).ToList();
        var previews = await Task.WhenAll(buyers.Select(b => PreviewAsync(b, product)));

        var responses = await Task.WhenAll(buyers.Select((b, i) => b.PostAsJsonAsync($"/companies/{Company}/orders",
            Create(product, "10.00", previews[i].GetProperty("gasFee").GetProperty("signature").GetString()!))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await ErrorOf(refused, HttpStatusCode.BadRequest, "no-product-tokens-available");
        var winner = await responses.Single(r => r.StatusCode == HttpStatusCode.Created).Content.ReadFromJsonAsync<JsonElement>();
        var token = (await app.TokenAsync(product, tokens[0]))!;
        Assert.Equal(TokenStatus.LockedByBooking, token.Status);
        Assert.Equal(winner.GetProperty("id").GetString(), token.OrderId);
    }

    [Fact]
    public async Task An_unpaid_order_expires_after_nine_minutes_and_releases_its_token()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var order = await CreatedAsync(await OrderAsync(buyer, product));
        var id = order.GetProperty("id").GetString()!;

        app.Time.Advance(TimeSpan.FromMinutes(9));
        // Expired the moment it passes, before any deadline ran.
        Assert.Equal("expired", (await GetAsync(buyer, $"/companies/{Company}/orders/{id}")).GetProperty("status").GetString());
        await app.RunDeadlinesAsync();

        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, tokens[0]))!.Status);
        var row = (await app.Get<CommerceOrders>().GetInCompanyAsync(Company, id, CancellationToken.None))!;
        Assert.Equal(OrderStatus.Expired, row.Status);
        var intent = (await app.Get<PaymentIntents>().FindAsync(CommerceOrders.Surface, CommerceOrders.Key(row), CancellationToken.None))!;
        Assert.Equal(IntentStatus.Expired, intent.Status);
        await app.DrainAsync();
        Assert.Equal(["order.expired", "order.pending"], app.EventsFor(id).Order().ToList());
    }

    [Fact]
    public async Task A_payment_that_arrives_after_the_order_expired_is_refunded_and_delivers_nothing()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var order = await CreatedAsync(await OrderAsync(buyer, product));
        var id = order.GetProperty("id").GetString()!;

        // The buyer pays on the provider's page as the order's time runs out, before its deadline ran.
        app.Time.Advance(TimeSpan.FromMinutes(9));
        await app.PaySandboxAsync(order.GetProperty("paymentInfo").GetProperty("paymentUrl").GetString()!);
        await app.RunDeadlinesAsync();
        await app.DeliverAsync();

        var row = (await app.Get<CommerceOrders>().GetInCompanyAsync(Company, id, CancellationToken.None))!;
        Assert.Equal(OrderStatus.Expired, row.Status);
        var intent = (await app.Get<PaymentIntents>().FindAsync(CommerceOrders.Surface, CommerceOrders.Key(row), CancellationToken.None))!;
        Assert.Equal(IntentStatus.Refunded, intent.Status);
        Assert.Equal(intent.AmountMinor, intent.RefundedMinor);
        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, tokens[0]))!.Status);
    }

    [Fact]
    public async Task A_booking_that_ran_out_is_taken_by_the_next_buyer_once_its_order_is_expired()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var first = await CreatedAsync(await OrderAsync(app.NewUser().Client, product));
        app.Time.Advance(TimeSpan.FromMinutes(10));

        // No deadline ran: the next buyer settles the old order on the way.
        var second = await CreatedAsync(await OrderAsync(app.NewUser().Client, product));

        Assert.Equal(tokens[0], second.GetProperty("products")[0].GetProperty("productTokenId").GetString());
        var old = await app.Get<CommerceOrders>().GetInCompanyAsync(Company, first.GetProperty("id").GetString()!, CancellationToken.None);
        Assert.Equal(OrderStatus.Expired, old!.Status);
    }

    [Fact]
    public async Task Lists_page_the_callers_own_orders_with_meta_and_links()
    {
        var (product, _) = await app.AddProductAsync(tokens: 5);
        var (buyer, _) = app.NewUser();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await CreatedAsync(await OrderAsync(buyer, product))).GetProperty("id").GetString()!);
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }
        await CreatedAsync(await OrderAsync(app.NewUser().Client, product));

        var page = await GetAsync(buyer, $"/companies/{Company}/orders?limit=2&page=1");

        Assert.Equal([ids[2], ids[1]], page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetString()).ToList());
        var meta = page.GetProperty("meta");
        Assert.Equal(2, meta.GetProperty("itemCount").GetInt32());
        Assert.Equal(3, meta.GetProperty("totalItems").GetInt32());
        Assert.Equal(2, meta.GetProperty("itemsPerPage").GetInt32());
        Assert.Equal(2, meta.GetProperty("totalPages").GetInt32());
        Assert.Equal(1, meta.GetProperty("currentPage").GetInt32());
        var links = page.GetProperty("links");
        Assert.Equal($"/companies/{Company}/orders?page=2&limit=2", links.GetProperty("next").GetString());
        Assert.Equal("", links.GetProperty("prev").GetString());
        Assert.Equal($"/companies/{Company}/orders?page=2&limit=2", links.GetProperty("last").GetString());

        var ascending = await GetAsync(buyer, $"/companies/{Company}/orders?orderBy=ASC&status[]=pending&page=2&limit=2");
        Assert.Equal([ids[2]], ascending.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetString()).ToList());
        var none = await GetAsync(buyer, $"/companies/{Company}/orders?status=concluded");
        Assert.Equal(0, none.GetProperty("meta").GetProperty("totalItems").GetInt32());
        await ErrorOf(await buyer.GetAsync($"/companies/{Company}/orders?status=shipped"), HttpStatusCode.BadRequest);
        await ErrorOf(await buyer.GetAsync($"/companies/{Company}/orders?orderBy=UP"), HttpStatusCode.BadRequest);
        await ErrorOf(await buyer.GetAsync($"/companies/{Company}/orders?limit=0"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Callers_see_only_what_their_roles_and_company_allow()
    {
        var (product, _) = await app.AddProductAsync(tokens: 2);
        var (buyer, _) = app.NewUser();
        var id = (await CreatedAsync(await OrderAsync(buyer, product))).GetProperty("id").GetString()!;
        var orderPath = $"/companies/{Company}/orders/{id}";

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync(orderPath)).StatusCode);
        var roleless = await ErrorOf(await app.NewUser(Company, "companyAdmin").Client.GetAsync(orderPath), HttpStatusCode.Forbidden);
        Assert.Equal("User doesn't have any of the expected roles: user, superAdmin, integration", roleless.GetProperty("message").GetString());
        // The role is checked before the body is read: a caller without it learns nothing of what the route accepts.
        var malformed = await app.NewUser(Company, "companyAdmin").Client.PostAsync($"/companies/{Company}/orders",
            new StringContent("{\"orderProducts\": 7", System.Text.Encoding.UTF8, "application/json"));
        await ErrorOf(malformed, HttpStatusCode.Forbidden);
        await ErrorOf(await app.NewUser().Client.GetAsync(orderPath), HttpStatusCode.NotFound);
        await ErrorOf(await app.NewUser(CommerceFactory.OtherCompanyId).Client.GetAsync(orderPath), HttpStatusCode.NotFound);
        // A token of another surface is not a commerce token.
        var platform = app.WithToken(app.IssueForUser(TokenAudiences.Platform, 77, [CommerceRoles.User]));
        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.GetAsync(orderPath)).StatusCode);

        // The admin routes: the company's admin and any superAdmin; a user is refused, another company's admin sees nothing.
        var adminPath = $"/admin/companies/{Company}/orders/{id}";
        var adminRefused = await ErrorOf(await buyer.GetAsync(adminPath), HttpStatusCode.Forbidden);
        Assert.Equal("User doesn't have any of the expected roles: superAdmin, companyAdmin", adminRefused.GetProperty("message").GetString());
        await ErrorOf(await app.NewUser(CommerceFactory.OtherCompanyId, "companyAdmin").Client.GetAsync(adminPath), HttpStatusCode.NotFound);
        Assert.Equal(id, (await GetAsync(app.NewUser(Company, "companyAdmin").Client, adminPath)).GetProperty("id").GetString());
        Assert.Equal(id, (await GetAsync(app.NewUser(CommerceFactory.OtherCompanyId, "superAdmin").Client, adminPath)).GetProperty("id").GetString());
        var all = await GetAsync(app.NewUser(Company, "companyAdmin").Client, $"/admin/companies/{Company}/orders?search={id}");
        Assert.Equal(1, all.GetProperty("meta").GetProperty("totalItems").GetInt32());

        // An integration orders for itself, and sees its own orders.
        var integration = await app.IntegrationAsync();
        var integrationOrder = await CreatedAsync(await OrderAsync(integration, product));
        var integrationList = await GetAsync(integration, $"/companies/{Company}/orders");
        Assert.Equal(integrationOrder.GetProperty("id").GetString(), integrationList.GetProperty("items")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_admin_cancels_a_pending_order_and_its_token_goes_back_on_sale_but_not_a_concluded_one()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1, brlMinor: 0);
        var (buyer, _) = app.NewUser();
        var admin = app.NewUser(Company, "companyAdmin").Client;
        var pending = await CreatedAsync(await OrderAsync(buyer, product));
        var id = pending.GetProperty("id").GetString()!;

        var cancelled = await admin.PatchAsync($"/admin/companies/{Company}/orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", (await cancelled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, tokens[0]))!.Status);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync($"/admin/companies/{Company}/orders/{id}/cancel", null)).StatusCode);

        var free = await CreatedAsync(await OrderAsync(buyer, product, currencyId: CommerceFactory.Brl, method: "pix"));
        await app.DeliverAsync();
        await ErrorOf(await admin.PatchAsync($"/admin/companies/{Company}/orders/{free.GetProperty("id").GetString()}/cancel", null),
            HttpStatusCode.Conflict, "order-not-cancellable");
        await ErrorOf(await admin.PatchAsync($"/admin/companies/{Company}/orders/{Guid.NewGuid()}/cancel", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_paid_order_cancelled_by_an_admin_is_refunded_in_full()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var order = await CreatedAsync(await OrderAsync(buyer, product));
        var id = order.GetProperty("id").GetString()!;
        await app.PaySandboxAsync(order.GetProperty("paymentInfo").GetProperty("paymentUrl").GetString()!);

        var cancelled = await app.NewUser(Company, "companyAdmin").Client.PatchAsync($"/admin/companies/{Company}/orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        var row = (await app.Get<CommerceOrders>().GetInCompanyAsync(Company, id, CancellationToken.None))!;
        var intent = (await app.Get<PaymentIntents>().FindAsync(CommerceOrders.Surface, CommerceOrders.Key(row), CancellationToken.None))!;
        Assert.Equal(IntentStatus.Refunded, intent.Status);
        Assert.Equal(intent.AmountMinor, intent.RefundedMinor);
        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, tokens[0]))!.Status);
        // The delivery that was queued finds the order cancelled and delivers nothing.
        await app.DeliverAsync();
        Assert.Equal(TokenStatus.ForSale, (await app.TokenAsync(product, tokens[0]))!.Status);
    }

    [Fact]
    public async Task A_delivery_whose_token_is_no_longer_the_orders_fails_the_order_and_refunds_it()
    {
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var order = await CreatedAsync(await OrderAsync(buyer, product));
        var id = order.GetProperty("id").GetString()!;
        await app.PaySandboxAsync(order.GetProperty("paymentInfo").GetProperty("paymentUrl").GetString()!);
        // Something outside the order took the token (an operator's repair in storage, say).
        var token = (await app.TokenAsync(product, tokens[0]))!;
        await app.Catalog.Tokens.UpdateEntityAsync(token with { Status = TokenStatus.Sold, OrderId = Guid.NewGuid().ToString() }, token.ETag);

        await app.DeliverAsync();
        await app.DrainAsync();

        var failed = await GetAsync(buyer, $"/companies/{Company}/orders/{id}");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("no longer available", failed.GetProperty("failReason").GetString());
        var row = (await app.Get<CommerceOrders>().GetInCompanyAsync(Company, id, CancellationToken.None))!;
        var intent = (await app.Get<PaymentIntents>().FindAsync(CommerceOrders.Surface, CommerceOrders.Key(row), CancellationToken.None))!;
        Assert.Equal((IntentStatus.Refunded, intent.AmountMinor), (intent.Status, intent.RefundedMinor));
        Assert.Contains("order.failed", app.EventsFor(id));
    }

    [Theory]
    [InlineData("{", null)]
    [InlineData("{\"orderProducts\":[]}", "orderProducts")]
    [InlineData("{\"orderProducts\":[{\"productId\":\"nope\"}],\"currencyId\":\"5a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d\",\"paymentMethod\":\"credit_card\",\"destinationWalletAddress\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}", "productId")]
    [InlineData("{\"orderProducts\":[{\"productId\":\"2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c\"}],\"paymentMethod\":\"credit_card\",\"destinationWalletAddress\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}", "currencyId")]
    [InlineData("{\"orderProducts\":[{\"productId\":\"2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c\"}],\"currencyId\":\"5a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d\",\"paymentMethod\":\"credit_card\",\"destinationWalletAddress\":\"0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}", "destinationWalletAddress")]
    [InlineData("{\"orderProducts\":[{\"productId\":\"2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c\"}],\"currencyId\":\"5a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d\",\"paymentMethod\":\"barter\",\"destinationWalletAddress\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}", "paymentMethod")]
    [InlineData("{\"orderProducts\":[{\"productId\":\"2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c\"}],\"currencyId\":\"5a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d\",\"paymentMethod\":\"credit_card\"}", "destinationWalletAddress")]
    [InlineData("{\"orderProducts\":\"all\"}", null)]
    public async Task A_malformed_create_is_refused_naming_the_problem(string body, string? field)
    {
        var (buyer, _) = app.NewUser();

        var response = await buyer.PostAsync($"/companies/{Company}/orders", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var error = await ErrorOf(response, HttpStatusCode.BadRequest);
        if (field is not null)
            Assert.Contains(field, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_transfer_order_waits_for_the_admin_to_confirm_the_money()
    {
        await app.Catalog.Companies.UpsertEntityAsync(new CompanyPaymentOption
        {
            PartitionKey = Company, RowKey = CompanyPaymentOption.RowKeyFor(CommerceFactory.Usd, "transfer"), CurrencyId = CommerceFactory.Usd,
            PaymentMethod = "transfer", Provider = CommerceProviders.Transfer, ExpiryMinutes = 1440,
        });
        app.Catalog.Forget(Company);
        var (product, tokens) = await app.AddProductAsync(tokens: 1);
        var (buyer, _) = app.NewUser();
        var order = await CreatedAsync(await OrderAsync(buyer, product, method: "transfer"));
        var id = order.GetProperty("id").GetString()!;
        Assert.Equal(app.Time.GetUtcNow().AddDays(1), DateTimeOffset.Parse(order.GetProperty("expiresIn").GetString()!));

        var confirmed = await app.NewUser(Company, "companyAdmin").Client.PatchAsync($"/admin/companies/{Company}/orders/{id}/confirm-payment", null);

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        await app.DeliverAsync();
        Assert.Equal("concluded", (await GetAsync(buyer, $"/companies/{Company}/orders/{id}")).GetProperty("status").GetString());
        Assert.Equal(TokenStatus.Sold, (await app.TokenAsync(product, tokens[0]))!.Status);
    }

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true)]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", true)]
    [InlineData("0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb", true)]
    [InlineData("0xDBF03B407C01E7CD3CBEA99509D93F8DDDC8C6FB", true)]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", false)]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", false)]
    [InlineData("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", false)]
    [InlineData("0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", false)]
    public void Wallet_addresses_are_checked_with_their_EIP55_checksum(string address, bool valid) =>
        Assert.Equal(valid, WalletAddress.IsValid(address));
}
