using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce;
using Serverless.Commerce.Identity;

namespace Serverless.Tests.Commerce.Identity;

/// <summary>
/// The commerce app with helpers for its identity: accounts created through the store (passwords hashed as the
/// admin API would), and clients holding tokens from the real sign-in route.
/// </summary>
public class CommerceIdentityFactory : CommerceFactory
{
    public const string Password = "correct-horse-battery";

    public static string NewEmail() => $"person-{Guid.NewGuid():N}@example.test";

    /// <summary>A new account of the company, created through the store.</summary>
    public async Task<CommerceAccount> AccountAsync(string companyId = CompanyId, string? email = null, string password = Password,
        params string[] roles)
    {
        email ??= NewEmail();
        var created = await Get<CommerceAccounts>().CreateAsync(companyId, email, password, "Person", roles.Length == 0 ? [CommerceRoles.User] : roles);
        return created ?? throw new InvalidOperationException($"{email} exists in {companyId} already.");
    }

    public Task<HttpResponseMessage> SignInAsync(string email, string password = Password, string companyId = CompanyId) =>
        CreateClient().PostAsJsonAsync("/auth/signin", new { email, password, companyId });

    /// <summary>Signs in and answers the token pair (the sign-in must succeed).</summary>
    public async Task<(string Token, string RefreshToken)> TokensAsync(string email, string password = Password, string companyId = CompanyId)
    {
        var response = await SignInAsync(email, password, companyId);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Sign-in of {email} failed: {(int)response.StatusCode} {body}");
        return (body.GetProperty("token").GetString()!, body.GetProperty("refreshToken").GetString()!);
    }

    /// <summary>A new account with these roles, signed in: a client carrying its commerce token, and the account.</summary>
    public async Task<(HttpClient Client, CommerceAccount Account)> SignedInAsync(string companyId = CompanyId, params string[] roles)
    {
        var account = await AccountAsync(companyId, null, Password, roles);
        var (token, _) = await TokensAsync(account.Email, Password, companyId);
        return (WithToken(token), account);
    }

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        CreateClient().PostAsJsonAsync("/auth/refresh-token", new { refreshToken });

    public Task<HttpResponseMessage> ClientTokenAsync(string clientId, string secret, string grantType = "client_credentials") =>
        CreateClient().PostAsync("/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = grantType, ["client_id"] = clientId, ["client_secret"] = secret,
        }));
}

public static class ResponseJson
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    public static async Task<string?> MessageAsync(this HttpResponseMessage response) =>
        (await response.JsonAsync()).GetProperty("message").GetString();
}
