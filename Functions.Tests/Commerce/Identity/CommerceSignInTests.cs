using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Serverless.Commerce;
using Serverless.Commerce.Identity;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Tests.Commerce.Identity;

public sealed class CommerceSignInTests(CommerceIdentityFactory app) : IClassFixture<CommerceIdentityFactory>
{
    [Fact]
    public async Task A_company_account_signs_in_and_gets_a_commerce_token_for_its_company_and_a_refresh_token()
    {
        var account = await app.AccountAsync(roles: CommerceRoles.User);

        var response = await app.SignInAsync(account.Email.ToUpperInvariant());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        var jwt = new JsonWebToken(body.GetProperty("token").GetString());
        Assert.Equal("serverless-api/commerce", Assert.Single(jwt.Audiences));
        Assert.Equal(CommerceFactory.CompanyId, jwt.GetClaim(CommerceClaims.Company).Value);
        Assert.Equal(account.User.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), jwt.Subject);
        Assert.Equal([CommerceRoles.User], jwt.Claims.Where(c => c.Type == PlatformClaims.Role).Select(c => c.Value));
        var refresh = body.GetProperty("refreshToken").GetString()!;
        Assert.True(refresh.Length >= 43, refresh);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("email")]
    [InlineData("password")]
    [InlineData("company")]
    public async Task A_wrong_email_password_or_company_gets_the_same_401(string wrong)
    {
        var account = await app.AccountAsync();

        var response = await app.SignInAsync(
            wrong == "email" ? CommerceIdentityFactory.NewEmail() : account.Email,
            wrong == "password" ? "not-the-password" : CommerceIdentityFactory.Password,
            wrong == "company" ? CommerceFactory.OtherCompanyId : CommerceFactory.CompanyId);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(401, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Invalid credentials", body.GetProperty("message").GetString());
        Assert.Equal("Unauthorized", body.GetProperty("error").GetString());
        Assert.False(body.TryGetProperty("errorCode", out _));
    }

    [Fact]
    public async Task The_same_email_holds_a_separate_account_in_each_company()
    {
        var email = CommerceIdentityFactory.NewEmail();
        var first = await app.AccountAsync(CommerceFactory.CompanyId, email, "first-company-password");
        var second = await app.AccountAsync(CommerceFactory.OtherCompanyId, email, "second-company-password");

        var (inFirst, _) = await app.TokensAsync(email, "first-company-password", CommerceFactory.CompanyId);
        var (inSecond, _) = await app.TokensAsync(email, "second-company-password", CommerceFactory.OtherCompanyId);
        var crossed = await app.SignInAsync(email, "first-company-password", CommerceFactory.OtherCompanyId);

        Assert.NotEqual(first.User.Id, second.User.Id);
        Assert.Equal(CommerceFactory.CompanyId, new JsonWebToken(inFirst).GetClaim(CommerceClaims.Company).Value);
        Assert.Equal(CommerceFactory.OtherCompanyId, new JsonWebToken(inSecond).GetClaim(CommerceClaims.Company).Value);
        Assert.Equal(HttpStatusCode.Unauthorized, crossed.StatusCode);
    }

    [Fact]
    public async Task A_disabled_account_cannot_sign_in_and_its_tokens_stop_working()
    {
        var (client, account) = await app.SignedInAsync(roles: CommerceRoles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/admin/companies/{CommerceFactory.CompanyId}/users")).StatusCode);

        await app.Get<UserDirectory>().DisableAsync(account.User.Id);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.SignInAsync(account.Email)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/admin/companies/{CommerceFactory.CompanyId}/users")).StatusCode);
    }

    [Theory]
    [InlineData("{\"password\":\"x-password\",\"companyId\":\"2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c\"}", "'email' is required.")]
    [InlineData("{\"email\":\"a@example.test\",\"companyId\":\"2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c\"}", "'password' is required.")]
    [InlineData("{\"email\":\"a@example.test\",\"password\":\"x-password\"}", "'companyId' is required.")]
    [InlineData("{\"email\":\"a@example.test\",\"password\":\"x-password\",\"companyId\":\"acme\"}", "'companyId' must be a UUID.")]
    public async Task Bad_sign_in_input_is_a_400_naming_the_field(string json, string message)
    {
        var response = await app.CreateClient().PostAsync("/auth/signin", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, await response.MessageAsync());
    }

    [Fact]
    public async Task A_commerce_token_is_refused_by_another_surface()
    {
        var account = await app.AccountAsync(roles: CommerceRoles.SuperAdmin);
        var (token, _) = await app.TokensAsync(account.Email);

        var response = await app.WithToken(token).GetAsync("/platform/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Another_surfaces_token_is_refused_by_commerce()
    {
        var account = await app.AccountAsync(roles: CommerceRoles.SuperAdmin);
        var platformToken = app.IssueForUser(TokenAudiences.Platform, account.User.Id, [CommerceRoles.SuperAdmin], account.User.SessionVersion);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", platformToken);

        var response = await client.GetAsync($"/admin/companies/{CommerceFactory.CompanyId}/users");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_development_seed_can_run_twice_and_its_credentials_work()
    {
        var seed = new CommerceIdentitySeed();
        await seed.SeedAsync(app.Services, CancellationToken.None);
        await seed.SeedAsync(app.Services, CancellationToken.None);

        var (buyer, _) = await app.TokensAsync(CommerceIdentitySeed.BuyerEmail, CommerceIdentitySeed.Password, CommerceIdentitySeed.CompanyId);
        var (admin, _) = await app.TokensAsync(CommerceIdentitySeed.AdminEmail, CommerceIdentitySeed.Password, CommerceIdentitySeed.CompanyId);
        var integration = await app.ClientTokenAsync(CommerceIdentitySeed.IntegrationId, CommerceIdentitySeed.IntegrationSecret);

        Assert.Equal(CommerceRoles.User, new JsonWebToken(buyer).GetClaim(PlatformClaims.Role).Value);
        Assert.Equal(CommerceRoles.SuperAdmin, new JsonWebToken(admin).GetClaim(PlatformClaims.Role).Value);
        Assert.Equal(HttpStatusCode.OK, integration.StatusCode);
        var users = await (await app.WithToken(admin).GetAsync($"/admin/companies/{CommerceIdentitySeed.CompanyId}/users")).JsonAsync();
        Assert.Equal(2, users.GetProperty("meta").GetProperty("totalItems").GetInt32());
    }

    [Fact]
    public async Task A_commerce_account_cannot_sign_in_to_the_platform()
    {
        var account = await app.AccountAsync(roles: CommerceRoles.SuperAdmin);

        var response = await app.CreateClient().PostAsJsonAsync("/platform/auth/token",
            new { login = $"{CommerceFactory.CompanyId}/{account.Email}", password = CommerceIdentityFactory.Password });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

/// <summary>A low sign-in budget: 3 a minute per client address and per company and email.</summary>
public sealed class CommerceSignInLimitFactory : CommerceIdentityFactory
{
    public CommerceSignInLimitFactory() => With("RateLimits:Auth:PermitLimit", "3");
}

public sealed class CommerceSignInLimitTests(CommerceSignInLimitFactory app) : IClassFixture<CommerceSignInLimitFactory>
{
    [Fact]
    public async Task Sign_in_attempts_past_the_budget_are_a_429_with_retry_after_in_the_commerce_shape()
    {
        var account = await app.AccountAsync();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            last = await app.SignInAsync(account.Email, "guess-" + i);
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.NotNull(last!.Headers.RetryAfter);
        Assert.Equal(429, (await last.JsonAsync()).GetProperty("statusCode").GetInt32());
    }
}

public sealed class CommerceSignInIdentifierLimitTests(CommerceSignInLimitFactory app) : IClassFixture<CommerceSignInLimitFactory>
{
    [Fact]
    public async Task An_account_whose_budget_was_spent_elsewhere_is_refused_even_with_the_right_password()
    {
        var account = await app.AccountAsync();
        var throttle = app.Get<IdentifierThrottle>();
        // Guesses from other addresses: the per-identifier budget is per company and email, not per address.
        for (var i = 0; i < 3; i++)
            Assert.True(throttle.TryAcquire("commerce-sign-in", $"{CommerceFactory.CompanyId}/{account.Email}"));

        var response = await app.SignInAsync(account.Email);
        var otherCompany = await app.SignInAsync(account.Email, companyId: CommerceFactory.OtherCompanyId);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherCompany.StatusCode);
    }
}
