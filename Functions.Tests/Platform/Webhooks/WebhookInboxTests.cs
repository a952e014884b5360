using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Serverless.Platform.Webhooks;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>
/// The app on a real socket at <c>localhost</c> (both loopback addresses, as <c>./dev run</c> listens) with the
/// development inbox on, so it can deliver webhooks to its own <c>/dev/webhooks/{name}</c>.
/// </summary>
public sealed class WebhookInboxFactory : WebhookFactory
{
    public WebhookInboxFactory()
    {
        Port = Azurite.FreePort();
        UseKestrel(kestrel => kestrel.ListenLocalhost(Port));
        With("Webhooks:ExposeInbox", "true");
    }

    public int Port { get; }

    public string InboxUrl(string name) => $"http://localhost:{Port}/dev/webhooks/{name}";
}

public sealed class WebhookInboxTests(WebhookInboxFactory app) : IClassFixture<WebhookInboxFactory>
{
    private static string NewName() => "inbox-" + Guid.NewGuid().ToString("N")[..8];

    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A Standard Webhooks signature made here from the specification, not by the app's signer.</summary>
    private static string SignStandard(string secret, string id, long timestamp, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]),
            Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));

    private async Task<JsonElement> PostAsync(string name, string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/dev/webhooks/{name}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (header, value) in headers)
            request.Headers.TryAddWithoutValidation(header, value);
        var response = await app.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<List<JsonElement>> ListAsync(string name, int? limit = null) =>
        (await app.CreateClient().GetFromJsonAsync<JsonElement>($"/dev/webhooks/{name}" + (limit is null ? "" : $"?limit={limit}")))
        .EnumerateArray().ToList();

    [Fact]
    public async Task A_webhook_the_app_sends_to_its_own_inbox_at_localhost_is_kept_with_headers_body_and_a_verified_signature()
    {
        var name = NewName();
        var owner = "merchant-" + name;
        var url = app.InboxUrl(name);
        var registered = await app.Admin().PutAsJsonAsync($"/platform/webhooks/endpoints/{owner}", new { url });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        const string body = """{"event":"pre_order.paid","data":{"id":"po_1"}}""";

        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString(body));
        await app.DrainAsync();

        var received = Assert.Single(await ListAsync(name));
        Assert.Equal(name, received.GetProperty("inbox").GetString());
        Assert.Equal(body, received.GetProperty("body").GetString());
        Assert.Equal(app.Time.GetUtcNow(), received.GetProperty("received_at").GetDateTimeOffset());
        Assert.Equal(WebhookSchemes.Standard, received.GetProperty("signature_scheme").GetString());
        Assert.Equal("verified", received.GetProperty("signature").GetString());
        Assert.Contains($"owner '{owner}'", received.GetProperty("signature_detail").GetString());
        var headers = received.GetProperty("headers");
        Assert.Equal(published.EventId, headers.GetProperty("webhook-id").GetString());
        Assert.Equal("application/json", headers.GetProperty("content-type").GetString());
        // The delivery record names where it went.
        var delivery = Assert.Single((await app.Admin().GetFromJsonAsync<JsonElement>($"/platform/webhooks/deliveries?owner_id={owner}")).EnumerateArray());
        Assert.Equal("delivered", delivery.GetProperty("state").GetString());
        Assert.Equal(url, delivery.GetProperty("target_url").GetString());
        Assert.Contains(await ListAllAsync(), r => r.GetProperty("id").GetString() == received.GetProperty("id").GetString());
    }

    private async Task<List<JsonElement>> ListAllAsync() =>
        (await app.CreateClient().GetFromJsonAsync<JsonElement>("/dev/webhooks?limit=50")).EnumerateArray().ToList();

    [Fact]
    public async Task A_standard_signature_is_verified_against_the_endpoint_that_points_at_the_inbox_and_nothing_else()
    {
        var name = NewName();
        var unwatched = NewName();
        var owner = "merchant-" + name;
        var registered = await app.Admin().PutAsJsonAsync($"/platform/webhooks/endpoints/{owner}", new { url = app.InboxUrl(name) });
        var secret = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        var now = app.Time.GetUtcNow().ToUnixTimeSeconds();
        const string body = """{"n":1}""";
        (string, string)[] Signed(string key, long at) =>
            [("webhook-id", "msg_1"), ("webhook-timestamp", at.ToString()), ("webhook-signature", SignStandard(key, "msg_1", at, body))];

        async Task<JsonElement> Post(string inbox, params (string, string)[] headers)
        {
            app.Time.Advance(TimeSpan.FromSeconds(1)); // newest first needs distinct arrival times
            return await PostAsync(inbox, body, headers);
        }

        var good = await Post(name, Signed(secret, now));
        var otherSecret = await Post(name, Signed(NewSecret(), now));
        var stale = await Post(name, Signed(secret, now - 600));
        var noSecretKnown = await Post(unwatched, Signed(secret, now));
        var unsigned = await Post(name);

        Assert.Equal("verified", good.GetProperty("signature").GetString());
        Assert.Equal("invalid", otherSecret.GetProperty("signature").GetString());
        Assert.Equal("invalid", stale.GetProperty("signature").GetString());
        Assert.Contains("more than 5 minutes", stale.GetProperty("signature_detail").GetString());
        Assert.Equal("not_verified", noSecretKnown.GetProperty("signature").GetString());
        Assert.Equal("unsigned", unsigned.GetProperty("signature").GetString());
        Assert.Equal(["unsigned", "invalid", "invalid", "verified"], (await ListAsync(name)).Select(r => r.GetProperty("signature").GetString()));
    }

    [Fact]
    public async Task A_checkout_callback_signature_is_not_verified_until_the_inbox_is_given_the_store_secret()
    {
        var name = NewName();
        const string secret = "store-webhook-secret-0123456789";
        const string body = """{"status":"confirmed","orderId":"o1"}""";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

        var before = await PostAsync(name, body, ("x-webhook-signature", signature));
        var given = await app.CreateClient().PutAsJsonAsync($"/dev/webhooks/{name}/secret", new { secret });
        var after = await PostAsync(name, body, ("x-webhook-signature", signature));
        var forged = await PostAsync(name, body, ("x-webhook-signature", Convert.ToBase64String(new byte[32])));

        Assert.Equal("not_verified", before.GetProperty("signature").GetString());
        Assert.Contains("not verified", before.GetProperty("signature_detail").GetString());
        Assert.Equal(HttpStatusCode.NoContent, given.StatusCode);
        Assert.Equal("verified", after.GetProperty("signature").GetString());
        Assert.Equal("invalid", forged.GetProperty("signature").GetString());
        Assert.All(await ListAsync(name), r => Assert.Equal(WebhookSchemes.BodyHmac, r.GetProperty("signature_scheme").GetString()));
    }

    [Fact]
    public async Task An_inbox_keeps_its_newest_requests_newest_first_up_to_its_bound()
    {
        var name = NewName();
        for (var i = 0; i < WebhookInbox.MaxPerInbox + 2; i++)
        {
            await PostAsync(name, $$"""{"n":{{i}}}""");
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var kept = await ListAsync(name, WebhookInbox.MaxPerInbox);
        var firstTwo = await ListAsync(name, 2);

        Assert.Equal(WebhookInbox.MaxPerInbox, kept.Count);
        Assert.Equal(Enumerable.Range(2, WebhookInbox.MaxPerInbox).Reverse().Select(i => $$"""{"n":{{i}}}"""),
            kept.Select(r => r.GetProperty("body").GetString()));
        Assert.Equal(["""{"n":51}""", """{"n":50}"""], firstTwo.Select(r => r.GetProperty("body").GetString()));
    }

    [Fact]
    public async Task A_body_beyond_the_webhook_limit_is_413_and_a_bad_name_or_limit_is_400()
    {
        var client = app.CreateClient();

        // Kestrel answers 413 before the body is sent and closes that connection, so it gets a client of its own: a
        // request racing onto the closing connection would end prematurely.
        using var oversized = app.CreateClient();
        var tooLarge = await oversized.PostAsync($"/dev/webhooks/{NewName()}", new ByteArrayContent(new byte[WebhookKeys.MaxBodyBytes + 1]));
        var atTheLimit = await client.PostAsync($"/dev/webhooks/{NewName()}", new ByteArrayContent(new byte[WebhookKeys.MaxBodyBytes]));
        var badName = await client.PostAsync("/dev/webhooks/no%20spaces", new StringContent("{}"));
        var badLimit = await client.GetAsync($"/dev/webhooks/{NewName()}?limit=0");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, atTheLimit.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_inbox_routes_under_development()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        var receive = paths.GetProperty("/dev/webhooks/{name}").GetProperty("post");
        Assert.Equal("Development", receive.GetProperty("tags")[0].GetString());
        Assert.True(paths.GetProperty("/dev/webhooks/{name}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/dev/webhooks").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/dev/webhooks/{name}/secret").TryGetProperty("put", out _));
    }

    [Fact]
    public void The_inbox_routes_become_functions_where_the_inbox_is_on()
    {
        var directory = Directory.CreateTempSubdirectory("inbox-functions").FullName;
        try
        {
            app.Get<Serverless.Platform.Hosting.FunctionManifest>().WriteTo(directory);

            foreach (var function in new[] { "DevWebhookInboxes", "DevWebhookInboxReceive", "DevWebhookInbox", "DevWebhookInboxSecret" })
                Assert.True(File.Exists(Path.Combine(directory, function, "function.json")), function);
            Assert.Contains("\"dev/webhooks/{name}\"", File.ReadAllText(Path.Combine(directory, "DevWebhookInboxReceive", "function.json")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
