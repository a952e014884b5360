using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

public sealed class ECardOrdersTests(ECardsFactory app) : IClassFixture<ECardsFactory>
{
    private static string NewId() => Guid.NewGuid().ToString().ToUpperInvariant();

    [Fact]
    public async Task The_catalogue_lists_e_cards_with_their_face_values()
    {
        var cards = await app.PartnerClient().GetFromJsonAsync<JsonElement>("/v1/ecards");

        var books = cards.EnumerateArray().Single(c => c.GetProperty("id").GetInt32() == 1);
        Assert.Equal("Books", books.GetProperty("name").GetString());
        Assert.Equal("Books gift card", books.GetProperty("description").GetString());
        Assert.Equal("RUB", books.GetProperty("unit").GetString());
        var faceValue = books.GetProperty("faceValues")[2];
        Assert.Equal("1000 ₽", faceValue.GetProperty("name").GetString());
        Assert.Equal(1000, faceValue.GetProperty("price").GetInt64());
    }

    [Fact]
    public async Task The_balance_is_a_string()
    {
        var (_, partner) = await app.NewPartnerAsync(100_500);

        var body = await partner.GetFromJsonAsync<JsonElement>("/v1/balance");

        Assert.Equal(JsonValueKind.String, body.GetProperty("balance").ValueKind);
        Assert.Equal("100500", body.GetProperty("balance").GetString());
    }

    [Fact]
    public async Task An_order_is_debited_delivered_by_email_and_readable_with_its_certificates()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(5000);
        var orderId = NewId();
        var email = $"{Guid.NewGuid():N}@example.test";

        var response = await partner.PostAsJsonAsync("/v1/orders", OrderFor(orderId, email, Line("1", 1, "100 ₽"), Line(2, 4, "500 ₽")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var created = await Json(response);
        Assert.Equal(orderId.ToLowerInvariant(), created.GetProperty("id").GetString());
        Assert.Equal(2100m, created.GetProperty("total").GetDecimal());
        Assert.Equal("Delivered", created.GetProperty("status").GetString());
        Assert.Equal(email, created.GetProperty("participantLogin").GetString());
        Assert.True(created.GetProperty("number").GetInt64() > 0);
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime, DateTime.Parse(created.GetProperty("createdDate").GetString()!, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal));
        Assert.Equal("2900", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());

        var status = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status");
        Assert.Equal("Delivered", status.GetProperty("status").GetString());

        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");
        Assert.Equal(2, details.GetProperty("ecards").GetArrayLength());
        Assert.Equal(2000m, details.GetProperty("ecards")[1].GetProperty("amount").GetDecimal());
        Assert.Equal("John Doe", details.GetProperty("participant").GetProperty("name").GetString());
        var codes = details.GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("code").GetString()!).ToList();
        Assert.Equal(5, codes.Distinct().Count());
        Assert.Equal(4, details.GetProperty("certificates").EnumerateArray().Count(c => c.GetProperty("id").GetInt32() == 2));

        var emails = await app.EmailsAsync(email);
        var mail = Assert.Single(emails);
        Assert.All(codes, code => Assert.Contains(code, mail.Text));

