using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Serverless.Platform.Identity;
using Serverless.Platform.Webhooks;

namespace Serverless.Tests.Platform.Webhooks;

public sealed class WebhooksApiTests(WebhookFactory app) : IClassFixture<WebhookFactory>
{
    private static string NewOwner() => "owner-" + Guid.NewGuid().ToString("N")[..8];

    public static TheoryData<string, string> Routes => new()
    {
        { "PUT", "/platform/webhooks/endpoints/o1" },
        { "GET", "/platform/webhooks/endpoints/o1" },
        { "POST", "/platform/webhooks/endpoints/o1/rotate-secret" },
        { "GET", "/platform/webhooks/deliveries?owner_id=o1" },
        { "POST", "/platform/webhooks/deliveries/dlv_x/redeliver?owner_id=o1" },
        { "POST", "/platform/webhooks/deliveries/dlv_x/retry?owner_id=o1" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_webhook_admin_route_answers_401_without_a_token_and_403_without_the_admin_role(string method, string path)
    {
        HttpRequestMessage Request() => new(new HttpMethod(method), path)
        {
            Content = method == "PUT" ? JsonContent.Create(new { url = "https://example.com/hook" }) : null,
        };

        var anonymous = await app.CreateClient().SendAsync(Request());
        var customer = await app.CreateClientAs(77, Serverless.Print.PrintRoles.Customer).SendAsync(Request());
        var merchant = await app.CreateClientFor("merchant-1", ClientKinds.Merchant).SendAsync(Request());

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, customer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, merchant.StatusCode);
    }

    [Fact]
    public async Task A_replayed_endpoint_creation_or_rotation_returns_the_same_secret_and_storage_never_holds_it_in_plaintext()
    {
        var owner = NewOwner();
        var admin = app.Admin();
        var url = new Uri(app.Receiver.BaseAddress, "hooks/" + owner).ToString();
        HttpRequestMessage Put() => new(HttpMethod.Put, $"/platform/webhooks/endpoints/{owner}")
        {
            Content = JsonContent.Create(new { url }),
            Headers = { { "Idempotency-Key", "create-" + owner } },
        };
        HttpRequestMessage Rotate() => new(HttpMethod.Post, $"/platform/webhooks/endpoints/{owner}/rotate-secret")
        {
            Headers = { { "Idempotency-Key", "rotate-" + owner } },
        };

        var created = await admin.SendAsync(Put());
        var createdAgain = await admin.SendAsync(Put());
        var rotated = await admin.SendAsync(Rotate());
        var rotatedAgain = await admin.SendAsync(Rotate());

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, createdAgain.StatusCode);
        Assert.Equal(await created.Content.ReadAsStringAsync(), await createdAgain.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, rotatedAgain.StatusCode);
        Assert.Equal(await rotated.Content.ReadAsStringAsync(), await rotatedAgain.Content.ReadAsStringAsync());
        var createdSecret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        var rotatedSecret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.NotEqual(createdSecret, rotatedSecret);
        // The rotation was applied once: the replayed secret is the one that signs.
        Assert.Equal(rotatedSecret, (await app.Get<WebhookEndpoints>().FindAsync(owner))!.Secret);
        Assert.False(await Serverless.Tests.Infrastructure.IdempotencyStore.HoldsAsync(app, createdSecret));
        Assert.False(await Serverless.Tests.Infrastructure.IdempotencyStore.HoldsAsync(app, rotatedSecret));
        Assert.False(await Serverless.Tests.Infrastructure.IdempotencyStore.HoldsAsync(app, "whsec_"));
    }

    [Fact]
    public async Task An_endpoint_is_created_with_a_secret_shown_once_then_changed_and_rotated()
    {
        var owner = NewOwner();
        var admin = app.Admin();
        var url = new Uri(app.Receiver.BaseAddress, "hooks/" + owner).ToString();

        var created = await admin.PutAsJsonAsync($"/platform/webhooks/endpoints/{owner}", new { url });
        var read = await admin.GetFromJsonAsync<JsonElement>($"/platform/webhooks/endpoints/{owner}");
        var disabled = await admin.PutAsJsonAsync($"/platform/webhooks/endpoints/{owner}", new { url, enabled = false });
        var rotated = await admin.PostAsync($"/platform/webhooks/endpoints/{owner}/rotate-secret", null);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(owner, body.GetProperty("owner_id").GetString());
        Assert.Equal(url, body.GetProperty("url").GetString());
        Assert.True(body.GetProperty("enabled").GetBoolean());
        var secret = body.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.False(read.TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        var disabledBody = await disabled.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(disabledBody.GetProperty("enabled").GetBoolean());
        Assert.False(disabledBody.TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newSecret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();
        Assert.StartsWith("whsec_", newSecret);
        Assert.NotEqual(secret, newSecret);
        Assert.Equal(newSecret, (await app.Get<WebhookEndpoints>().FindAsync(owner))!.Secret);
    }

    [Fact]
    public async Task Deliveries_are_signed_with_the_rotated_secret()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var rotated = await app.Admin().PostAsync($"/platform/webhooks/endpoints/{owner}/rotate-secret", null);
        hook.Secret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();

        await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"));
        await app.DrainAsync();

        Assert.True(Assert.Single(hook.Received).StandardSignatureValid);
    }

    [Fact]
    public async Task Unknown_owners_and_deliveries_are_404()
    {
        var admin = app.Admin();
        var owner = NewOwner();

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/platform/webhooks/endpoints/{owner}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/platform/webhooks/endpoints/{owner}/rotate-secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/platform/webhooks/deliveries/dlv_nope/redeliver?owner_id={owner}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound,
            (await admin.PostAsync($"/platform/webhooks/deliveries/dlv_0000000000000000000_abcdef/redeliver?owner_id={owner}", null)).StatusCode);
        Assert.Equal("[]", await admin.GetStringAsync($"/platform/webhooks/deliveries?owner_id={owner}"));
    }

