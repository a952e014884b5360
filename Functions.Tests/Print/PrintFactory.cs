using Serverless.Platform.Identity;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Email;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Print;

/// <summary>A signed-up print-shop account as a test holds it.</summary>
public sealed record PrintAccount(long Id, string Username, string Email, string Password, string Role, string Token);

/// <summary>
/// The app for print-shop tests: sign-up needs the emailed code (read back from the development outbox), and a
/// test may say which client address a request comes from with <c>X-Test-Client-IP</c>, so per-IP limits can be
/// told apart from per-identifier ones.
/// </summary>
public class PrintFactory : PlatformFactory
{
    public override TokenAudience Audience => TokenAudiences.Print;

    public const string TestClientIpHeader = "X-Test-Client-IP";
    public const string DefaultPassword = "print-password-1";
    public const string WebUrl = "https://qprint.example.test";

    private int _sequence;
    private WebApplicationFactory<Program>? _skipOtp;

    public PrintFactory()
    {
        With("RESEND_API_KEY", "");
        With("Print:PublicWebUrl", WebUrl);
        // Tests sign in far more often than a person; the limits themselves are tested with their own factory.
        With("RateLimits:Auth:PermitLimit", "100000");
        With("RateLimits:PerCaller:PermitLimit", "100000");
        With("OneTimeCodes:ResendAfter", "00:00:00");
    }

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.AddSingleton<IStartupFilter>(new ClientAddressFromHeader());

    /// <summary>The same app and storage with <c>SKIP_SIGNUP_OTP=true</c>: registration without a sign-up code.</summary>
    public WebApplicationFactory<Program> SkipOtp() =>
        _skipOtp ??= WithWebHostBuilder(builder => builder.UseSetting("SKIP_SIGNUP_OTP", "true"));

    public string Unique(string prefix) => $"{prefix}{Interlocked.Increment(ref _sequence)}x{Prefix[1..6]}";

    /// <summary>The 6-digit code in the newest email to <paramref name="email"/>.</summary>
    public async Task<string> LatestCodeAsync(string email)
    {
        var mail = await Get<Outbox>().LatestAsync(email) ?? throw new InvalidOperationException($"No email was sent to {email}.");
        return Regex.Match(mail.Text ?? "", @"\b(\d{6})\b").Groups[1].Value;
    }

    /// <summary>Walks the documented sign-up: send-otp, the code from the email, verify-otp, register.</summary>
    public async Task<PrintAccount> SignUpAsync(string? username = null, string role = "customer", string? phone = null,
        string? referralCode = null, string password = DefaultPassword)
    {
        username ??= Unique(role == "customer" ? "cust" : "shop");
        var email = $"{username}@example.test";
        var client = CreateClient();
        var token = await SignupTokenAsync(client, email);
        var response = await client.PostAsJsonAsync("/register", new Dictionary<string, object?>
        {
            ["full_name"] = "Test " + username,
            ["username"] = username,
            ["email"] = email,
            ["phone"] = phone,
            ["password"] = password,
            ["role"] = role,
            ["signup_token"] = token,
            ["referral_code"] = referralCode,
            ["shop_name"] = role == "shopkeeper" ? "Shop of " + username : null,
            ["lat"] = role == "shopkeeper" ? 12.9716 : null,
            ["long"] = role == "shopkeeper" ? 77.5946 : null,
            ["address"] = role == "shopkeeper" ? "1 Main St" : null,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new PrintAccount(body.GetProperty("id").GetInt64(), username, email, password, role, body.GetProperty("token").GetString()!);
    }

    public async Task<string> SignupTokenAsync(HttpClient client, string email)
    {
        var sent = await client.PostAsJsonAsync("/register/send-otp", new { email });
        Assert.True(sent.StatusCode == HttpStatusCode.OK, await sent.Content.ReadAsStringAsync());
        var verified = await client.PostAsJsonAsync("/register/verify-otp", new { email, code = await LatestCodeAsync(email) });
        Assert.True(verified.StatusCode == HttpStatusCode.OK, await verified.Content.ReadAsStringAsync());
        return (await verified.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signup_token").GetString()!;
    }

    /// <summary>The platform's first admin, signed in through <c>POST /login</c>.</summary>
    public async Task<string> AdminTokenAsync()
    {
        var response = await CreateClient().PostAsJsonAsync("/login", new { username = AdminEmail, password = AdminPassword });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public HttpClient Bearer(PrintAccount account) => WithToken(account.Token);

    /// <summary>A browser-like client: signs in with the password and keeps the cookie, with no Authorization header.</summary>
    public async Task<HttpClient> CookieClientAsync(string login, string password)
    {
        var client = CreateClient();
        var response = await client.PostAsJsonAsync("/login", new { username = login, password });
        response.EnsureSuccessStatusCode();
        return client;
    }

    /// <summary>Fetches a CSRF token with this client's cookies and adds it to every later request.</summary>
    public static async Task<string> AddCsrfTokenAsync(HttpClient client)
    {
        var token = (await client.GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString()!;
        client.DefaultRequestHeaders.Add("X-CSRF-Token", token);
        return token;
    }

    public static HttpRequestMessage Json(HttpMethod method, string path, object? body, string? token = null, string? clientIp = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (clientIp is not null)
            request.Headers.Add(TestClientIpHeader, clientIp);
        return request;
    }

    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(TestClientIpHeader, out var value) && IPAddress.TryParse(value, out var address))
                    context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
