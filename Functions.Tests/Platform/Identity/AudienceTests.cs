using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Identity;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Print;

namespace Serverless.Tests.Platform.Identity;

/// <summary>
/// Each surface's tokens open that surface only: a token of one audience is refused (401) by every other surface,
/// and the platform's operator APIs take platform tokens. Tokens come from each surface's own sign-in endpoint.
/// </summary>
public sealed class AudienceTests(AudienceTests.SurfacesFactory app) : IClassFixture<AudienceTests.SurfacesFactory>
{
    public const string Secret = "client-secret-for-tests-1";

    /// <summary>The whole app, with a pre-order merchant and an e-card partner to sign in as.</summary>
    public sealed class SurfacesFactory : PrintFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var clients = Get<ApiClientDirectory>();
            await clients.CreateAsync(ClientKinds.Merchant, "Audience Shop", "audience-shop", Secret);
            await clients.CreateAsync(ClientKinds.Partner, "Audience Partner", "audience-partner", Secret);
        }
    }

    /// <summary>One endpoint per surface that a token of that surface opens (200).</summary>
    private static readonly Dictionary<string, (string Path, HttpMethod Method)> Endpoints = new()
    {
        ["platform"] = ("/platform/me", HttpMethod.Get),
        ["platform-admin"] = ("/platform/api-clients", HttpMethod.Get),
        ["pre-orders"] = ("/api/pre-orders", HttpMethod.Get),
        ["pre-orders-admin"] = ("/api/admin/merchants/audience-shop/webhook/deliveries", HttpMethod.Get),
        ["e-cards"] = ("/v1/balance", HttpMethod.Get),
        ["e-cards-admin"] = ("/v1/admin/partners/audience-partner/balance", HttpMethod.Get),
        ["print"] = ("/profile", HttpMethod.Get),
    };

    private async Task<Dictionary<string, string>> TokensAsync()
    {
        var anonymous = app.CreateClient();
        var platform = await anonymous.PostAsJsonAsync("/platform/auth/token",
            new { login = PlatformFactory.AdminEmail, password = PlatformFactory.AdminPassword });
        var preOrders = await anonymous.PostAsJsonAsync("/api/auth/login", new { username = "audience-shop", password = Secret });
        var eCards = await anonymous.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "audience-partner", ["client_secret"] = Secret,
        }));
        var customer = await app.SignUpAsync();
        return new Dictionary<string, string>
        {
            ["platform"] = await StringAsync(platform, "access_token"),
            ["pre-orders"] = await StringAsync(preOrders, "token"),
            ["e-cards"] = await StringAsync(eCards, "access_token"),
            ["print"] = customer.Token,
            ["print-admin"] = await app.AdminTokenAsync(),
        };
    }

    private static async Task<string> StringAsync(HttpResponseMessage response, string property)
    {
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty(property).GetString()!;
    }

    private async Task<HttpStatusCode> CallAsync(string token, string endpoint)
    {
        var (path, method) = Endpoints[endpoint];
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await app.CreateClient().SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task A_token_opens_its_own_surface_and_is_refused_by_every_other()
    {
        var tokens = await TokensAsync();
        // Which endpoints each token opens; every other endpoint answers 401.
        var opens = new Dictionary<string, string[]>
        {
            ["platform"] = ["platform", "platform-admin", "pre-orders-admin", "e-cards-admin"],
            ["pre-orders"] = ["pre-orders"],
            ["e-cards"] = ["e-cards"],
            ["print"] = ["print"],
            ["print-admin"] = ["print"],
        };
        var failures = new List<string>();
        foreach (var (audience, token) in tokens)
        {
            foreach (var endpoint in Endpoints.Keys)
            {
                var expected = opens[audience].Contains(endpoint) ? HttpStatusCode.OK : HttpStatusCode.Unauthorized;
                var actual = await CallAsync(token, endpoint);
                if (actual != expected)
                    failures.Add($"{audience} token on {Endpoints[endpoint].Path}: {(int)actual}, expected {(int)expected}");
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public async Task The_print_sign_in_cookie_carries_print_tokens_only()
    {
        var tokens = await TokensAsync();

        foreach (var audience in new[] { "platform", "pre-orders", "e-cards" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/profile");
            request.Headers.Add("Cookie", "token=" + tokens[audience]);
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().SendAsync(request)).StatusCode);
        }
        using var own = new HttpRequestMessage(HttpMethod.Get, "/profile");
        own.Headers.Add("Cookie", "token=" + tokens["print"]);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().SendAsync(own)).StatusCode);
    }

    [Fact]
    public async Task A_print_sign_in_with_the_platform_admins_password_opens_no_platform_endpoint()
    {
        var printToken = await app.AdminTokenAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(printToken, "platform-admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(printToken, "platform"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(printToken, "pre-orders-admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(printToken, "e-cards-admin"));
    }
}

/// <summary>
/// Ending sessions: a password change ends a user's earlier tokens on every surface a user token reaches, and a
/// disabled API client's tokens stop working at once.
/// </summary>
public sealed class SessionRevocationTests(SessionRevocationTests.RevocationFactory app) : IClassFixture<SessionRevocationTests.RevocationFactory>
{
    public sealed class RevocationFactory : PrintFactory;

    private const string Secret = "client-secret-for-tests-2";

