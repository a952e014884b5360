using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.ECards;
using Serverless.Platform.Identity;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

public sealed class ECardAdminTests(ECardsFactory app) : IClassFixture<ECardsFactory>
{
    [Fact]
    public async Task Admin_creates_a_partner_whose_secret_is_shown_once_and_works()
    {
        var admin = app.Admin();

        var created = await admin.PostAsJsonAsync("/v1/admin/partners", new { client_id = "new-partner", name = "New Partner" });
        var duplicate = await admin.PostAsJsonAsync("/v1/admin/partners", new { client_id = "new-partner", name = "Again" });
        var invalid = await admin.PostAsJsonAsync("/v1/admin/partners", new { client_id = "bad id!", name = "X" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await Json(created);
        var secret = body.GetProperty("client_secret").GetString()!;
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var token = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = "new-partner", ["client_secret"] = secret, ["grant_type"] = "client_credentials",
        }));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var balance = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/partners/new-partner/balance");
        Assert.Equal("0", balance.GetProperty("balance").GetString());
        Assert.DoesNotContain(secret, await admin.GetStringAsync("/v1/admin/partners/new-partner/balance"));
    }

    [Fact]
    public async Task A_replayed_partner_creation_returns_the_same_secret_and_storage_never_holds_it_in_plaintext()
    {
        var admin = app.Admin();
        HttpRequestMessage Create() => new(HttpMethod.Post, "/v1/admin/partners")
        {
            Content = JsonContent.Create(new { client_id = "replayed-partner", name = "Replayed Partner" }),
            Headers = { { "Idempotency-Key", "partner-key" } },
        };

        var first = await admin.SendAsync(Create());
        var second = await admin.SendAsync(Create());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        var secret = JsonDocument.Parse(firstBody).RootElement.GetProperty("client_secret").GetString()!;
        Assert.False(await Serverless.Tests.Infrastructure.IdempotencyStore.HoldsAsync(app, secret));
    }

    [Fact]
    public async Task A_new_partner_has_no_balance_row_until_its_first_top_up_and_can_order_after_it()
    {
        var admin = app.Admin();
        var partnerId = "fresh-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/admin/partners", new { client_id = partnerId, name = "Fresh" })).StatusCode);
        var partner = app.PartnerClient(partnerId);
        var accountsTable = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(PartnerAccounts.TableName);
        Assert.Null(await Serverless.Platform.Storage.TableTransitions.FindAsync<PartnerBalanceRow>(accountsTable, PartnerAccounts.Partition(partnerId), PartnerBalanceRow.Key));

        var page = await partner.GetFromJsonAsync<JsonElement>("/v1/orders");
        var refused = await partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(1, 1, "100 ₽")));
        var topUp = await admin.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 300, reference = "first" });
        var placed = await partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(1, 1, "100 ₽")));

        Assert.Equal(0, page.GetProperty("totalPages").GetInt32());
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, topUp.StatusCode);
        Assert.Equal(HttpStatusCode.OK, placed.StatusCode);
        Assert.Equal((200L, 200L, 1), await app.MoneyAsync(partnerId));
        Assert.Equal(1, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task A_top_up_credits_the_balance_once_per_reference()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(0);
        var admin = app.Admin();

        var first = await Json(await admin.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 100500, reference = "invoice-1" }));
        var again = await Json(await admin.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 100500, reference = "invoice-1" }));
        var zero = await admin.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 0 });
        var unknown = await admin.PostAsJsonAsync("/v1/admin/partners/no-such-partner/topups", new { amount = 10 });
        var byPartner = await partner.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 10 });

        Assert.True(first.GetProperty("applied").GetBoolean());
        Assert.False(again.GetProperty("applied").GetBoolean());
        Assert.Equal("100500", again.GetProperty("balance").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.True(unknown.StatusCode == HttpStatusCode.NotFound, await unknown.Content.ReadAsStringAsync());
        // The admin API takes platform tokens; a partner's e-card token is another audience's.
        Assert.Equal(HttpStatusCode.Unauthorized, byPartner.StatusCode);
        Assert.Equal("100500", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Equal((100500L, 100500L, 0), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task A_top_up_without_a_reference_or_an_idempotency_key_is_refused_and_credits_nothing()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(0);

        var response = await app.Admin().PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 100 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await Json(response)).GetProperty("message").GetString()!;
        Assert.Contains("reference", message);
        Assert.Contains("Idempotency-Key", message);
        Assert.Equal("0", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task A_top_up_retried_with_the_same_idempotency_key_credits_once()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(0);
        var admin = app.Admin();
        var key = Guid.NewGuid().ToString();

        HttpRequestMessage TopUp() => new(HttpMethod.Post, $"/v1/admin/partners/{partnerId}/topups")
        {
            Content = JsonContent.Create(new { amount = 700 }),
            Headers = { { "Idempotency-Key", key } },
        };
        var first = await Json(await admin.SendAsync(TopUp()));
        var retry = await Json(await admin.SendAsync(TopUp()));

        Assert.True(first.GetProperty("applied").GetBoolean());
        Assert.False(retry.GetProperty("applied").GetBoolean());
        Assert.Equal("700", retry.GetProperty("balance").GetString());
        Assert.Equal("700", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Equal((700L, 700L, 0), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task The_api_document_says_a_top_up_needs_a_reference_or_an_idempotency_key()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var topUp = document.GetProperty("paths").GetProperty("/v1/admin/partners/{partnerId}/topups").GetProperty("post");
        Assert.Contains(topUp.GetProperty("parameters").EnumerateArray(),
            p => p.GetProperty("name").GetString() == "Idempotency-Key" && p.GetProperty("in").GetString() == "header");
        Assert.Contains("reference", topUp.GetProperty("description").GetString());
        Assert.Contains("Idempotency-Key", topUp.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Admin_manages_the_catalogue()
    {
        var admin = app.Admin();

        var put = await admin.PutAsJsonAsync("/v1/admin/ecards/77", new
        {
            name = "Music", description = "Streaming", unit = "RUB", faceValues = new[] { new { name = "300 ₽", price = 300 } },
        });
        var listed = await app.PartnerClient().GetFromJsonAsync<JsonElement>("/v1/ecards");
        var badId = await admin.PutAsJsonAsync("/v1/admin/ecards/abc", new { name = "X", unit = "RUB", faceValues = new[] { new { name = "1", price = 1 } } });
        var noFaces = await admin.PutAsJsonAsync("/v1/admin/ecards/78", new { name = "X", unit = "RUB", faceValues = Array.Empty<object>() });
        var twice = await admin.PutAsJsonAsync("/v1/admin/ecards/78", new { name = "X", unit = "RUB", faceValues = new[] { new { name = "1", price = 1 }, new { name = "1", price = 2 } } });
        var freePrice = await admin.PutAsJsonAsync("/v1/admin/ecards/78", new { name = "X", unit = "RUB", faceValues = new[] { new { name = "1", price = 0 } } });
        var byPartner = await app.PartnerClient().PutAsJsonAsync("/v1/admin/ecards/79", new { name = "X", unit = "RUB", faceValues = new[] { new { name = "1", price = 1 } } });

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Contains(listed.EnumerateArray(), c => c.GetProperty("id").GetInt32() == 77 && c.GetProperty("faceValues")[0].GetProperty("price").GetInt64() == 300);
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noFaces.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, freePrice.StatusCode);
        // The admin API takes platform tokens; a partner's e-card token is another audience's.
        Assert.Equal(HttpStatusCode.Unauthorized, byPartner.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/admin/ecards/77")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/v1/admin/ecards/77")).StatusCode);
        var after = await app.PartnerClient().GetFromJsonAsync<JsonElement>("/v1/ecards");
        Assert.DoesNotContain(after.EnumerateArray(), c => c.GetProperty("id").GetInt32() == 77);
    }

    [Fact]
    public async Task Loading_codes_skips_codes_already_loaded_anywhere()
    {
        var (card, codes) = await app.NewECardAsync(2);
        var (other, _) = await app.NewECardAsync(0);
        var admin = app.Admin();

        var again = await Json(await admin.PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { codes[0], "FRESH-1", "FRESH-1" } }));
        var elsewhere = await Json(await admin.PostAsJsonAsync($"/v1/admin/ecards/{other}/codes", new { faceValue = "500 ₽", codes = new[] { codes[1] } }));
        var badFace = await admin.PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "1 ₽", codes = new[] { "X" } });
        var badCode = await admin.PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { " padded " } });
        var noCard = await admin.PostAsJsonAsync("/v1/admin/ecards/999999/codes", new { faceValue = "500 ₽", codes = new[] { "X" } });

        Assert.Equal(1, again.GetProperty("added").GetInt32());
        Assert.Equal(2, again.GetProperty("duplicates").GetInt32());
        Assert.Equal(3, again.GetProperty("available").GetInt32());
        Assert.Equal(0, elsewhere.GetProperty("added").GetInt32());
        Assert.Equal(1, elsewhere.GetProperty("duplicates").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, badFace.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badCode.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noCard.StatusCode);
    }

    [Fact]
    public async Task A_code_whose_load_stopped_after_its_index_row_can_be_loaded_again()
    {
        var (card, _) = await app.NewECardAsync(0);
        var (other, _) = await app.NewECardAsync(0);
        var slot = CertificateStock.Slot(card, "500 ₽");
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"HALF-{card}")));
        // What a load that stopped between the index row and the stock row leaves behind.
        await app.Get<Serverless.Platform.Storage.StorageAccount>().Table(CertificateStock.IndexTableName)
            .AddEntityAsync(new StockCodeIndexRow { PartitionKey = hash[..2], RowKey = hash, Slot = slot });

        var elsewhere = await Json(await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{other}/codes", new { faceValue = "500 ₽", codes = new[] { $"HALF-{card}" } }));
        var again = await Json(await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { $"HALF-{card}" } }));
        var third = await Json(await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { $"HALF-{card}" } }));

        Assert.Equal((0, 1), (elsewhere.GetProperty("added").GetInt32(), elsewhere.GetProperty("duplicates").GetInt32()));
        Assert.Equal((1, 0, 1), (again.GetProperty("added").GetInt32(), again.GetProperty("duplicates").GetInt32(), again.GetProperty("available").GetInt32()));
        Assert.Equal((0, 1, 1), (third.GetProperty("added").GetInt32(), third.GetProperty("duplicates").GetInt32(), third.GetProperty("available").GetInt32()));
    }

    [Fact]
    public async Task Cancelling_an_undelivered_order_refunds_it_and_returns_its_codes_to_stock()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(3000);
        var (card, _) = await app.NewECardAsync(1);
        var orderId = Guid.NewGuid().ToString();
        var created = await Json(await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(card, 2))));
        Assert.Equal("PartiallyDelivered", created.GetProperty("status").GetString());
        var waiting = Guid.NewGuid().ToString();
        await partner.PostAsJsonAsync("/v1/orders", Order(waiting, Line(card, 1)));
        Assert.Equal("AwaitingCertificateAssignment", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{waiting}/status")).GetProperty("status").GetString());

        var partial = await app.Admin().PostAsync($"/v1/admin/partners/{partnerId}/orders/{orderId}/cancel", null);
        var cancel = await app.Admin().PostAsync($"/v1/admin/partners/{partnerId}/orders/{waiting}/cancel", null);
        var twice = await app.Admin().PostAsync($"/v1/admin/partners/{partnerId}/orders/{waiting}/cancel", null);
        var otherPartner = await app.Admin().PostAsync($"/v1/admin/partners/{OtherPartner}/orders/{orderId}/cancel", null);
        var byPartner = await partner.PostAsync($"/v1/admin/partners/{partnerId}/orders/{waiting}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, partial.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("Cancelled", (await Json(cancel)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherPartner.StatusCode);
        // The admin API takes platform tokens; a partner's e-card token is another audience's.
        Assert.Equal(HttpStatusCode.Unauthorized, byPartner.StatusCode);
        Assert.Equal("Cancelled", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{waiting}/status")).GetProperty("status").GetString());
        var money = await app.MoneyAsync(partnerId);
        Assert.Equal((2000L, 2000L, 2), money);

        // New stock goes to the order still waiting, not to the cancelled one.
        await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { "LATE-1", "LATE-2" } });
        Assert.Equal("Delivered", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status")).GetProperty("status").GetString());
        Assert.Equal("Cancelled", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{waiting}/status")).GetProperty("status").GetString());
        Assert.Equal(1, await app.Get<CertificateStock>().CountAvailableAsync(card, "500 ₽"));
    }

    [Fact]
    public async Task Codes_held_by_an_order_whose_cancel_stopped_after_its_transaction_go_back_to_stock_in_the_pending_run()
    {
        var (partnerId, _) = await app.NewPartnerAsync(2000);
        var (card, _) = await app.NewECardAsync(2);
        var orderId = Guid.NewGuid().ToString();
        var key = ECardFulfilment.OrderKey(partnerId, orderId);
        var stock = app.Get<CertificateStock>();
        // An order whose fulfilment claimed its codes and stopped before delivering them...
        await app.Get<ECardFulfilment>().MarkPendingAsync(partnerId, orderId);
        await app.Get<PartnerAccounts>().PlaceAsync(partnerId, new OrderDraft(orderId, "fingerprint", "held@example.test", "John Doe", "79251153242",
            [new OrderLine(card, $"Card {card}", "500 ₽", 500, 2)]));
        Assert.Equal(2, (await stock.ClaimAsync(card, "500 ₽", key, 2, new HashSet<string>())).Count);
        // ...then cancelled by a request that stopped right after the cancel transaction.
        Assert.Equal(CancelOutcome.Cancelled, (await app.Get<PartnerAccounts>().CancelAsync(partnerId, orderId)).Outcome);
        Assert.Equal(0, await stock.CountAvailableAsync(card, "500 ₽"));

        var run = await app.Admin().PostAsync("/v1/admin/fulfilment/run", null);

        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        Assert.Equal(2, await stock.CountAvailableAsync(card, "500 ₽"));
        Assert.Equal((2000L, 2000L, 1), await app.MoneyAsync(partnerId));
        var pending = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(ECardFulfilment.TableName);
        Assert.Null(await Serverless.Platform.Storage.TableTransitions.FindAsync<PendingFulfilmentRow>(pending, PendingFulfilmentRow.Partition, key));
    }

    [Fact]
    public async Task Cancelling_an_order_awaiting_codes_releases_nothing_it_did_not_hold_and_delivered_orders_are_final()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(3000);
        var orderId = Guid.NewGuid().ToString();
        await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(1, 1, "100 ₽")));

        var response = await app.Admin().PostAsync($"/v1/admin/partners/{partnerId}/orders/{orderId}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("invalid_state", (await Json(response)).GetProperty("error").GetString());
        Assert.Equal((2900L, 2900L, 1), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task Seeding_twice_gives_the_demo_partner_its_balance_once()
    {
        var seed = new ECardsSeed();
        await seed.SeedAsync(app.Services, CancellationToken.None);
        await seed.SeedAsync(app.Services, CancellationToken.None);

        var token = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = ECardsSeed.ClientId, ["client_secret"] = ECardsSeed.ClientSecret, ["grant_type"] = "client_credentials",
        }));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal("100000", (await app.PartnerClient(ECardsSeed.ClientId).GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Contains(ClientKinds.Partner, (await app.Get<ApiClientDirectory>().FindAsync(ECardsSeed.ClientId))!.Kind);
    }
    [Fact]
    public async Task An_order_left_paid_by_a_crash_is_fulfilled_by_the_pending_run()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(1000);
        var orderId = Guid.NewGuid().ToString();
        var draft = new OrderDraft(orderId, "fingerprint", "crash@example.test", "John Doe", "79251153242",
            [new OrderLine(1, "Books", "100 ₽", 100, 2)]);
        // What a request that stopped right after the debit leaves behind.
        await app.Get<ECardFulfilment>().MarkPendingAsync(partnerId, orderId);
        await app.Get<PartnerAccounts>().PlaceAsync(partnerId, draft);
        Assert.Equal("Payed", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status")).GetProperty("status").GetString());

        var run = await app.Admin().PostAsync("/v1/admin/fulfilment/run", null);

        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        Assert.True((await Json(run)).GetProperty("orders").GetInt32() >= 1);
        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");
        Assert.Equal("Delivered", details.GetProperty("status").GetString());
        Assert.Equal(2, details.GetProperty("certificates").GetArrayLength());
        Assert.Single(await app.EmailsAsync("crash@example.test"));
        Assert.Equal((800L, 800L, 1), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task An_order_whose_fulfilment_fails_stays_pending_without_holding_up_the_orders_after_it()
    {
        // A pending order that fails every time (here its lines cannot be read), listed before the others.
        var broken = "0-broken-" + Guid.NewGuid().ToString("N")[..8];
        var brokenOrder = Guid.NewGuid().ToString();
        var accountsTable = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(PartnerAccounts.TableName);
        await accountsTable.AddEntityAsync(new ECardOrderRow
        {
            PartitionKey = PartnerAccounts.Partition(broken), RowKey = "order-broken", OrderId = brokenOrder, PartnerId = broken,
            Status = ECardOrderStatus.Payed, LinesJson = "not json",
        });
        await accountsTable.AddEntityAsync(new ECardOrderIndexRow { PartitionKey = PartnerAccounts.Partition(broken), RowKey = PartnerAccounts.IndexKey(brokenOrder), OrderRowKey = "order-broken" });
        var fulfilment = app.Get<ECardFulfilment>();
        await fulfilment.MarkPendingAsync(broken, brokenOrder);
        try
        {
            var (partnerId, partner) = await app.NewPartnerAsync(1000);
            var (card, _) = await app.NewECardAsync(0);
            var waiting = Guid.NewGuid().ToString();
            await partner.PostAsJsonAsync("/v1/orders", Order(waiting, Line(card, 1)));
            var crashed = Guid.NewGuid().ToString();
            await fulfilment.MarkPendingAsync(partnerId, crashed);
            await app.Get<PartnerAccounts>().PlaceAsync(partnerId, new OrderDraft(crashed, "fingerprint", "behind@example.test", "John Doe", "79251153242",
                [new OrderLine(1, "Books", "100 ₽", 100, 1)]));

            var run = await app.Admin().PostAsync("/v1/admin/fulfilment/run", null);
            var load = await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { $"BEHIND-{card}" } });

            Assert.Equal(HttpStatusCode.OK, run.StatusCode);
            Assert.Equal("Delivered", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{crashed}/status")).GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
            Assert.Equal(1, (await Json(load)).GetProperty("added").GetInt32());
            Assert.Equal("Delivered", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{waiting}/status")).GetProperty("status").GetString());
            var pending = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(ECardFulfilment.TableName);
            Assert.NotNull(await Serverless.Platform.Storage.TableTransitions.FindAsync<PendingFulfilmentRow>(pending, PendingFulfilmentRow.Partition,
                ECardFulfilment.OrderKey(broken, brokenOrder)));
        }
        finally
        {
            await app.Get<Serverless.Platform.Storage.StorageAccount>().Table(ECardFulfilment.TableName)
                .DeleteEntityAsync(PendingFulfilmentRow.Partition, ECardFulfilment.OrderKey(broken, brokenOrder));
        }
    }

    [Fact]
    public async Task The_five_minute_sweep_finishes_an_order_left_paid_by_a_crash()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(1000);
        var orderId = Guid.NewGuid().ToString();
        var draft = new OrderDraft(orderId, "fingerprint", "sweep@example.test", "John Doe", "79251153242",
            [new OrderLine(1, "Books", "100 ₽", 100, 1)]);
        await app.Get<ECardFulfilment>().MarkPendingAsync(partnerId, orderId);
        await app.Get<PartnerAccounts>().PlaceAsync(partnerId, draft);

        var sweep = app.Get<Serverless.Platform.Hosting.TriggerRegistry>().FindTimer(ECardsRegistration.FulfilmentSweep)!;
        await app.Get<Serverless.Platform.Hosting.TriggerInvoker>().InvokeAsync(sweep, app.Time.GetUtcNow(), false, CancellationToken.None);

        Assert.Equal("Delivered", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status")).GetProperty("status").GetString());
        Assert.Equal((900L, 900L, 1), await app.MoneyAsync(partnerId));
    }
}
