using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Accounts;

namespace Serverless.Tests.Print.Accounts;

/// <summary>Changing a password through <c>PUT /profile</c> asks for the current one, for every account.</summary>
public sealed class PasswordChangeTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private async Task<HttpStatusCode> LoginAsync(string login, string password) =>
        (await app.CreateClient().PostAsJsonAsync("/login", new { username = login, password })).StatusCode;

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task A_new_password_without_the_current_one_is_a_400_naming_current_password()
    {
        var customer = await app.SignUpAsync();

        var response = await app.Bearer(customer).PutAsJsonAsync("/profile", new { password = "another-password-1" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("validation_error", body.GetProperty("code").GetString());
        Assert.Contains("'current_password'", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(customer.Username, customer.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(customer.Username, "another-password-1"));
    }

    [Fact]
    public async Task A_wrong_current_password_is_a_403_and_changes_nothing()
    {
        var customer = await app.SignUpAsync();

        var response = await app.Bearer(customer).PutAsJsonAsync("/profile",
            new { password = "another-password-1", current_password = "not-my-password", full_name = "Renamed" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("invalid_current_password", body.GetProperty("code").GetString());
        Assert.Equal("The current password is incorrect.", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(customer.Username, customer.Password));
        Assert.NotEqual("Renamed", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("full_name").GetString());
    }

    [Fact]
    public async Task The_right_current_password_changes_it()
    {
        var customer = await app.SignUpAsync();

        var response = await app.Bearer(customer).PutAsJsonAsync("/profile",
            new { password = "another-password-1", current_password = customer.Password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await BodyAsync(response)).GetProperty("token").GetString()));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(customer.Username, customer.Password));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(customer.Username, "another-password-1"));
    }

    [Fact]
    public async Task An_admin_token_cannot_change_the_admins_password_without_the_current_one()
    {
        var admin = app.WithToken(await app.AdminTokenAsync());

        var missing = await admin.PutAsJsonAsync("/profile", new { password = "hijacked-password-1" });
        var wrong = await admin.PutAsJsonAsync("/profile", new { password = "hijacked-password-1", current_password = "a-guess-at-it" });

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("'current_password'", (await BodyAsync(missing)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(PrintFactory.AdminEmail, PrintFactory.AdminPassword));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(PrintFactory.AdminEmail, "hijacked-password-1"));
    }

    [Fact]
    public async Task The_current_password_rule_is_in_the_openapi_description()
    {
        var document = await app.CreateClient().GetStringAsync("/openapi/v1.json");
        Assert.Contains("current_password", document);
        Assert.Contains("invalid_current_password", document);
    }
}

/// <summary>The print app with a sign-in budget of 3 guesses per account.</summary>
public sealed class SmallGuessBudgetFactory : PrintFactory
{
    public SmallGuessBudgetFactory() => With("RateLimits:Auth:PermitLimit", "3");
}

public sealed class PasswordChangeBudgetTests(SmallGuessBudgetFactory app) : IClassFixture<SmallGuessBudgetFactory>
{
    [Fact]
    public async Task Wrong_current_passwords_spend_the_accounts_sign_in_budget()
    {
        var username = app.Unique("budget");
        await app.Get<PrintAccounts>().RegisterAsync(new Registration("Budget Test", username, username + "@example.test", null,
            PrintFactory.DefaultPassword, "customer", null, null, null, null, null));
        // One sign-in (one guess of three), each request from its own address so only the account's budget counts.
        var login = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Post, "/login",
            new { username, password = PrintFactory.DefaultPassword }, clientIp: "10.1.0.1"));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
            statuses.Add((await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Put, "/profile",
                new { password = "another-password-1", current_password = "guess-" + i }, token, clientIp: $"10.1.1.{i}"))).StatusCode);
        var right = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Put, "/profile",
            new { password = "another-password-1", current_password = PrintFactory.DefaultPassword }, token, clientIp: "10.1.2.1"));
        var signIn = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Post, "/login",
            new { username, password = PrintFactory.DefaultPassword }, clientIp: "10.1.2.2"));
        var delete = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile",
            new { password = PrintFactory.DefaultPassword }, token, clientIp: "10.1.2.3"));

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.NotNull(right.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.TooManyRequests, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, delete.StatusCode);
        Assert.NotNull(delete.Headers.RetryAfter);
    }
}
