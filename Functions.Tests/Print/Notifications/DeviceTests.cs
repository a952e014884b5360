using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Notifications;

namespace Serverless.Tests.Print.Notifications;

/// <summary>Registering, listing and removing the devices that receive a user's pushes; and pushes without FCM settings.</summary>
public sealed class DeviceTests(NoFcmFactory app) : IClassFixture<NoFcmFactory>
{
    private static string NewToken() => "fcm-" + Guid.NewGuid().ToString("N") + ":APA91b" + new string('x', 140);

    private static Task<HttpResponseMessage> Register(HttpClient client, object body) => client.PostAsJsonAsync("/devices", body);

    private static async Task<List<JsonElement>> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<List<JsonElement>>("/devices"))!;

    private List<string> DeviceRows(long userId) =>
        app.Get<StorageAccount>().Table(UserDirectory.TableName)
            .Query<TableEntity>($"PartitionKey eq '{UserDirectory.PartitionOf(userId)}'")
            .Select(r => r.RowKey).Where(k => k.StartsWith(PrintDevices.RowPrefix, StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_device_is_registered_listed_and_removed()
    {
        var customer = await app.SignUpAsync();
        var client = app.Bearer(customer);
        var token = NewToken();
        var now = Serverless.Print.Accounts.PrintTimes.Format(app.Time.GetUtcNow());

        var created = await Register(client, new { fcm_token = token });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(token, body.GetProperty("fcm_token").GetString());
        Assert.Equal(now, body.GetProperty("registered_at").GetString());
        var listed = Assert.Single(await ListAsync(client));
        Assert.Equal(token, listed.GetProperty("fcm_token").GetString());
        Assert.Equal([PrintDevices.RowPrefix + PrintDevices.DeviceId(token)], DeviceRows(customer.Id));

        var removed = await client.DeleteAsync("/devices/" + Uri.EscapeDataString(token));

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Empty(await ListAsync(client));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/devices/" + Uri.EscapeDataString(token))).StatusCode);
    }

    [Fact]
    public async Task Registering_the_same_token_again_answers_the_same_row()
    {
        var customer = await app.SignUpAsync();
        var client = app.Bearer(customer);
        var token = NewToken();
        var first = await (await Register(client, new { fcm_token = token })).Content.ReadFromJsonAsync<JsonElement>();
        app.Time.Advance(TimeSpan.FromHours(1));

        var again = await Register(client, new { fcm_token = token });

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var body = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(first.GetProperty("registered_at").GetString(), body.GetProperty("registered_at").GetString());
        Assert.Single(await ListAsync(client));
    }

    [Fact]
    public async Task A_user_keeps_the_ten_newest_devices()
    {
        var shopkeeper = await app.SignUpAsync(role: "shopkeeper");
        var client = app.Bearer(shopkeeper);
        var tokens = Enumerable.Range(0, 11).Select(_ => NewToken()).ToList();
        foreach (var token in tokens)
        {
            Assert.Equal(HttpStatusCode.Created, (await Register(client, new { fcm_token = token })).StatusCode);
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var listed = (await ListAsync(client)).Select(d => d.GetProperty("fcm_token").GetString()!).ToList();

        Assert.Equal(tokens.Skip(1).Reverse().ToList(), listed);
        Assert.Equal(10, DeviceRows(shopkeeper.Id).Count);
    }

    [Fact]
    public async Task Devices_need_a_signed_in_user()
    {
        var anonymous = app.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await Register(anonymous, new { fcm_token = NewToken() })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/devices/" + NewToken())).StatusCode);
    }

    [Fact]
    public async Task Another_users_device_cannot_be_removed()
    {
        var owner = await app.SignUpAsync();
        var other = await app.SignUpAsync();
        var token = NewToken();
        await Register(app.Bearer(owner), new { fcm_token = token });

        var removed = await app.Bearer(other).DeleteAsync("/devices/" + Uri.EscapeDataString(token));

        Assert.Equal(HttpStatusCode.NotFound, removed.StatusCode);
        Assert.Single(await ListAsync(app.Bearer(owner)));
        Assert.Empty(await ListAsync(app.Bearer(other)));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"fcm_token\": null}")]
    [InlineData("{\"fcm_token\": \"\"}")]
    [InlineData("{\"fcm_token\": \"has space\"}")]
    [InlineData("{\"fcm_token\": \"line\\nbreak\"}")]
    [InlineData("{\"fcm_token\": \"caf\u00e9\"}")]
    [InlineData("{\"fcm_token\": 12}")]
    [InlineData("not json")]
    public async Task A_bad_token_is_refused(string json)
    {
        var customer = await app.SignUpAsync();

        var response = await app.Bearer(customer).PostAsync("/devices", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(DeviceRows(customer.Id));
    }

    [Fact]
    public async Task A_token_longer_than_4096_characters_is_refused()
    {
        var customer = await app.SignUpAsync();
        var client = app.Bearer(customer);

        Assert.Equal(HttpStatusCode.BadRequest, (await Register(client, new { fcm_token = new string('a', 4097) })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Register(client, new { fcm_token = new string('a', 4096) })).StatusCode);
    }

    [Fact]
    public async Task Deleting_the_account_removes_its_devices()
    {
        var customer = await app.SignUpAsync();
        await Register(app.Bearer(customer), new { fcm_token = NewToken() });
        await Register(app.Bearer(customer), new { fcm_token = NewToken() });
        Assert.Equal(2, DeviceRows(customer.Id).Count);

        var deleted = await app.Bearer(customer).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = customer.Password }));

        Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
        Assert.Empty(DeviceRows(customer.Id));
    }

    [Fact]
    public async Task Without_FCM_settings_the_push_goes_to_the_development_outbox_with_the_email()
    {
        var customer = await app.SignUpAsync();
        var token = NewToken();
        await Register(app.Bearer(customer), new { fcm_token = token });

        await app.Get<PrintNotifications>().NotifyOrderCancelledAsync(customer.Id, 4242, "Shop of Test", "Printer out of order", 12.5m, default);

        var pushes = await app.CreateClient().GetFromJsonAsync<List<JsonElement>>($"/dev/outbox/push?user_id={customer.Id}");
        var push = Assert.Single(pushes!);
        Assert.Equal(PrintDevices.DeviceId(token), push.GetProperty("device_id").GetString());
        Assert.Equal("Order cancelled", push.GetProperty("title").GetString());
        Assert.Equal("Shop of Test cancelled your order #4242 and refunded ₹12.5: Printer out of order",
            push.GetProperty("body").GetString());
        Assert.Equal("order_cancelled", push.GetProperty("data").GetProperty("type").GetString());
        Assert.Equal("4242", push.GetProperty("data").GetProperty("order_id").GetString());
        Assert.Equal("Printer out of order", push.GetProperty("data").GetProperty("reason").GetString());
        Assert.DoesNotContain(token, await app.CreateClient().GetStringAsync($"/dev/outbox/push?user_id={customer.Id}"));
        var email = await app.Get<Serverless.Platform.Email.Outbox>().LatestAsync(customer.Email);
        Assert.Equal("Your QPrint order #4242 was cancelled", email?.Subject);
    }
}
