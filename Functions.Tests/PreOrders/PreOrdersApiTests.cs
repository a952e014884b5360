using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Serverless.Platform.Identity;
using Serverless.PreOrders;
using Serverless.Tests.Platform.Webhooks;

namespace Serverless.Tests.PreOrders;

public sealed class PreOrdersApiTests(PreOrdersFactory app) : IClassFixture<PreOrdersFactory>
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static string ErrorMessage(JsonElement body) => body.GetProperty("error").GetProperty("message").GetString()!;

    [Fact]
    public async Task Login_returns_a_bearer_token_valid_for_an_hour()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = PreOrdersFactory.Merchant, password = PreOrdersFactory.Password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("token").GetString()));
    }

    [Theory]
    [InlineData(PreOrdersFactory.Merchant, "wrong-password", HttpStatusCode.Unauthorized)]
    [InlineData("no-such-merchant", "whatever-password", HttpStatusCode.Unauthorized)]
    [InlineData("gift-partner", PreOrdersFactory.Password, HttpStatusCode.Forbidden)]
    public async Task Login_refuses_bad_credentials_with_401_and_accounts_without_access_with_403(string username, string password, HttpStatusCode expected)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username, password });

        Assert.Equal(expected, response.StatusCode);
        Assert.True((await Json(response)).TryGetProperty("error", out _));
    }

    [Fact]
    public async Task Creating_a_pre_order_returns_its_qr_code_payment_url_and_times()
    {
        var merchant = await app.MerchantClientAsync();
        var expiration = app.In(TimeSpan.FromDays(30));

        var response = await merchant.PostAsJsonAsync("/api/pre-orders", PreOrdersFactory.Body(expiration));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("pre_order_", id);
        Assert.Equal("pending", body.GetProperty("status").GetString());
        Assert.Equal($"{PreOrdersFactory.BaseUrl}/pay/{id}", body.GetProperty("payment_url").GetString());
        var qr = body.GetProperty("qr_code").GetString()!;
        Assert.StartsWith("data:image/png;base64,", qr);
        var png = Convert.FromBase64String(qr["data:image/png;base64,".Length..]);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        Assert.Equal(expiration, body.GetProperty("expires_at").GetString());
        Assert.Equal(app.Time.GetUtcNow(), DateTimeOffset.Parse(body.GetProperty("created_at").GetString()!));
        Assert.Equal($"/api/pre-orders/{id}", response.Headers.Location?.ToString());
    }

    [Theory]
    [InlineData("{\"amount\":0,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "'amount' must be greater than 0")]
    [InlineData("{\"amount\":-5,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "'amount' must be greater than 0")]
    [InlineData("{\"amount\":1.001,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "at most 2 decimal places for USD")]
    [InlineData("{\"amount\":1.5,\"currency\":\"JPY\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "at most 0 decimal places for JPY")]
    [InlineData("{\"amount\":\"100\",\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "'amount' must be a number")]
    [InlineData("{\"amount\":1e30,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "amount")]
    [InlineData("{\"amount\":79228162514264337593543950335,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "amount")]
    [InlineData("{\"amount\":7.9e27,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "amount")]
    [InlineData("{\"amount\":10,\"currency\":\"XYZ\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "ISO 4217")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "'description' is required")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"2020-01-01T00:00:00Z\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "must be in the future")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"2099-01-01T00:00:00Z\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "at most one year away")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"2026-12-01T10:00:00\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "with a time zone")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"tomorrow\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "ISO 8601")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\"}", "Missing required field(s): 'customer'")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"not-an-email\",\"phone\":\"+1234567890\"}}", "'customer.email' must be a valid email")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"call me\"}}", "'customer.phone' must be a phone number")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":{\"name\":\"\",\"email\":\"a@b.co\",\"phone\":\"+1234567890\"}}", "'customer.name' is required")]
    [InlineData("{\"amount\":10,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"@future\",\"customer\":\"John\"}", "'customer' must be")]
    [InlineData("{\"amount\":10,", "not valid JSON")]
    public async Task Invalid_pre_orders_are_refused_with_a_400_naming_the_field(string json, string expected)
    {
        var merchant = await app.MerchantClientAsync();
        json = json.Replace("@future", app.In(TimeSpan.FromDays(1)), StringComparison.Ordinal);

        var response = await merchant.PostAsync("/api/pre-orders", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, ErrorMessage(await Json(response)));
    }

    [Fact]
    public async Task A_currency_in_lower_case_and_its_exact_minor_units_are_accepted()
    {
        var merchant = await app.MerchantClientAsync();

        var response = await merchant.PostAsJsonAsync("/api/pre-orders", PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1)), 12.345m, "kwd"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await Json(response)).GetProperty("id").GetString();
        var order = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");
        Assert.Equal("KWD", order.GetProperty("currency").GetString());
        Assert.Equal("12.345", order.GetProperty("amount").GetRawText());
    }

    [Fact]
    public async Task Only_merchants_with_a_valid_token_reach_the_pre_orders()
    {
        var anonymous = await app.CreateClient().GetAsync("/api/pre-orders");
        var partner = await app.CreateClientFor("gift-partner", ClientKinds.Partner).GetAsync("/api/pre-orders");
        var admin = await app.CreateClientAs(1, Roles.Admin).PostAsJsonAsync("/api/pre-orders", PreOrdersFactory.Body(app.In(TimeSpan.FromDays(1))));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, partner.StatusCode);
        // A platform token is another audience's: the merchant API does not accept it at all.
        Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
        Assert.Equal("unauthorized", (await Json(anonymous)).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Getting_a_pre_order_shows_the_document_fields_and_no_payment_details_until_paid()
    {
        var merchant = await app.MerchantClientAsync();
        var created = await app.CreateAsync(merchant, TimeSpan.FromDays(2));
        var id = created.GetProperty("id").GetString();

        var body = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");

        Assert.Equal(id, body.GetProperty("id").GetString());
        Assert.Equal("pending", body.GetProperty("status").GetString());
        Assert.Equal("100.00", body.GetProperty("amount").GetRawText());
        Assert.Equal("USD", body.GetProperty("currency").GetString());
        Assert.Equal("Pre-order for product X", body.GetProperty("description").GetString());
        Assert.Equal("john@example.com", body.GetProperty("customer").GetProperty("email").GetString());
        Assert.False(body.TryGetProperty("payment_details", out _));
        Assert.Equal(created.GetProperty("expires_at").GetString(), body.GetProperty("expires_at").GetString());
    }

    [Theory]
    [InlineData("pre_order_0000000000000000deadbeef")]
    [InlineData("nope")]
    [InlineData("pre_order_%2F..%2F")]
    public async Task An_unknown_id_is_a_404(string id)
    {
        var merchant = await app.MerchantClientAsync();

        var response = await merchant.GetAsync($"/api/pre-orders/{id}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Another_merchants_pre_order_is_a_404_for_reading_cancelling_and_listing()
    {
        var owner = await app.MerchantClientAsync();
        var other = await app.MerchantClientAsync(PreOrdersFactory.OtherMerchant);
        var id = (await app.CreateAsync(owner, TimeSpan.FromDays(1))).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/pre-orders/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/pre-orders/{id}/cancel", null)).StatusCode);
        var list = await other.GetFromJsonAsync<JsonElement>("/api/pre-orders?limit=100");
        Assert.DoesNotContain(list.GetProperty("data").EnumerateArray(), o => o.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task Listing_is_newest_first_with_status_filter_and_paging()
    {
        await app.Get<Serverless.Platform.Identity.ApiClientDirectory>().CreateAsync(ClientKinds.Merchant, "Lister", "lister-shop", PreOrdersFactory.Password);
        var merchant = await app.MerchantClientAsync("lister-shop");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await app.CreateAsync(merchant, TimeSpan.FromHours(1 + i))).GetProperty("id").GetString()!);
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }
        await merchant.PostAsync($"/api/pre-orders/{ids[4]}/cancel", null);

        var all = await merchant.GetFromJsonAsync<JsonElement>("/api/pre-orders");
        var page = await merchant.GetFromJsonAsync<JsonElement>("/api/pre-orders?limit=2&offset=1");
        var cancelled = await merchant.GetFromJsonAsync<JsonElement>("/api/pre-orders?status=cancelled");
        var pending = await merchant.GetFromJsonAsync<JsonElement>("/api/pre-orders?status=pending");

        Assert.Equal(ids.AsEnumerable().Reverse(), all.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
        Assert.Equal([ids[3], ids[2]], page.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.Equal([ids[4]], cancelled.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
        Assert.Equal(4, pending.GetProperty("data").GetArrayLength());

        // One hour on, the first is past its expiry: reported expired before any deadline has run.
        app.Time.Advance(TimeSpan.FromHours(1));
        var expired = await merchant.GetFromJsonAsync<JsonElement>("/api/pre-orders?status=expired");
        Assert.Equal([ids[0]], expired.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("?status=unknown", "'status' must be one of")]
    [InlineData("?limit=0", "'limit' must be between 1 and 100")]
    [InlineData("?limit=101", "'limit' must be between 1 and 100")]
    [InlineData("?offset=-1", "'offset' must be between")]
    [InlineData("?limit=abc", "Invalid value for 'limit'")]
    public async Task Bad_list_parameters_are_a_400(string query, string expected)
    {
        var merchant = await app.MerchantClientAsync();

        var response = await merchant.GetAsync("/api/pre-orders" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, ErrorMessage(await Json(response)));
    }

    [Fact]
    public async Task The_same_idempotency_key_creates_one_pre_order()
    {
        var merchant = await app.MerchantClientAsync();
        var body = PreOrdersFactory.Body(app.In(TimeSpan.FromDays(3)), 42.00m);
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/pre-orders") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "order-42");
            return request;
        }

        var first = await Json(await merchant.SendAsync(Request()));
        var second = await merchant.SendAsync(Request());

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(first.GetProperty("id").GetString(), (await Json(second)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Admin_creates_merchants_and_sets_their_webhook_with_a_secret_shown_once()
    {
        var admin = app.CreateClientAs(1, Roles.Admin);

        var created = await admin.PostAsJsonAsync("/api/admin/merchants", new { username = "new-merchant", password = "new-merchant-password", name = "New" });
        var duplicate = await admin.PostAsJsonAsync("/api/admin/merchants", new { username = "new-merchant", password = "new-merchant-password" });
        var weak = await admin.PostAsJsonAsync("/api/admin/merchants", new { username = "weak-merchant", password = "short" });
        var byMerchant = await (await app.MerchantClientAsync()).PostAsJsonAsync("/api/admin/merchants", new { username = "x-merchant", password = "x-merchant-password" });
        var hook = app.Receiver.Add("new-merchant");
        var webhook = await admin.PutAsJsonAsync("/api/admin/merchants/new-merchant/webhook", new { url = hook.Url });
        var again = await admin.PutAsJsonAsync("/api/admin/merchants/new-merchant/webhook", new { url = hook.Url });
        var unknown = await admin.PutAsJsonAsync("/api/admin/merchants/nobody/webhook", new { url = hook.Url });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        // The merchant admin API takes platform tokens; a merchant's pre-order token is not one.
        Assert.Equal(HttpStatusCode.Unauthorized, byMerchant.StatusCode);
        Assert.StartsWith("whsec_", (await Json(webhook)).GetProperty("secret").GetString());
        Assert.False((await Json(again)).TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = "new-merchant", password = "new-merchant-password" })).StatusCode);
    }

    [Fact]
    public async Task Hostile_input_never_causes_a_500()
    {
        var merchant = await app.MerchantClientAsync();
        string[] bodies =
        [
            "null", "[]", "\"text\"", "{}", "{\"amount\":{}}", "{\"amount\":[1]}", "{\"customer\":{\"name\":{\"$ne\":1}}}",
            "{\"amount\":1,\"currency\":\"U\\u0000SD\",\"description\":\"x\",\"expiration_date\":\"x\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"1\"}}",
            "{\"amount\":79228162514264337593543950335,\"currency\":\"USD\",\"description\":\"x\",\"expiration_date\":\"x\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"1\"}}",
            "{\"amount\":10,\"currency\":\"USD\",\"description\":\"" + new string('x', 5000) + "\",\"expiration_date\":\"x\",\"customer\":{\"name\":\"a\",\"email\":\"a@b.co\",\"phone\":\"1\"}}",
            new string('[', 10000) + new string(']', 10000),
        ];
        foreach (var json in bodies)
        {
            var response = await merchant.PostAsync("/api/pre-orders", new StringContent(json, Encoding.UTF8, "application/json"));
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{json[..Math.Min(60, json.Length)]} → {(int)response.StatusCode}");
        }
        foreach (var path in new[] { "/api/pre-orders/" + new string('a', 3000), "/pay/" + new string('b', 3000) + "/status" })
        {
            var response = await merchant.GetAsync(path);
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path[..Math.Min(60, path.Length)]} → {(int)response.StatusCode}");
        }
    }
}
