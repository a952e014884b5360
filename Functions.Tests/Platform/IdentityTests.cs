using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Serverless.Platform.Identity;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class IdentityTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    private async Task<string> AdminTokenAsync()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token",
            new { login = PlatformFactory.AdminEmail, password = PlatformFactory.AdminPassword });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    [Fact]
    public async Task The_first_admin_from_settings_signs_in_and_gets_an_admin_token()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token",
            new { login = PlatformFactory.AdminEmail, password = PlatformFactory.AdminPassword });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal(["admin"], body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        var me = await app.WithToken(body.GetProperty("access_token").GetString()!).GetFromJsonAsync<JsonElement>("/platform/me");
        Assert.Equal("user", me.GetProperty("kind").GetString());
        Assert.Equal("admin", me.GetProperty("roles")[0].GetString());
    }

    [Theory]
    [InlineData(PlatformFactory.AdminEmail, "wrong-password")]
    [InlineData("nobody@example.test", "whatever-password")]
    [InlineData("no-such-username", "whatever-password")]
    public async Task Wrong_or_unknown_credentials_are_a_401_that_does_not_say_which(string login, string password)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token", new { login, password });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Invalid login or password.", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Admin_endpoints_answer_401_without_a_token_and_403_without_the_admin_role()
    {
        var anonymous = await app.CreateClient().GetAsync("/platform/api-clients");
        var customer = await app.CreateClientAs(9001, Serverless.Print.PrintRoles.Customer).GetAsync("/platform/api-clients");
        var partner = await app.CreateClientFor("some-partner", ClientKinds.Partner).GetAsync("/platform/api-clients");
        var admin = await app.CreateClientAs(9002, Roles.Admin).GetAsync("/platform/api-clients");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, customer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, partner.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal("unauthorized", (await anonymous.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_token_expires_when_the_clock_passes_its_lifetime()
    {
        var client = app.WithToken(await AdminTokenAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/platform/me")).StatusCode);

        app.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/platform/me")).StatusCode);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_or_algorithm_is_refused()
    {
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "serverless",
            Audience = "serverless-api",
            Claims = new Dictionary<string, object> { ["sub"] = "1", ["role"] = "admin", ["kind"] = "user" },
            Expires = app.Time.GetUtcNow().UtcDateTime.AddHours(1),
            NotBefore = app.Time.GetUtcNow().UtcDateTime.AddMinutes(-1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey("another-key-another-key-another-key-123"u8.ToArray()), SecurityAlgorithms.HmacSha256),
        });
        var unsigned = new JsonWebTokenHandler().CreateToken("{\"sub\":\"1\",\"role\":\"admin\",\"iss\":\"serverless\",\"aud\":\"serverless-api\"}");

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithToken(forged).GetAsync("/platform/api-clients")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithToken(unsigned).GetAsync("/platform/api-clients")).StatusCode);
    }

    [Fact]
    public async Task An_api_client_secret_is_shown_once_stored_hashed_and_stops_working_when_disabled()
    {
        var admin = app.WithToken(await AdminTokenAsync());

        var created = await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "partner", name = "Gift Shop", client_id = "gift-shop" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = body.GetProperty("client_secret").GetString()!;
        Assert.StartsWith("sk_", secret);
        var clients = app.Get<ApiClientDirectory>();
        var stored = await clients.FindAsync("gift-shop");
        Assert.NotNull(stored);
        Assert.DoesNotContain(secret, stored.SecretHash);
        Assert.NotNull(await clients.AuthenticateAsync("gift-shop", secret));
        Assert.NotNull(await clients.AuthenticateByKeyAsync(secret));
        Assert.Null(await clients.AuthenticateAsync("gift-shop", secret + "x"));

        var listed = await admin.GetStringAsync("/platform/api-clients?kind=partner");
        Assert.Contains("gift-shop", listed);
        Assert.DoesNotContain(secret, listed);
        Assert.DoesNotContain("secret", listed);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/platform/api-clients/gift-shop")).StatusCode);
        Assert.Null(await clients.AuthenticateAsync("gift-shop", secret));
        Assert.Null(await clients.AuthenticateByKeyAsync(secret));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/platform/api-clients/no-such-client")).StatusCode);
    }

    [Fact]
    public async Task A_taken_client_id_or_an_unknown_kind_is_refused()
    {
        var admin = app.CreateClientAs(9003, Roles.Admin);
        await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "store", name = "Store", client_id = "store-one" });

        var again = await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "store", name = "Store", client_id = "store-one" });
        var badKind = await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "robot", name = "R2" });
        var badId = await admin.PostAsJsonAsync("/platform/api-clients", new { kind = "store", name = "S", client_id = "a/b#c" });

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
        Assert.Contains("'kind' must be one of", (await badKind.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
    }

    [Fact]
    public async Task Users_sign_in_by_username_email_or_phone_and_identifiers_are_unique_case_insensitively()
    {
        var admin = app.CreateClientAs(9004, Roles.Admin);
        var created = await admin.PostAsJsonAsync("/platform/users",
            new { username = "Shop.Keeper", email = "Keeper@Example.test", phone = "+91 98765 43210", password = "keeper-password", roles = new[] { "shopkeeper" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        foreach (var login in new[] { "shop.keeper", "keeper@example.TEST", "+919876543210" })
        {
            var signIn = await app.CreateClient().PostAsJsonAsync("/platform/auth/token", new { login, password = "keeper-password" });
            Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        }

        var duplicate = await admin.PostAsJsonAsync("/platform/users",
            new { username = "SHOP.KEEPER", email = "keeper@example.test", phone = "+1 555 0100 999", password = "another-password", roles = new[] { "customer" } });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("Already in use: username, email.", (await duplicate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        // Nothing half-written: the phone of the refused sign-up is still free.
        Assert.Empty(await app.Get<UserDirectory>().TakenFieldsAsync(null, null, "+1 555 0100 999"));
    }

    [Fact]
    public async Task Concurrent_sign_ups_for_one_email_create_exactly_one_user()
    {
        var users = app.Get<UserDirectory>();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            users.CreateAsync(new NewUser("racer" + i, "race@example.test", null, "race-password", [Serverless.Print.PrintRoles.Customer]))));

        Assert.Single(results, r => r.Created);
        Assert.All(results.Where(r => !r.Created), r => Assert.Contains("email", r.TakenFields));
    }

    [Fact]
    public async Task Passwords_are_stored_hashed()
    {
        var user = await app.Get<UserDirectory>().FindByLoginAsync(PlatformFactory.AdminEmail);

        Assert.NotNull(user);
        Assert.DoesNotContain(PlatformFactory.AdminPassword, user.PasswordHash);
        Assert.StartsWith("pbkdf2:", user.PasswordHash);
    }
}

public sealed class AuthRateLimitFactory : PlatformFactory
{
    public AuthRateLimitFactory() => With("RateLimits:Auth:PermitLimit", "3");
}

public sealed class AuthRateLimitTests(AuthRateLimitFactory app) : IClassFixture<AuthRateLimitFactory>
{
    [Fact]
    public async Task Sign_in_attempts_past_the_limit_are_a_429_with_retry_after()
    {
        var client = app.CreateClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 5; i++)
        {
            last = await client.PostAsJsonAsync("/platform/auth/token", new { login = "guess" + i, password = "guess-password" });
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.NotNull(last!.Headers.RetryAfter);
        Assert.Equal("too_many_requests", (await last.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Pre_order_logins_share_the_sign_in_limit()
    {
        var client = app.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
            statuses.Add((await client.PostAsJsonAsync("/api/auth/login", new { username = "merchant-" + i, password = "guess" })).StatusCode);

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public void Attempts_for_one_identifier_are_limited_whatever_the_address()
    {
        var throttle = app.Get<Serverless.Platform.Http.IdentifierThrottle>();

        var allowed = Enumerable.Range(0, 5).Count(_ => throttle.TryAcquire("test-scope", "Victim@Example.test"));

        Assert.Equal(3, allowed);
        Assert.True(throttle.TryAcquire("test-scope", "someone-else@example.test"));
    }

    [Fact]
    public async Task The_first_admin_check_finds_a_login_exactly_when_FindByLoginAsync_does()
    {
        var users = app.Get<UserDirectory>();
        Assert.True(await users.IsLoginHeldAsync(PlatformFactory.AdminEmail));
        Assert.False(await users.IsLoginHeldAsync("nobody-holds-this@example.test"));
        Assert.False(await users.IsLoginHeldAsync("not a login"));

        var created = await users.CreateAsync(new NewUser("held-check", "held-check@example.test", null, "held-check-password", [Serverless.Print.PrintRoles.Customer]));
        Assert.True(await users.IsLoginHeldAsync("held-check@example.test"));
        Assert.True(await users.IsLoginHeldAsync("held-check"));

        // The email changed: the old claim may linger until it is swept, but nobody holds it.
        await users.UpdateAsync(created.User!, created.User! with { Email = "held-check-new@example.test" });
        Assert.Null(await users.FindByLoginAsync("held-check@example.test"));
        Assert.False(await users.IsLoginHeldAsync("held-check@example.test"));
        Assert.True(await users.IsLoginHeldAsync("held-check-new@example.test"));

        // Deleted: neither finds it.
        await users.DeleteAsync((await users.FindByLoginAsync("held-check-new@example.test"))!);
        Assert.Null(await users.FindByLoginAsync("held-check-new@example.test"));
        Assert.False(await users.IsLoginHeldAsync("held-check-new@example.test"));
        Assert.False(await users.IsLoginHeldAsync("held-check"));
    }
}
