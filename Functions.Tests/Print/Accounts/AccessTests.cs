using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Tests.Print.Accounts;

/// <summary>
/// Who may call which print-shop account endpoint: every endpoint against anonymous, two customers, a shopkeeper and
/// the platform admin, with bearer tokens; then the tokens that must not work (API clients, unknown users, revoked
/// sessions, malformed bearers).
/// </summary>
public sealed class AccessTests(AccessTests.AccessFactory app) : IClassFixture<AccessTests.AccessFactory>
{
    /// <summary>Who calls an endpoint in the authorization matrix.</summary>
    public enum Caller
    {
        Anonymous,
        Customer,
        OtherCustomer,
        Shopkeeper,
        Admin,
    }

    /// <summary>The print app with the matrix's callers, signed up once for the whole class.</summary>
    public sealed class AccessFactory : PrintFactory
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private Callers? _callers;

        public sealed record Callers(PrintAccount Customer, PrintAccount OtherCustomer, PrintAccount Shopkeeper, string AdminToken);

        public async Task<Callers> CallersAsync()
        {
            await _gate.WaitAsync();
            try
            {
                return _callers ??= new Callers(
                    await SignUpAsync(role: "customer"),
                    await SignUpAsync(role: "customer"),
                    await SignUpAsync(role: "shopkeeper"),
                    await AdminTokenAsync());
            }
            finally
            {
                _gate.Release();
            }
        }

