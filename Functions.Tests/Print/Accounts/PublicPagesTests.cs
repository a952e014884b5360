using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Tests.Print.Accounts;

public sealed class PublicPagesTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task App_downloads_are_public_and_admins_change_them()
    {
        var admin = app.WithToken(await app.AdminTokenAsync());
        var update = await admin.PutAsJsonAsync("/admin/app-downloads", new
        {
            windows_shopkeeper_url = "https://downloads.example.test/shop.exe",
            android_customer_url = "https://play.example.test/app",
            ios_customer_url = "",
            windows_coming_soon = false,
            android_coming_soon = false,
            ios_coming_soon = true,
        });
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);

        var response = await app.CreateClient().GetAsync("/app-downloads");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"windows_shopkeeper_url":"https://downloads.example.test/shop.exe","android_customer_url":"https://play.example.test/app","ios_customer_url":"","windows_coming_soon":false,"android_coming_soon":false,"ios_coming_soon":true}""",
            await response.Content.ReadAsStringAsync());

        // A partial update keeps the other fields.
        await admin.PutAsJsonAsync("/admin/app-downloads", new { ios_customer_url = "https://apps.example.test/ios", ios_coming_soon = false });
        var after = await app.CreateClient().GetFromJsonAsync<JsonElement>("/app-downloads");
        Assert.Equal("https://apps.example.test/ios", after.GetProperty("ios_customer_url").GetString());
        Assert.Equal("https://play.example.test/app", after.GetProperty("android_customer_url").GetString());
        Assert.False(after.GetProperty("ios_coming_soon").GetBoolean());
    }

    [Theory]
    [InlineData("""{"android_customer_url":"http://insecure.example.test"}""", "'android_customer_url' must be an https:// URL")]
    [InlineData("""{"ios_customer_url":"javascript:alert(1)"}""", "'ios_customer_url' must be an https:// URL")]
    [InlineData("""{"windows_coming_soon":"yes"}""", "Field 'windows_coming_soon' must be true or false.")]
    public async Task Bad_download_links_are_refused(string json, string message)
    {
        var admin = app.WithToken(await app.AdminTokenAsync());
        var response = await admin.PutAsync("/admin/app-downloads", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_reset_password_page_without_the_links_token_says_the_link_is_incomplete()
    {
        var (response, html) = await PageAsync("/reset-password", HttpStatusCode.BadRequest);

        Assert.Contains("This link is incomplete", html);
        Assert.DoesNotContain("<form", html);
        Assert.Contains("form-action 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task The_reset_password_page_never_writes_the_token_into_the_page()
    {
        const string token = "12.<script>alert(1)</script>";
        var (response, html) = await PageAsync("/reset-password?token=" + Uri.EscapeDataString(token), HttpStatusCode.OK);

        Assert.Contains("<form id=\"reset\"", html);
        Assert.DoesNotContain("alert(1)", html);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task The_openapi_document_has_the_reset_page_and_the_reset_api_on_one_path_and_the_referral_page()
    {
        var paths = (await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");

        var reset = paths.GetProperty("/reset-password");
        Assert.True(reset.GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/html", out _));
        Assert.Contains(reset.GetProperty("get").GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "token");
        Assert.True(reset.GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        var referral = paths.GetProperty("/r/{code}").GetProperty("get");
        Assert.True(referral.GetProperty("responses").GetProperty("404").GetProperty("content").TryGetProperty("text/html", out _));
    }

    [Fact]
    public async Task The_delete_data_page_explains_how_to_delete_an_account()
    {
        var (_, html) = await PageAsync("/delete-data", HttpStatusCode.OK);
        Assert.Contains("Delete Account", html);
        Assert.Contains("mailto:", html);
    }

    /// <summary>An HTML page with its status, under a content security policy that allows nothing by default.</summary>
    private async Task<(HttpResponseMessage Response, string Html)> PageAsync(string path, HttpStatusCode status)
    {
        var response = await app.CreateClient().GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        return (response, await response.Content.ReadAsStringAsync());
    }
}