        var money = await app.MoneyAsync(partnerId);
        Assert.Equal(money.Balance, money.LedgerSum);
        Assert.Equal(1, money.Debits);
    }

    [Fact]
    public async Task Sending_the_same_order_again_returns_the_first_result_and_charges_once()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(5000);
        var orderId = NewId();
        var body = Order(orderId, Line(1, 2, "1000 ₽"));

        var first = await Json(await partner.PostAsJsonAsync("/v1/orders", body));
        var again = await partner.PostAsJsonAsync("/v1/orders", body);
        var lowerCase = await partner.PostAsJsonAsync("/v1/orders", Order(orderId.ToLowerInvariant(), Line(1, 2, "1000 ₽")));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = await Json(again);
        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Equal(first.GetProperty("number").GetInt64(), second.GetProperty("number").GetInt64());
        Assert.Equal(HttpStatusCode.OK, lowerCase.StatusCode);
        Assert.Equal("3000", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Equal(1, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
        Assert.Equal(1, (await app.MoneyAsync(partnerId)).Debits);
    }

    [Fact]
    public async Task The_same_order_id_with_a_different_body_is_a_conflict()
    {
        var (_, partner) = await app.NewPartnerAsync(5000);
        var orderId = NewId();
        await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(1, 1, "100 ₽")));

        var response = await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(1, 2, "100 ₽")));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("order_id_conflict", (await Json(response)).GetProperty("error").GetString());
        Assert.Equal("4900", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task An_order_above_the_balance_is_refused_and_creates_nothing()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(999);
        var orderId = NewId();

        var response = await partner.PostAsJsonAsync("/v1/orders", Order(orderId, Line(1, 1, "1000 ₽")));

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("insufficient_balance", body.GetProperty("error").GetString());
        Assert.Contains("999", body.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await partner.GetAsync($"/v1/orders/{orderId}/status")).StatusCode);
        Assert.Equal(0, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
        Assert.Equal((999L, 999L, 0), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task A_partner_without_any_balance_gets_zero_and_cannot_order()
    {
        var (_, partner) = await app.NewPartnerAsync(0);

        Assert.Equal("0", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Equal(HttpStatusCode.PaymentRequired, (await partner.PostAsJsonAsync("/v1/orders", Order(NewId(), Line(1, 1, "100 ₽")))).StatusCode);
    }

    public static TheoryData<string> HostileBodies => new()
    {
        "{}",
        "null",
        "[]",
        "\"text\"",
        "{\"orderId\": \"not-a-uuid\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": 42, \"participant\": {}, \"ecards\": []}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\"}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": null, \"ecards\": null}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"nope\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"call me\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": []}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [null]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 0, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 101, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": -5, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": \"two\", \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1e40, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 999999, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": \"1; drop\", \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": {\"x\": 1}, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1, \"faceValue\": \"777 ₽\"}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 1}]}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": \"all of them\"}",
        "{\"orderId\": \"b5aa69df-61a5-4d97-b1fb-4f6772dfbbeb\", \"participant\": {\"email\": \"a@b.cd\", \"name\": \"A\", \"phone\": \"79251153242\"}, \"ecards\": [{\"id\": 1, \"quantity\": 100, \"faceValue\": \"100 ₽\"}, {\"id\": 1, \"quantity\": 100, \"faceValue\": \"100 ₽\"}, {\"id\": 1, \"quantity\": 1, \"faceValue\": \"100 ₽\"}]}",
        "{\"orderId\": ",
        "not json at all",
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task Hostile_order_bodies_are_400s_that_charge_nothing(string json)
    {
        var (partnerId, partner) = await app.NewPartnerAsync(1_000_000);

        var response = await partner.PostAsync("/v1/orders", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await Json(response);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        Assert.Equal(0, (await app.MoneyAsync(partnerId)).Debits);
    }

    [Fact]
    public async Task Unknown_e_cards_and_face_values_are_named_in_the_error()
    {
        var (_, partner) = await app.NewPartnerAsync(10_000);

        var unknownCard = await Json(await partner.PostAsJsonAsync("/v1/orders", Order(NewId(), Line(424242, 1, "100 ₽"))));
        var unknownFace = await Json(await partner.PostAsJsonAsync("/v1/orders", Order(NewId(), Line(1, 1, "777 ₽"))));

        Assert.Equal("unknown_ecard", unknownCard.GetProperty("error").GetString());
        Assert.Equal("unknown_face_value", unknownFace.GetProperty("error").GetString());
        Assert.Contains("1000 ₽", unknownFace.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Orders_list_newest_first_twenty_a_page()
    {
        var (_, partner) = await app.NewPartnerAsync(100_000);
        var ids = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            var id = NewId().ToLowerInvariant();
            ids.Add(id);
            Assert.Equal(HttpStatusCode.OK, (await partner.PostAsJsonAsync("/v1/orders", Order(id, Line(1, 1, "100 ₽")))).StatusCode);
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var first = await partner.GetFromJsonAsync<JsonElement>("/v1/orders?page=1");
        var implicitFirst = await partner.GetFromJsonAsync<JsonElement>("/v1/orders");
        var second = await partner.GetFromJsonAsync<JsonElement>("/v1/orders?page=2");
        var past = await partner.GetFromJsonAsync<JsonElement>("/v1/orders?page=3");

        Assert.Equal(20, first.GetProperty("data").GetArrayLength());
        Assert.Equal(2, first.GetProperty("totalPages").GetInt32());
        Assert.Equal(1, first.GetProperty("currentPage").GetInt32());
        Assert.Equal(20, first.GetProperty("pageSize").GetInt32());
        Assert.Equal(ids[24], first.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(ids[5], first.GetProperty("data")[19].GetProperty("id").GetString());
        Assert.Equal(first.GetProperty("data")[0].GetProperty("id").GetString(), implicitFirst.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(5, second.GetProperty("data").GetArrayLength());
        Assert.Equal(ids[0], second.GetProperty("data")[4].GetProperty("id").GetString());
        Assert.Equal(2, second.GetProperty("currentPage").GetInt32());
        Assert.Equal(0, past.GetProperty("data").GetArrayLength());
        Assert.Equal(3, past.GetProperty("currentPage").GetInt32());
        Assert.Equal(100m, first.GetProperty("data")[0].GetProperty("total").GetDecimal());
        var numbers = first.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("number").GetInt64()).ToList();
        Assert.Equal(numbers.OrderDescending(), numbers);
    }

    [Fact]
    public async Task A_partner_without_orders_has_an_empty_first_page()
    {
        var (_, partner) = await app.NewPartnerAsync(0);

        var page = await partner.GetFromJsonAsync<JsonElement>("/v1/orders?page=1");

        Assert.Equal(0, page.GetProperty("data").GetArrayLength());
        Assert.Equal(0, page.GetProperty("totalPages").GetInt32());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999")]
    [InlineData("")]
    public async Task A_page_that_is_not_a_number_from_one_is_a_400(string page)
    {
        var response = await app.PartnerClient().GetAsync($"/v1/orders?page={page}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("validation_error", (await Json(response)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Another_partners_order_is_not_found()
    {
        var orderId = NewId();
        Assert.Equal(HttpStatusCode.OK, (await app.PartnerClient().PostAsJsonAsync("/v1/orders", Order(orderId, Line(1, 1, "100 ₽")))).StatusCode);

        var other = app.PartnerClient(OtherPartner);
        var status = await other.GetAsync($"/v1/orders/{orderId}/status");
        var details = await other.GetAsync($"/v1/orders/{orderId}");
        var list = await other.GetFromJsonAsync<JsonElement>("/v1/orders");

        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Equal("not_found", (await Json(status)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, details.StatusCode);
        Assert.DoesNotContain(list.GetProperty("data").EnumerateArray(), o => o.GetProperty("id").GetString() == orderId.ToLowerInvariant());
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("%3Cscript%3E")]
    public async Task Unknown_or_malformed_order_ids_are_404s(string orderId)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await app.PartnerClient().GetAsync($"/v1/orders/{orderId}/status")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.PartnerClient().GetAsync($"/v1/orders/{orderId}")).StatusCode);
    }

    [Fact]
    public async Task Short_stock_leaves_the_order_awaiting_and_new_codes_deliver_it()
    {
        var (partnerId, partner) = await app.NewPartnerAsync(10_000);
        var (card, codes) = await app.NewECardAsync(0);
        var orderId = NewId();
        var email = $"{Guid.NewGuid():N}@example.test";

        var created = await Json(await partner.PostAsJsonAsync("/v1/orders", OrderFor(orderId, email, Line(card, 3))));
        Assert.Equal("AwaitingCertificateAssignment", created.GetProperty("status").GetString());
        Assert.Equal("8500", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        Assert.Equal(0, (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}")).GetProperty("certificates").GetArrayLength());

        var load = await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { "PART-ONE" } });
        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        Assert.Equal("PartiallyDelivered", (await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}/status")).GetProperty("status").GetString());
        Assert.Single((await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}")).GetProperty("certificates").EnumerateArray());

        await app.Admin().PostAsJsonAsync($"/v1/admin/ecards/{card}/codes", new { faceValue = "500 ₽", codes = new[] { "PART-TWO", "PART-THREE", "SPARE-FOUR" } });
        var details = await partner.GetFromJsonAsync<JsonElement>($"/v1/orders/{orderId}");

        Assert.Equal("Delivered", details.GetProperty("status").GetString());
        var delivered = details.GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("code").GetString()).ToList();
        Assert.Equal(3, delivered.Count);
        Assert.Contains("PART-ONE", delivered);
        var emails = await app.EmailsAsync(email);
        Assert.Equal(2, emails.Count);
        Assert.Single(emails, e => e.Text!.Contains("PART-ONE"));
        var money = await app.MoneyAsync(partnerId);
        Assert.Equal((8500L, 8500L, 1), money);
    }
}