    private async Task<string> PlatformAdminTokenAsync(string login, string password)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token", new { login, password });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    private async Task<string> PrintTokenAsync(string username, string password)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/login", new { username, password });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>A second platform admin of this test's own, so changing its password touches nobody else.</summary>
    private async Task<(string Email, string Password)> NewAdminAsync()
    {
        var email = app.Unique("admin") + "@example.test";
        const string password = "first-password-123";
        var created = await app.WithToken(await PlatformAdminTokenAsync(PlatformFactory.AdminEmail, PlatformFactory.AdminPassword))
            .PostAsJsonAsync("/platform/users", new { email, password, roles = new[] { Roles.Admin } });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return (email, password);
    }

    private async Task<HttpStatusCode> GetAsync(string token, string path) => (await app.WithToken(token).GetAsync(path)).StatusCode;

    [Fact]
    public async Task A_password_change_ends_the_users_platform_tokens_as_well_as_the_print_ones()
    {
        var (email, password) = await NewAdminAsync();
        var platformToken = await PlatformAdminTokenAsync(email, password);
        var printToken = await PrintTokenAsync(email, password);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(platformToken, "/platform/api-clients"));

        var changed = await app.WithToken(printToken).SendAsync(PrintFactory.Json(HttpMethod.Put, "/profile",
            new { password = "second-password-456", current_password = password }));
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(platformToken, "/platform/me"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(platformToken, "/platform/api-clients"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(platformToken, "/v1/admin/partners/nobody/balance"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(platformToken, "/api/admin/merchants/nobody/webhook/deliveries"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(printToken, "/profile"));
        // A new sign-in with the new password works on both.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(await PlatformAdminTokenAsync(email, "second-password-456"), "/platform/me"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(await PrintTokenAsync(email, "second-password-456"), "/profile"));
    }

    [Fact]
    public async Task A_password_reset_ends_the_users_platform_tokens_as_well_as_the_print_ones()
    {
        var customer = await app.SignUpAsync();
        var platformToken = await PlatformAdminTokenAsync(customer.Email, customer.Password);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(platformToken, "/platform/me"));

        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var mail = await app.Get<Serverless.Platform.Email.Outbox>().LatestAsync(customer.Email);
        var token = Uri.UnescapeDataString(System.Text.RegularExpressions.Regex.Match(mail!.Text!, @"token=(\S+)").Groups[1].Value);
        var reset = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "reset-password-789" });
        Assert.True(reset.IsSuccessStatusCode, await reset.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(platformToken, "/platform/me"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(customer.Token, "/profile"));
    }

    [Fact]
    public async Task Deleting_the_account_ends_its_platform_tokens()
    {
        var customer = await app.SignUpAsync();
        var platformToken = await PlatformAdminTokenAsync(customer.Email, customer.Password);

        var deleted = await app.WithToken(customer.Token).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = customer.Password }));
        Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(platformToken, "/platform/me"));
    }

    [Fact]
    public async Task A_disabled_merchants_token_is_refused_at_once()
    {
        var id = app.Unique("merchant");
        await app.Get<ApiClientDirectory>().CreateAsync(ClientKinds.Merchant, "Soon Disabled", id, Secret);
        var login = await app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = id, password = Secret });
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await GetAsync(token, "/api/pre-orders"));

        var admin = app.WithToken(await PlatformAdminTokenAsync(PlatformFactory.AdminEmail, PlatformFactory.AdminPassword));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/platform/api-clients/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(token, "/api/pre-orders"));
    }

    [Fact]
    public async Task A_disabled_partners_token_is_refused_at_once()
    {
        var id = app.Unique("partner");
        await app.Get<ApiClientDirectory>().CreateAsync(ClientKinds.Partner, "Soon Disabled", id, Secret);
        var issued = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = id, ["client_secret"] = Secret,
        }));
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await GetAsync(token, "/v1/balance"));

        await app.Get<ApiClientDirectory>().DisableAsync(id);

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(token, "/v1/balance"));
    }

    [Fact]
    public async Task A_client_disabled_by_another_instance_is_refused_here_once_the_session_view_lifetime_has_passed()
    {
        var id = app.Unique("partner");
        await app.Get<ApiClientDirectory>().CreateAsync(ClientKinds.Partner, "Disabled Elsewhere", id, Secret);
        var issued = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = id, ["client_secret"] = Secret,
        }));
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await GetAsync(token, "/v1/balance"));

        // Another instance of the app disables it: this one has the client row it read a moment ago.
        await new ApiClientDirectory(app.Get<Serverless.Platform.Storage.StorageAccount>(), app.Time).DisableAsync(id);

        Assert.Equal(HttpStatusCode.OK, await GetAsync(token, "/v1/balance"));
        app.Time.Advance(ApiClientDirectory.SessionViewLifetime);
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(token, "/v1/balance"));
    }
}

/// <summary>Token lifetimes come from settings per audience (<c>Jwt__Lifetimes__*</c>).</summary>
public sealed class TokenLifetimeTests(TokenLifetimeTests.ShortLivedFactory app) : IClassFixture<TokenLifetimeTests.ShortLivedFactory>
{
    public sealed class ShortLivedFactory : PlatformFactory
    {
        public ShortLivedFactory()
        {
            With("Jwt:Lifetimes:Platform", "00:10:00");
        }
    }

    [Fact]
    public async Task A_platform_token_lives_as_long_as_its_setting_says()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token",
            new { login = PlatformFactory.AdminEmail, password = PlatformFactory.AdminPassword });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var client = app.WithToken(body.GetProperty("access_token").GetString()!);

        Assert.Equal(600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/platform/me")).StatusCode);
        app.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/platform/me")).StatusCode);
    }
}