        public async Task<HttpClient> ClientAsync(Caller caller)
        {
            if (caller == Caller.Anonymous)
                return CreateClient();
            var callers = await CallersAsync();
            return WithToken(caller switch
            {
                Caller.Customer => callers.Customer.Token,
                Caller.OtherCustomer => callers.OtherCustomer.Token,
                Caller.Shopkeeper => callers.Shopkeeper.Token,
                _ => callers.AdminToken,
            });
        }
    }

    private const string WrongPassword = "not-the-password-1";

    /// <summary>The endpoints of the matrix: method, path and body.</summary>
    private static readonly Dictionary<string, (HttpMethod Method, string Path, object? Body)> Endpoints = new()
    {
        ["GET /profile"] = (HttpMethod.Get, "/profile", null),
        ["PUT /profile"] = (HttpMethod.Put, "/profile", new { full_name = "X" }),
        ["DELETE /profile (wrong password)"] = (HttpMethod.Delete, "/profile", new { password = WrongPassword }),
        ["GET /referral/summary"] = (HttpMethod.Get, "/referral/summary", null),
        ["GET /referral/history"] = (HttpMethod.Get, "/referral/history", null),
        ["POST /referral/invite"] = (HttpMethod.Post, "/referral/invite", new { email = "friend-of-matrix@example.test" }),
        ["GET /app-downloads"] = (HttpMethod.Get, "/app-downloads", null),
        ["PUT /admin/app-downloads"] = (HttpMethod.Put, "/admin/app-downloads", new { ios_coming_soon = true }),
        ["GET /delete-data"] = (HttpMethod.Get, "/delete-data", null),
        ["GET /csrf-token"] = (HttpMethod.Get, "/csrf-token", null),
        ["POST /logout"] = (HttpMethod.Post, "/logout", null),
    };

    /// <summary>Rows: endpoint, caller, expected status, expected error code (null for a success).</summary>
    public static TheoryData<string, Caller, int, string?> Matrix()
    {
        var data = new TheoryData<string, Caller, int, string?>();
        void Row(string endpoint, int anonymous, int customer, int shopkeeper, int admin, string? code = null,
            string? customerCode = null, string? adminCode = null)
        {
            string? CodeFor(int status, string? specific) => status switch
            {
                200 => null,
                401 => "unauthorized",
                _ => specific ?? code ?? "forbidden",
            };
            data.Add(endpoint, Caller.Anonymous, anonymous, CodeFor(anonymous, null));
            data.Add(endpoint, Caller.Customer, customer, CodeFor(customer, customerCode));
            data.Add(endpoint, Caller.OtherCustomer, customer, CodeFor(customer, customerCode));
            data.Add(endpoint, Caller.Shopkeeper, shopkeeper, CodeFor(shopkeeper, customerCode));
            data.Add(endpoint, Caller.Admin, admin, CodeFor(admin, adminCode));
        }

        Row("GET /profile", anonymous: 401, customer: 200, shopkeeper: 200, admin: 200);
        Row("PUT /profile", anonymous: 401, customer: 200, shopkeeper: 200, admin: 200);
        Row("DELETE /profile (wrong password)", anonymous: 401, customer: 400, shopkeeper: 400, admin: 403,
            customerCode: "invalid_password", adminCode: "forbidden");
        Row("GET /referral/summary", anonymous: 401, customer: 200, shopkeeper: 403, admin: 403);
        Row("GET /referral/history", anonymous: 401, customer: 200, shopkeeper: 403, admin: 403);
        Row("POST /referral/invite", anonymous: 401, customer: 200, shopkeeper: 403, admin: 403);
        Row("GET /app-downloads", anonymous: 200, customer: 200, shopkeeper: 200, admin: 200);
        Row("PUT /admin/app-downloads", anonymous: 401, customer: 403, shopkeeper: 403, admin: 200);
        Row("GET /delete-data", anonymous: 200, customer: 200, shopkeeper: 200, admin: 200);
        Row("GET /csrf-token", anonymous: 200, customer: 200, shopkeeper: 200, admin: 200);
        Row("POST /logout", anonymous: 200, customer: 200, shopkeeper: 200, admin: 200);
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_caller_gets_the_documented_status_from_each_endpoint(string endpoint, Caller caller, int expected, string? expectedCode)
    {
        var (method, path, body) = Endpoints[endpoint];
        var client = await app.ClientAsync(caller);
        var response = await client.SendAsync(PrintFactory.Json(method, path, body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == expected,
            $"{endpoint} as {caller}: expected {expected}, got {(int)response.StatusCode}: {text}");
        if (expectedCode is not null)
        {
            var error = JsonDocument.Parse(text).RootElement;
            Assert.True(error.TryGetProperty("error", out var message) && message.GetString() is { Length: > 0 },
                $"{endpoint} as {caller}: the error body has no 'error' message: {text}");
            Assert.True(error.TryGetProperty("code", out var code) && code.GetString() == expectedCode,
                $"{endpoint} as {caller}: expected code '{expectedCode}': {text}");
        }
    }

    [Fact]
    public async Task Nothing_was_deleted_by_the_wrong_password_and_each_customer_reads_only_their_own_profile()
    {
        var callers = await app.CallersAsync();
        var a = await (await app.ClientAsync(Caller.Customer)).GetFromJsonAsync<JsonElement>("/profile");
        var b = await (await app.ClientAsync(Caller.OtherCustomer)).GetFromJsonAsync<JsonElement>("/profile");

        Assert.Equal(callers.Customer.Id, a.GetProperty("id").GetInt64());
        Assert.Equal(callers.Customer.Username, a.GetProperty("username").GetString());
        Assert.Equal(callers.OtherCustomer.Id, b.GetProperty("id").GetInt64());
        Assert.Equal(callers.OtherCustomer.Username, b.GetProperty("username").GetString());
        Assert.Equal(callers.OtherCustomer.Email, b.GetProperty("email").GetString());
        Assert.NotEqual(a.GetProperty("id").GetInt64(), b.GetProperty("id").GetInt64());
        Assert.NotEqual(a.GetProperty("referral_code").GetString(), b.GetProperty("referral_code").GetString());
    }

    [Fact]
    public async Task The_admin_profile_is_the_platform_admin_and_has_no_referral_code()
    {
        var profile = await (await app.ClientAsync(Caller.Admin)).GetFromJsonAsync<JsonElement>("/profile");

        Assert.Equal("admin", profile.GetProperty("role").GetString());
        Assert.Equal(PrintFactory.AdminEmail, profile.GetProperty("email").GetString());
        Assert.False(profile.TryGetProperty("referral_code", out _));
    }

    [Fact]
    public async Task A_shopkeeper_profile_has_no_referral_code()
    {
        var callers = await app.CallersAsync();
        var profile = await (await app.ClientAsync(Caller.Shopkeeper)).GetFromJsonAsync<JsonElement>("/profile");

        Assert.Equal(callers.Shopkeeper.Id, profile.GetProperty("id").GetInt64());
        Assert.Equal("shopkeeper", profile.GetProperty("role").GetString());
        Assert.False(profile.TryGetProperty("referral_code", out _));
    }

    [Fact]
    public async Task An_api_client_token_is_forbidden_on_the_profile()
    {
        var client = app.CreateClientFor("some-merchant", "merchant");

        var response = await client.GetAsync("/profile");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("forbidden", await CodeAsync(response));
    }

    [Fact]
    public async Task An_api_client_token_is_forbidden_on_referrals_and_the_admin_endpoint()
    {
        var client = app.CreateClientFor("some-merchant", "merchant");

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/referral/summary")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await client.SendAsync(PrintFactory.Json(HttpMethod.Put, "/admin/app-downloads", new { ios_coming_soon = true }))).StatusCode);
    }

    [Fact]
    public async Task A_token_for_a_user_that_does_not_exist_ends_the_session()
    {
        var client = app.CreateClientAs(987654321, "customer");

        var response = await client.GetAsync("/profile");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("session_ended", await CodeAsync(response));
    }

    [Fact]
    public async Task A_token_claiming_another_role_than_the_account_has_ends_the_session()
    {
        var callers = await app.CallersAsync();
        // Correctly signed, for a real customer, but saying "shopkeeper": the account's role is what counts.
        var client = app.CreateClientAs(callers.Customer.Id, "shopkeeper");

        var response = await client.GetAsync("/profile");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("session_ended", await CodeAsync(response));
    }

    [Fact]
    public async Task Changing_the_password_revokes_the_old_token_and_the_response_carries_a_working_one()
    {
        var account = await app.SignUpAsync();
        var old = app.Bearer(account);
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync("/profile")).StatusCode);

        var changed = await old.SendAsync(PrintFactory.Json(HttpMethod.Put, "/profile", new { password = "new-password-123", current_password = account.Password }));
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var newToken = (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        Assert.False(string.IsNullOrEmpty(newToken));
        Assert.NotEqual(account.Token, newToken);
        // A bearer caller gets the token in the body, not a cookie.
        Assert.False(changed.Headers.Contains("Set-Cookie"));

        var stale = await old.GetAsync("/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Equal("session_ended", await CodeAsync(stale));
        Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("/referral/summary")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync("/app-downloads")).StatusCode);

        var fresh = await app.WithToken(newToken!).GetAsync("/profile");
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(account.Id, (await fresh.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());

        // The new password signs in; the old one no longer does.
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK,
            (await client.PostAsJsonAsync("/login", new { username = account.Username, password = "new-password-123" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await client.PostAsJsonAsync("/login", new { username = account.Username, password = account.Password })).StatusCode);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")]
    [InlineData("")]
    public async Task A_malformed_bearer_is_unauthorized(string bearer)
    {
        var client = app.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/profile");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthorized", await CodeAsync(response));
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_unauthorized()
    {
        var callers = await app.CallersAsync();
        var parts = callers.Customer.Token.Split('.');
        var tampered = $"{parts[0]}.{parts[1]}.{new string('A', parts[2].Length)}";

        var response = await app.WithToken(tampered).GetAsync("/profile");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_non_bearer_authorization_header_is_unauthorized()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz");

        var response = await client.GetAsync("/profile");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    internal static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
    }

    /// <summary>Session expiry moves the clock, so it has an app of its own (the matrix's tokens would expire with it).</summary>
    public sealed class SessionExpiry(PrintFactory app) : IClassFixture<PrintFactory>
    {
        [Fact]
        public async Task A_session_token_expires_after_the_session_lifetime()
        {
            var account = await app.SignUpAsync();
            var client = app.Bearer(account);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/profile")).StatusCode);

            app.Time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/profile")).StatusCode);

            app.Time.Advance(TimeSpan.FromMinutes(2));
            var response = await client.GetAsync("/profile");

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("unauthorized", await CodeAsync(response));
            // An app holding an expired token can still show the public pages and sign in again.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app-downloads")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/logout", null)).StatusCode);

            // Signing in again gives a token that works at the new time.
            var login = await app.CreateClient().PostAsJsonAsync("/login", new { username = account.Username, password = account.Password });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await app.WithToken(token).GetAsync("/profile")).StatusCode);
        }
    }

    /// <summary>The print app with <c>ALLOWED_ADMIN_IPS</c> set.</summary>
    public sealed class AllowedAdminIpsFactory : PrintFactory
    {
        public const string AllowedIp = "10.9.9.9";

        public AllowedAdminIpsFactory() => With("ALLOWED_ADMIN_IPS", AllowedIp + ", 2001:db8::9");
    }

    /// <summary>Admin endpoints answer only from the addresses in <c>ALLOWED_ADMIN_IPS</c> when it is set.</summary>
    public sealed class AllowedAdminIps(AllowedAdminIpsFactory app) : IClassFixture<AllowedAdminIpsFactory>
    {
        private async Task<HttpResponseMessage> UpdateAsync(string token, string? ip) =>
            await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Put, "/admin/app-downloads", new { ios_coming_soon = true }, token, ip));

        [Fact]
        public async Task The_admin_endpoint_answers_only_from_an_allowed_address()
        {
            var admin = await app.AdminTokenAsync();

            Assert.Equal(HttpStatusCode.OK, (await UpdateAsync(admin, AllowedAdminIpsFactory.AllowedIp)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await UpdateAsync(admin, "2001:db8::9")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await UpdateAsync(admin, "::ffff:10.9.9.9")).StatusCode);

            var elsewhere = await UpdateAsync(admin, "10.9.9.8");
            Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
            Assert.Equal("forbidden", await CodeAsync(elsewhere));
            Assert.Equal(HttpStatusCode.Forbidden, (await UpdateAsync(admin, null)).StatusCode);
        }

        [Fact]
        public async Task The_address_list_does_not_apply_to_the_admin_profile_or_to_non_admins()
        {
            var admin = await app.AdminTokenAsync();
            var profile = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Get, "/profile", null, admin, "10.9.9.8"));
            Assert.Equal(HttpStatusCode.OK, profile.StatusCode);

            // A customer at the allowed address is still not an admin.
            var customer = await app.SignUpAsync();
            Assert.Equal(HttpStatusCode.Forbidden, (await UpdateAsync(customer.Token, AllowedAdminIpsFactory.AllowedIp)).StatusCode);
            var anonymous = await app.CreateClient().SendAsync(
                PrintFactory.Json(HttpMethod.Put, "/admin/app-downloads", new { ios_coming_soon = true }, null, AllowedAdminIpsFactory.AllowedIp));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
    }
}
