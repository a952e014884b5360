using System.Net;
using System.Net.Http.Json;
using Serverless.Tests.Print.Accounts;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>Who may call the admin user endpoints: admins only, from an allowed address, with the CSRF token when signed in by cookie.</summary>
public sealed class AdminUsersAccessTests(AccessTests.AccessFactory app) : IClassFixture<AccessTests.AccessFactory>
{
    public static TheoryData<string, AccessTests.Caller, int> Matrix()
    {
        var data = new TheoryData<string, AccessTests.Caller, int>();
        foreach (var endpoint in new[] { "GET /admin/users", "GET /admin/users/details", "POST /admin/users/delete" })
        {
            data.Add(endpoint, AccessTests.Caller.Anonymous, 401);
            data.Add(endpoint, AccessTests.Caller.Customer, 403);
            data.Add(endpoint, AccessTests.Caller.Shopkeeper, 403);
            data.Add(endpoint, AccessTests.Caller.Admin, 200);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Only_admins_may_call_the_admin_user_endpoints(string endpoint, AccessTests.Caller caller, int status)
    {
        var callers = await app.CallersAsync();
        var client = await app.ClientAsync(caller);
        // A user of its own per row, so an admin's deletion takes nothing another row needs.
        var target = endpoint.StartsWith("POST", StringComparison.Ordinal) ? (await app.SignUpAsync()).Id : callers.OtherCustomer.Id;

        var response = endpoint switch
        {
            "GET /admin/users" => await client.GetAsync("/admin/users?role=customer"),
            "GET /admin/users/details" => await client.GetAsync($"/admin/users/details?user_id={target}"),
            _ => await client.PostAsJsonAsync("/admin/users/delete", new { user_id = target }),
        };

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal(status switch { 200 => null, 401 => "unauthorized", _ => "forbidden" }, await AccessTests.CodeAsync(response));
        Assert.Equal(status != 200 || !endpoint.StartsWith("POST", StringComparison.Ordinal), await app.Get<Serverless.Print.Accounts.PrintAccounts>().FindAsync(target) is not null);
    }

    [Fact]
    public async Task A_cookie_signed_in_admin_must_send_the_csrf_token_to_delete()
    {
        var target = await app.SignUpAsync();
        var browser = await app.CookieClientAsync(PrintFactory.AdminEmail, PrintFactory.AdminPassword);

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/users")).StatusCode);
        var forged = await browser.PostAsJsonAsync("/admin/users/delete", new { user_id = target.Id });
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal("csrf_token_invalid", await AccessTests.CodeAsync(forged));
        Assert.NotNull(await app.Get<Serverless.Print.Accounts.PrintAccounts>().FindAsync(target.Id));

        await PrintFactory.AddCsrfTokenAsync(browser);
        Assert.Equal(HttpStatusCode.OK, (await browser.PostAsJsonAsync("/admin/users/delete", new { user_id = target.Id })).StatusCode);
    }
}

/// <summary>With <c>ALLOWED_ADMIN_IPS</c> set, the admin user endpoints answer only from those addresses.</summary>
public sealed class AdminUsersAllowedIpsTests(AccessTests.AllowedAdminIpsFactory app) : IClassFixture<AccessTests.AllowedAdminIpsFactory>
{
    [Theory]
    [InlineData("/admin/users")]
    [InlineData("/admin/users/details?user_id=1")]
    public async Task An_admin_from_another_address_is_forbidden(string path)
    {
        var token = await app.AdminTokenAsync();

        var elsewhere = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Get, path, null, token, "10.9.9.8"));
        var allowed = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Get, "/admin/users", null, token, AccessTests.AllowedAdminIpsFactory.AllowedIp));

        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
        Assert.Equal("forbidden", await AccessTests.CodeAsync(elsewhere));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task A_deletion_from_another_address_is_forbidden_and_deletes_nothing()
    {
        var token = await app.AdminTokenAsync();
        var target = await app.SignUpAsync();

        var response = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Post, "/admin/users/delete", new { user_id = target.Id }, token, "10.9.9.8"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.NotNull(await app.Get<Serverless.Print.Accounts.PrintAccounts>().FindAsync(target.Id));
    }
}
