using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Identity;

/// <summary>
/// An operator's actions on another user's account: disabling it and resetting its password each end every session
/// of the account on every surface at once (the platform's and the print shop's), in one transaction.
/// </summary>
public sealed class AdminUserActionsTests(AudienceTests.SurfacesFactory app) : IClassFixture<AudienceTests.SurfacesFactory>
{
    private async Task<HttpClient> AdminAsync()
    {
        var signIn = await app.CreateClient().PostAsJsonAsync("/platform/auth/token",
            new { login = PlatformFactory.AdminEmail, password = PlatformFactory.AdminPassword });
        return app.WithToken((await signIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!);
    }

    private async Task<string> PlatformTokenAsync(string login, string password)
    {
        var signIn = await app.CreateClient().PostAsJsonAsync("/platform/auth/token", new { login, password });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        return (await signIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    [Fact]
    public async Task Disabling_a_user_ends_its_print_and_platform_sessions_and_its_sign_in()
    {
        var customer = await app.SignUpAsync();
        var platformToken = await PlatformTokenAsync(customer.Username, customer.Password);
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.WithToken(platformToken).GetAsync("/platform/me")).StatusCode);

        var disabled = await (await AdminAsync()).PostAsync($"/platform/users/{customer.Id}/disable", null);

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.Equal($$"""{"id":{{customer.Id}},"disabled":true}""", await disabled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithToken(platformToken).GetAsync("/platform/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password })).StatusCode);
    }

    [Fact]
    public async Task An_admin_password_reset_ends_every_session_and_only_the_new_password_signs_in()
    {
        var customer = await app.SignUpAsync();

        var reset = await (await AdminAsync()).PostAsJsonAsync($"/platform/users/{customer.Id}/password", new { password = "a-fresh-start-9" });

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password })).StatusCode);
        var fresh = await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = "a-fresh-start-9" });
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        var token = (await fresh.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await app.WithToken(token).GetAsync("/profile")).StatusCode);
    }

    [Fact]
    public async Task Operator_actions_refuse_weak_passwords_unknown_users_and_callers_without_a_platform_admin_token()
    {
        var customer = await app.SignUpAsync();
        var admin = await AdminAsync();

        Assert.Equal(HttpStatusCode.BadRequest,
            (await admin.PostAsJsonAsync($"/platform/users/{customer.Id}/password", new { password = "password123" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/platform/users/999999999/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound,
            (await admin.PostAsJsonAsync("/platform/users/999999999/password", new { password = "a-fresh-start-9" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(customer).PostAsync($"/platform/users/{customer.Id}/disable", null)).StatusCode);
        var own = await PlatformTokenAsync(customer.Username, customer.Password);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.WithToken(own).PostAsync($"/platform/users/{customer.Id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
    }
}
