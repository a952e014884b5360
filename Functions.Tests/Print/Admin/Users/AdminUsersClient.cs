using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>The admin endpoints as a test calls them, with the platform admin's bearer token.</summary>
public static class AdminUsersClient
{
    public static async Task<HttpClient> AdminAsync(this PrintFactory app) => app.WithToken(await app.AdminTokenAsync());

    /// <summary>GET /admin/users with the query given; asserts 200 and returns the body.</summary>
    public static async Task<JsonElement> UsersAsync(this HttpClient admin, string query = "")
    {
        var response = await admin.GetAsync("/admin/users" + (query.Length > 0 ? "?" + query : ""));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static List<long> Ids(this JsonElement users) =>
        users.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("id").GetInt64()).ToList();

    public static int Total(this JsonElement users) => users.GetProperty("total").GetInt32();

    public static Task<HttpResponseMessage> DeleteUserAsync(this HttpClient admin, long userId, bool? forceRefund = null) =>
        admin.PostAsJsonAsync("/admin/users/delete", forceRefund is null ? new { user_id = userId } : (object)new { user_id = userId, force_refund = forceRefund });

    public static async Task<string?> CodeAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("code", out var code) ? code.GetString() : null;

    /// <summary>A mobile number no other test uses.</summary>
    public static string NewPhone() => "9" + Random.Shared.NextInt64(100_000_000, 999_999_999);
}
