using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class IdempotencyTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    private static HttpRequestMessage Create(string key, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/platform/api-clients") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private async Task<int> CountClientsAsync(string name) =>
        (await app.Get<ApiClientDirectory>().ListAsync()).Count(c => c.Name == name);

    [Fact]
    public async Task The_same_key_and_body_replays_the_first_response_and_creates_once()
    {
        var admin = app.CreateClientAs(7001, Roles.Admin);
        var body = new { kind = "merchant", name = "Replay Merchant" };

        var first = await admin.SendAsync(Create("key-1", body));
        var second = await admin.SendAsync(Create("key-1", body));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await CountClientsAsync("Replay Merchant"));
    }

    [Fact]
    public async Task A_replayed_api_client_creation_returns_the_same_secret_and_storage_never_holds_it_in_plaintext()
    {
        var admin = app.CreateClientAs(7010, Roles.Admin);
        var body = new { kind = "merchant", name = "Secret Merchant" };

        var first = await admin.SendAsync(Create("key-secret", body));
        var second = await admin.SendAsync(Create("key-secret", body));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", second.Content.Headers.ContentType?.ToString());
        var secret = JsonDocument.Parse(firstBody).RootElement.GetProperty("client_secret").GetString()!;
        Assert.False(await IdempotencyStore.HoldsAsync(app, secret));
        Assert.False(await IdempotencyStore.HoldsAsync(app, "client_secret"));
        Assert.Equal(1, await CountClientsAsync("Secret Merchant"));
    }

    [Fact]
    public async Task A_stored_secret_that_the_current_signing_key_cannot_open_is_a_409_not_a_second_secret()
    {
        var body = new { kind = "merchant", name = "Rotated Key Merchant" };
        Assert.Equal(HttpStatusCode.Created, (await app.CreateClientAs(7011, Roles.Admin).SendAsync(Create("key-rotated", body))).StatusCode);
        var rotated = app.WithWebHostBuilder(b => b.UseSetting("Jwt:SigningKey", "another-signing-key-that-is-long-enough-9876543210"));
        var admin = rotated.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            rotated.Services.GetRequiredService<TokenService>().IssueForUser(TokenAudiences.Platform, 7011, "user7011", [Roles.Admin], 0).Token);

        var replay = await admin.SendAsync(Create("key-rotated", body));

        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        Assert.Equal("idempotency_response_unavailable", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(1, await CountClientsAsync("Rotated Key Merchant"));
    }

    [Fact]
    public async Task A_refusal_of_the_caller_is_not_stored_as_the_answer_to_the_key()
    {
        var statuses = new Queue<int>([StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status201Created]);
        var middleware = new IdempotencyMiddleware(context =>
        {
            context.Response.StatusCode = statuses.Dequeue();
            return Task.CompletedTask;
        }, app.Get<StorageAccount>(), app.Time, app.Get<StoredResponseCipher>());
        async Task<HttpContext> SendAsync()
        {
            var context = new DefaultHttpContext();
            context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(IdempotentEndpoint.Instance), "test"));
            context.Request.Method = "POST";
            context.Request.Path = "/refusals";
            context.Request.Headers["Idempotency-Key"] = "refused-key";
            context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.9");
            context.Response.Body = new MemoryStream();
            await middleware.InvokeAsync(context);
            return context;
        }

        var unauthorized = await SendAsync();
        var forbidden = await SendAsync();
        var created = await SendAsync();
        var replayed = await SendAsync();

        Assert.Equal(401, unauthorized.Response.StatusCode);
        Assert.Equal(403, forbidden.Response.StatusCode);
        Assert.Equal(201, created.Response.StatusCode);
        Assert.False(created.Response.Headers.ContainsKey("Idempotent-Replayed"));
        Assert.Equal(201, replayed.Response.StatusCode);
        Assert.Equal("true", replayed.Response.Headers["Idempotent-Replayed"].ToString());
        Assert.Empty(statuses);
    }

    [Fact]
    public async Task Stored_fingerprints_are_keyed_and_records_stored_with_a_plain_hash_are_still_honoured()
    {
        var admin = app.CreateClientAs(7020, Roles.Admin);
        var body = new { kind = "merchant", name = "Fingerprint Merchant" };
        var bodyBytes = await JsonContent.Create(body).ReadAsByteArrayAsync();
        var plain = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            [.. System.Text.Encoding.UTF8.GetBytes("POST /platform/api-clients\n"), .. bodyBytes]));

        var first = await admin.SendAsync(Create("key-fingerprint", body));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        // A guess at the body cannot be checked against the table: what is stored is an HMAC, not the plain hash.
        Assert.False(await IdempotencyStore.HoldsAsync(app, plain));
        var table = new TableServiceClient(app.ConnectionString).GetTableClient(app.Prefix + IdempotencyMiddleware.TableName);
        var partition = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("user:7020\nkey-fingerprint")));
        var mine = (await table.GetEntityAsync<TableEntity>(partition, "")).Value;
        Assert.StartsWith("h1:", mine.GetString("Fingerprint"));
        Assert.DoesNotContain(plain, mine.GetString("Fingerprint"));

        // A record written before fingerprints were keyed holds the plain hash: the same request still replays.
        mine["Fingerprint"] = plain;
        await table.UpdateEntityAsync(mine, mine.ETag, TableUpdateMode.Merge);
        var replay = await admin.SendAsync(Create("key-fingerprint", body));
        var changed = await admin.SendAsync(Create("key-fingerprint", new { kind = "merchant", name = "Another Merchant" }));

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal(1, await CountClientsAsync("Fingerprint Merchant"));
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_a_409()
    {
        var admin = app.CreateClientAs(7002, Roles.Admin);
        await admin.SendAsync(Create("key-2", new { kind = "merchant", name = "First Body" }));

        var conflict = await admin.SendAsync(Create("key-2", new { kind = "merchant", name = "Second Body" }));

        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("idempotency_key_reused", (await conflict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(0, await CountClientsAsync("Second Body"));
    }

    [Fact]
    public async Task Keys_belong_to_their_caller()
    {
        var body = new { kind = "merchant", name = "Scoped Merchant" };

        var one = await app.CreateClientAs(7003, Roles.Admin).SendAsync(Create("shared-key", body));
        var other = await app.CreateClientAs(7004, Roles.Admin).SendAsync(Create("shared-key", body));

        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(await one.Content.ReadAsStringAsync(), await other.Content.ReadAsStringAsync());
        Assert.Equal(2, await CountClientsAsync("Scoped Merchant"));
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_create_exactly_once()
    {
        var admin = app.CreateClientAs(7005, Roles.Admin);
        var body = new { kind = "merchant", name = "Concurrent Merchant" };

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => admin.SendAsync(Create("key-race", body))));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        Assert.Equal(1, await CountClientsAsync("Concurrent Merchant"));
    }

    [Fact]
    public async Task A_validation_failure_is_replayed_too_and_a_key_expires_after_24_hours()
    {
        var admin = app.CreateClientAs(7006, Roles.Admin);
        var bad = new { kind = "robot", name = "Nope" };
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.SendAsync(Create("key-exp", bad))).StatusCode);
        var replay = await admin.SendAsync(Create("key-exp", bad));
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());

        app.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));

        var fresh = await app.CreateClientAs(7006, Roles.Admin).SendAsync(Create("key-exp", new { kind = "merchant", name = "After Expiry" }));
        Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
    }

    [Fact]
    public async Task Without_a_key_each_request_creates()
    {
        var admin = app.CreateClientAs(7007, Roles.Admin);

        await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "merchant", name = "Keyless" });
        await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "merchant", name = "Keyless" });

        Assert.Equal(2, await CountClientsAsync("Keyless"));
    }

    [Fact]
    public async Task The_hourly_sweep_deletes_keys_past_their_retention()
    {
        var admin = app.CreateClientAs(7009, Roles.Admin);
        await admin.SendAsync(Create("key-swept", new { kind = "merchant", name = "Swept" }));
        var table = app.Get<StorageAccount>().Table(IdempotencyMiddleware.TableName);
        Assert.NotEmpty(await table.QueryAsync<TableEntity>().ToListAsync());

        app.Time.Advance(TimeSpan.FromHours(25));
        var sweep = app.Get<TriggerRegistry>().FindTimer("IdempotencySweep")!;
        await app.Get<TriggerInvoker>().InvokeAsync(sweep, app.Time.GetUtcNow(), isPastDue: false, CancellationToken.None);

        Assert.Empty(await table.QueryAsync<TableEntity>().ToListAsync());
    }

    [Fact]
    public async Task An_overlong_key_is_a_400()
    {
        var response = await app.CreateClientAs(7008, Roles.Admin).SendAsync(Create(new string('k', 300), new { kind = "merchant", name = "Long" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
