using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Email;

namespace Serverless.Tests.Print.Accounts;

public sealed class SignUpTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Signing_up_with_the_emailed_code_creates_a_customer_who_can_read_their_profile()
    {
        var client = app.CreateClient();
        var email = app.Unique("new") + "@example.test";
        var sent = await client.PostAsJsonAsync("/register/send-otp", new { email });
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var mail = await app.Get<Outbox>().LatestAsync(email);
        Assert.NotNull(mail);
        Assert.Matches(@"\b\d{6}\b", mail!.Text);

        var verified = await client.PostAsJsonAsync("/register/verify-otp", new { email, code = await app.LatestCodeAsync(email) });
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var verifiedBody = await verified.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(email, verifiedBody.GetProperty("email").GetString());
        var signupToken = verifiedBody.GetProperty("signup_token").GetString();
        Assert.StartsWith("eyJ", signupToken);

        var username = app.Unique("john");
        var registered = await client.PostAsJsonAsync("/register", new
        {
            full_name = "John Doe", username, email, phone = "+919876500001", password = "securepassword", role = "customer",
            signup_token = signupToken,
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var body = await registered.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("customer", body.GetProperty("role").GetString());
        Assert.Equal(username, body.GetProperty("username").GetString());

        var profile = await app.WithToken(body.GetProperty("token").GetString()!).GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal(body.GetProperty("id").GetInt64(), profile.GetProperty("id").GetInt64());
        Assert.Equal(username, profile.GetProperty("username").GetString());
        Assert.Equal("John Doe", profile.GetProperty("full_name").GetString());
        Assert.Equal(email, profile.GetProperty("email").GetString());
        Assert.Equal("+919876500001", profile.GetProperty("phone").GetString());
        Assert.Equal("customer", profile.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("shop_name").ValueKind);
        Assert.False(profile.GetProperty("is_open").GetBoolean());
        var code = profile.GetProperty("referral_code").GetString()!;
        Assert.Matches("^[A-Z2-9]{8}$", code);
        Assert.Equal($"{PrintFactory.WebUrl}/r/{code}", profile.GetProperty("referral_link").GetString());
    }
}