    [Fact]
    public async Task Redelivering_to_a_disabled_endpoint_is_a_409()
    {
        var owner = NewOwner();
        await app.RegisterAsync(owner, new Reply(410));
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"));
        await app.DrainAsync();

        var response = await app.Admin().PostAsync($"/platform/webhooks/deliveries/{published.DeliveryIds[0]}/redeliver?owner_id={owner}", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("endpoint_disabled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Redelivering_a_delivery_that_is_still_pending_is_a_409_and_sends_nothing_more()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner);
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"));

        var response = await app.Admin().PostAsync($"/platform/webhooks/deliveries/{published.DeliveryIds[0]}/redeliver?owner_id={owner}", null);
        await app.DrainAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("delivery_in_progress", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Single(hook.Received);
        Assert.Single(await app.Publisher.ListDeliveriesAsync(owner, 10));
    }

    [Theory]
    [InlineData("PUT", "/platform/webhooks/endpoints/o2", """{"url":"ftp://example.com"}""", "'url' must be an absolute https:// URL.")]
    [InlineData("PUT", "/platform/webhooks/endpoints/o2", """{"url":""}""", "'url' is required.")]
    [InlineData("PUT", "/platform/webhooks/endpoints/o2", """{"url":42}""", "Field 'url' must be a string.")]
    [InlineData("PUT", "/platform/webhooks/endpoints/o2", """{"enabled":true}""", "Missing required field(s): 'url'.")]
    [InlineData("PUT", "/platform/webhooks/endpoints/o2", """{"url":"https://example.com","enabled":"yes"}""", "Field 'enabled' must be true or false.")]
    [InlineData("PUT", "/platform/webhooks/endpoints/o2", "", "A JSON request body is required.")]
    [InlineData("GET", "/platform/webhooks/deliveries", null, "'owner_id' is required.")]
    [InlineData("GET", "/platform/webhooks/deliveries?owner_id=o2&limit=0", null, "'limit' must be between 1 and 100.")]
    [InlineData("GET", "/platform/webhooks/deliveries?owner_id=o2&limit=many", null, "Invalid value for 'limit'")]
    [InlineData("POST", "/platform/webhooks/deliveries/dlv_x/redeliver", null, "'owner_id' is required.")]
    public async Task Bad_input_is_a_400_that_names_the_problem(string method, string path, string? json, string message)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
        };

        var response = await app.Admin().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_listing_is_newest_first_and_honours_the_limit()
    {
        var owner = NewOwner();
        await app.RegisterAsync(owner);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString($"{{\"n\":{i}}}"))).DeliveryIds[0]);
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }
        await app.DrainAsync();

        var list = await app.Admin().GetFromJsonAsync<JsonElement>($"/platform/webhooks/deliveries?owner_id={owner}&limit=2");

        Assert.Equal([ids[2], ids[1]], list.EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.All(list.EnumerateArray(), d => Assert.Equal(200, Assert.Single(d.GetProperty("attempts").EnumerateArray()).GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task The_development_inbox_is_404_where_its_setting_is_not_on()
    {
        var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/dev/webhooks/shop", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/dev/webhooks/shop")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/dev/webhooks")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_webhook_routes()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        Assert.True(paths.GetProperty("/platform/webhooks/endpoints/{ownerId}").TryGetProperty("put", out _));
        Assert.True(paths.GetProperty("/platform/webhooks/endpoints/{ownerId}").TryGetProperty("get", out _));
        Assert.True(paths.TryGetProperty("/platform/webhooks/endpoints/{ownerId}/rotate-secret", out _));
        Assert.True(paths.TryGetProperty("/platform/webhooks/deliveries", out _));
        Assert.True(paths.TryGetProperty("/platform/webhooks/deliveries/{deliveryId}/redeliver", out _));
        Assert.True(paths.TryGetProperty("/platform/webhooks/deliveries/{deliveryId}/retry", out _));
        Assert.False(paths.TryGetProperty("/dev/webhooks/{name}", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("WebhookEndpointResponse").GetProperty("properties").TryGetProperty("secret", out _));
        Assert.True(schemas.GetProperty("WebhookDeliveryResponse").GetProperty("properties").TryGetProperty("attempts", out _));
    }
}
