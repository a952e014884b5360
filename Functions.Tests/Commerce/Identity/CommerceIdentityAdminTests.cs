using System.Net;
using System.Net.Http.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Serverless.Commerce;

namespace Serverless.Tests.Commerce.Identity;

public sealed class CommerceIdentityAdminTests(CommerceIdentityFactory app) : IClassFixture<CommerceIdentityFactory>
{
    private const string Company = CommerceFactory.CompanyId;
    private const string MissingRole = "User doesn't have any of the expected roles: superAdmin, companyAdmin";

    public static TheoryData<string, string> Routes => new()
    {
        { "POST", "/users" }, { "GET", "/users" }, { "PATCH", "/users/1" },
        { "POST", "/integrations" }, { "GET", "/integrations" }, { "DELETE", "/integrations/integration_x" },
    };

    private static HttpRequestMessage Request(string method, string path, string company = Company) =>
        new(new HttpMethod(method), $"/admin/companies/{company}{path}")
        {
            Content = method is "POST" or "PATCH" ? JsonContent.Create(new { }) : null,
        };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Anonymous_callers_get_401(string method, string path)
    {
        var response = await app.CreateClient().SendAsync(Request(method, path));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_user_gets_403_with_the_documents_message(string method, string path)
    {
        var (client, _) = await app.SignedInAsync(Company, CommerceRoles.User);

        var response = await client.SendAsync(Request(method, path));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(MissingRole, await response.MessageAsync());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task An_admin_of_another_company_gets_404(string method, string path)
    {
        var (client, _) = await app.SignedInAsync(CommerceFactory.OtherCompanyId, CommerceRoles.Admin);

        var response = await client.SendAsync(Request(method, path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_super_admin_of_another_company_creates_lists_and_changes_users_here()
    {
        var (admin, _) = await app.SignedInAsync(CommerceFactory.OtherCompanyId, CommerceRoles.SuperAdmin);
        var company = Guid.NewGuid().ToString();
        var emails = Enumerable.Range(0, 3).Select(i => $"member-{i}-{Guid.NewGuid():N}@example.test").ToList();

        var created = new List<long>();
        foreach (var email in emails)
        {
            var response = await admin.PostAsJsonAsync($"/admin/companies/{company}/users",
                new { email, password = CommerceIdentityFactory.Password, name = "Member", roles = new[] { "user" } });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(email, body.GetProperty("email").GetString());
            Assert.Equal(company, body.GetProperty("companyId").GetString());
            Assert.Equal(["user"], body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
            created.Add(body.GetProperty("id").GetInt64());
        }
        var page = await (await admin.GetAsync($"/admin/companies/{company}/users?page=2&limit=2")).JsonAsync();
        var promoted = await admin.PatchAsJsonAsync($"/admin/companies/{company}/users/{created[0]}", new { roles = new[] { "companyAdmin" } });

        Assert.Single(page.GetProperty("items").EnumerateArray());
        var meta = page.GetProperty("meta");
        Assert.Equal((1, 3, 2, 2, 2), (meta.GetProperty("itemCount").GetInt32(), meta.GetProperty("totalItems").GetInt32(),
            meta.GetProperty("itemsPerPage").GetInt32(), meta.GetProperty("totalPages").GetInt32(), meta.GetProperty("currentPage").GetInt32()));
        var links = page.GetProperty("links");
        Assert.Equal($"/admin/companies/{company}/users?page=1&limit=2", links.GetProperty("prev").GetString());
        Assert.Equal("", links.GetProperty("next").GetString());
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        Assert.Equal(["companyAdmin"], (await promoted.JsonAsync()).GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var (token, _) = await app.TokensAsync(emails[0], companyId: company);
        Assert.Contains(new JsonWebToken(token).Claims, c => c.Type == "role" && c.Value == "companyAdmin");
    }

    [Fact]
    public async Task An_email_already_in_the_company_is_a_409()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var email = CommerceIdentityFactory.NewEmail();
        var user = new { email, password = CommerceIdentityFactory.Password, roles = new[] { "user" } };

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/admin/companies/{Company}/users", user)).StatusCode);
        var again = await admin.PostAsJsonAsync($"/admin/companies/{Company}/users", user with { email = email.ToUpperInvariant() });

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(409, (await again.JsonAsync()).GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task A_company_admin_cannot_grant_super_admin_nor_change_a_super_admin()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var super = await app.AccountAsync(Company, null, CommerceIdentityFactory.Password, CommerceRoles.SuperAdmin);

        var grant = await admin.PostAsJsonAsync($"/admin/companies/{Company}/users",
            new { email = CommerceIdentityFactory.NewEmail(), password = CommerceIdentityFactory.Password, roles = new[] { "superAdmin" } });
        var demote = await admin.PatchAsJsonAsync($"/admin/companies/{Company}/users/{super.User.Id}", new { roles = new[] { "user" } });

        Assert.Equal(HttpStatusCode.Forbidden, grant.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, demote.StatusCode);
    }

    [Fact]
    public async Task Bad_user_input_is_a_400_naming_the_field()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);

        var weak = await admin.PostAsJsonAsync($"/admin/companies/{Company}/users",
            new { email = CommerceIdentityFactory.NewEmail(), password = "short", roles = new[] { "user" } });
        var role = await admin.PostAsJsonAsync($"/admin/companies/{Company}/users",
            new { email = CommerceIdentityFactory.NewEmail(), password = CommerceIdentityFactory.Password, roles = new[] { "owner" } });
        var limit = await admin.GetAsync($"/admin/companies/{Company}/users?limit=1000");

        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("'password'", await weak.MessageAsync());
        Assert.Equal(HttpStatusCode.BadRequest, role.StatusCode);
        Assert.Contains("'roles'", await role.MessageAsync());
        Assert.Equal(HttpStatusCode.BadRequest, limit.StatusCode);
        Assert.Contains("'limit'", await limit.MessageAsync());
    }

    [Fact]
    public async Task Disabling_a_user_ends_its_sign_in_and_tokens_and_another_companys_user_is_not_found()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var (userClient, user) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var (_, refresh) = await app.TokensAsync(user.Email);
        var stranger = await app.AccountAsync(CommerceFactory.OtherCompanyId);

        var disabled = await admin.PatchAsJsonAsync($"/admin/companies/{Company}/users/{user.User.Id}", new { disabled = true });
        var foreign = await admin.PatchAsJsonAsync($"/admin/companies/{Company}/users/{stranger.User.Id}", new { disabled = true });

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.True((await disabled.JsonAsync()).GetProperty("disabled").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.SignInAsync(user.Email)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await userClient.GetAsync($"/admin/companies/{Company}/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(refresh)).StatusCode);
    }
}

public sealed class CommerceIntegrationTests(CommerceIdentityFactory app) : IClassFixture<CommerceIdentityFactory>
{
    private const string Company = CommerceFactory.CompanyId;

    private async Task<(string ClientId, string Secret)> CreateAsync(HttpClient admin, string company = Company)
    {
        var response = await admin.PostAsJsonAsync($"/admin/companies/{company}/integrations", new { name = "Shop sync" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(company, body.GetProperty("companyId").GetString());
        return (body.GetProperty("clientId").GetString()!, body.GetProperty("clientSecret").GetString()!);
    }

    [Fact]
    public async Task An_integration_gets_a_commerce_token_of_its_company_by_client_credentials()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var (clientId, secret) = await CreateAsync(admin);

        var response = await app.ClientTokenAsync(clientId, secret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(900, body.GetProperty("expires_in").GetInt32());
        var jwt = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal(Company, jwt.GetClaim(CommerceClaims.Company).Value);
        Assert.Equal("integration", jwt.GetClaim("role").Value);
        // A commerce token: the admin routes know it, and refuse it for its role.
        var asIntegration = await app.WithToken(jwt.EncodedToken).GetAsync($"/admin/companies/{Company}/users");
        Assert.Equal(HttpStatusCode.Forbidden, asIntegration.StatusCode);
    }

    [Fact]
    public async Task A_wrong_secret_an_unknown_client_and_a_foreign_grant_are_refused_in_the_oauth_shape()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var (clientId, _) = await CreateAsync(admin);

        var wrong = await app.ClientTokenAsync(clientId, "sk_wrong");
        var unknown = await app.ClientTokenAsync("integration_nobody", "sk_wrong");
        var grant = await app.ClientTokenAsync(clientId, "sk_wrong", "password");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("invalid_client", (await wrong.JsonAsync()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, grant.StatusCode);
        Assert.Equal("unsupported_grant_type", (await grant.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_api_client_that_is_no_commerce_integration_gets_no_commerce_token()
    {
        var created = await app.Get<Serverless.Platform.Identity.ApiClientDirectory>()
            .CreateAsync(Serverless.Platform.Identity.ClientKinds.Integration, "Platform-made integration");

        var response = await app.ClientTokenAsync(created!.Client.ClientId, created.Secret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_disabled_integration_gets_no_token_and_its_tokens_stop_working()
    {
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.SuperAdmin);
        var (clientId, secret) = await CreateAsync(admin);
        var token = (await (await app.ClientTokenAsync(clientId, secret)).JsonAsync()).GetProperty("access_token").GetString()!;
        var integration = app.WithToken(token);
        Assert.Equal(HttpStatusCode.Forbidden, (await integration.GetAsync($"/admin/companies/{Company}/users")).StatusCode);

        var deleted = await admin.DeleteAsync($"/admin/companies/{Company}/integrations/{clientId}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientTokenAsync(clientId, secret)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await integration.GetAsync($"/admin/companies/{Company}/users")).StatusCode);
        var listed = (await (await admin.GetAsync($"/admin/companies/{Company}/integrations")).JsonAsync()).EnumerateArray()
            .Single(i => i.GetProperty("clientId").GetString() == clientId);
        Assert.True(listed.GetProperty("disabled").GetBoolean());
        Assert.False(listed.TryGetProperty("clientSecret", out _));
    }

    [Fact]
    public async Task An_admin_cannot_disable_another_companys_integration_through_their_own_company()
    {
        var (otherAdmin, _) = await app.SignedInAsync(CommerceFactory.OtherCompanyId, CommerceRoles.Admin);
        var (admin, _) = await app.SignedInAsync(Company, CommerceRoles.Admin);
        var (clientId, secret) = await CreateAsync(otherAdmin, CommerceFactory.OtherCompanyId);

        var response = await admin.DeleteAsync($"/admin/companies/{Company}/integrations/{clientId}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientTokenAsync(clientId, secret)).StatusCode);
    }
}
