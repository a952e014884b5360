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

    [Fact]
    public async Task A_shopkeeper_signs_up_with_the_shop_details_and_has_no_referral_code()
    {
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var profile = await app.Bearer(shop).GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal("shopkeeper", profile.GetProperty("role").GetString());
        Assert.Equal("Shop of " + shop.Username, profile.GetProperty("shop_name").GetString());
        Assert.Equal(12.9716, profile.GetProperty("lat").GetDouble());
        Assert.Equal(77.5946, profile.GetProperty("long").GetDouble());
        Assert.Equal("1 Main St", profile.GetProperty("address").GetString());
        Assert.True(profile.GetProperty("is_open").GetBoolean());
        Assert.False(profile.TryGetProperty("referral_code", out _));
        Assert.False(profile.TryGetProperty("referral_link", out _));
    }

    [Fact]
    public async Task Sending_a_code_to_a_registered_email_is_refused()
    {
        var customer = await app.SignUpAsync();
        var response = await app.CreateClient().PostAsJsonAsync("/register/send-otp", new { email = customer.Email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("email_registered", body.GetProperty("code").GetString());
        Assert.Contains("already registered", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("""{"email":"not-an-email"}""", "'email' must be a valid email address.")]
    [InlineData("""{"email":""}""", "'email' is required.")]
    [InlineData("""{}""", "Missing required field(s): 'email'.")]
    [InlineData("""{"email":42}""", "Field 'email' must be a string.")]
    [InlineData("""{"email":""", "The request body is not valid JSON")]
    public async Task A_bad_send_otp_body_is_a_400_naming_the_problem(string json, string message)
    {
        var response = await app.CreateClient().PostAsync("/register/send-otp", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_wrong_code_is_refused_and_five_wrong_codes_lock_the_code_even_for_the_right_one()
    {
        var client = app.CreateClient();
        var email = app.Unique("lock") + "@example.test";
        await client.PostAsJsonAsync("/register/send-otp", new { email });
        var code = await app.LatestCodeAsync(email);
        var wrong = code == "000000" ? "111111" : "000000";
        for (var i = 1; i <= 4; i++)
        {
            var response = await client.PostAsJsonAsync("/register/verify-otp", new { email, code = wrong });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("invalid_code", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        var fifth = await client.PostAsJsonAsync("/register/verify-otp", new { email, code = wrong });
        Assert.Equal("code_locked", (await fifth.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var right = await client.PostAsJsonAsync("/register/verify-otp", new { email, code });
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Equal("code_locked", (await right.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        // A new code starts a new budget.
        app.Time.Advance(TimeSpan.FromSeconds(1));
        await client.PostAsJsonAsync("/register/send-otp", new { email });
        var again = await client.PostAsJsonAsync("/register/verify-otp", new { email, code = await app.LatestCodeAsync(email) });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_code_expires_after_ten_minutes_and_works_only_once()
    {
        var client = app.CreateClient();
        var email = app.Unique("exp") + "@example.test";
        await client.PostAsJsonAsync("/register/send-otp", new { email });
        var code = await app.LatestCodeAsync(email);
        app.Time.Advance(TimeSpan.FromMinutes(10));
        var late = await client.PostAsJsonAsync("/register/verify-otp", new { email, code });
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Equal("invalid_code", (await late.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        await client.PostAsJsonAsync("/register/send-otp", new { email });
        code = await app.LatestCodeAsync(email);
        app.Time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/register/verify-otp", new { email, code })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/register/verify-otp", new { email, code })).StatusCode);
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("abcdef")]
    [InlineData("1234567")]
    public async Task A_code_that_is_not_six_digits_is_a_400(string code)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register/verify-otp", new { email = "x@example.test", code });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'code' must be the 6-digit code from the email.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Registering_needs_a_signup_token_for_the_same_email_that_has_not_expired()
    {
        var client = app.CreateClient();
        var email = app.Unique("tok") + "@example.test";
        object Body(string? token, string mail) => new
        {
            full_name = "T", username = app.Unique("tok"), email = mail, password = "securepassword", signup_token = token,
        };

        var missing = await client.PostAsJsonAsync("/register", Body(null, email));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("signup_token_required", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var forged = await client.PostAsJsonAsync("/register", Body("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", email));
        Assert.Equal("signup_token_invalid", (await forged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var token = await app.SignupTokenAsync(client, email);
        var other = await client.PostAsJsonAsync("/register", Body(token, app.Unique("other") + "@example.test"));
        Assert.Equal(HttpStatusCode.BadRequest, other.StatusCode);
        Assert.Contains("different email", (await other.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        // A sign-up token is not a session: it opens nothing else.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithToken(token).GetAsync("/profile")).StatusCode);

        app.Time.Advance(TimeSpan.FromMinutes(31));
        var expired = await client.PostAsJsonAsync("/register", Body(token, email));
        Assert.Equal("signup_token_invalid", (await expired.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        token = await app.SignupTokenAsync(client, email);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/register", Body(token, email))).StatusCode);
    }

    public static TheoryData<string[], string> Duplicates => new()
    {
        { ["username"], "This username is already in use." },
        { ["email"], "This email is already in use." },
        { ["phone"], "This mobile number is already in use." },
        { ["username", "email"], "This username and email are already in use." },
        { ["username", "phone"], "This username and mobile number are already in use." },
        { ["email", "phone"], "This email and mobile number are already in use." },
        { ["username", "email", "phone"], "This username, email and mobile number are already in use." },
    };

    [Theory]
    [MemberData(nameof(Duplicates))]
    public async Task Identifiers_in_use_get_the_documented_plain_text_400(string[] taken, string message)
    {
        var phone = "+91 98" + Random.Shared.Next(10_000_000, 99_999_999);
        var existing = await app.SignUpAsync(phone: phone);
        var fresh = app.Unique("dup");
        var email = taken.Contains("email") ? existing.Email : fresh + "@example.test";
        var client = app.CreateClient();
        // With the email taken no code can be sent to it, so this goes through the development bypass instead.
        var token = taken.Contains("email") ? null : await app.SignupTokenAsync(client, email);
        var factory = taken.Contains("email") ? app.SkipOtp() : null;
        var response = await (factory?.CreateClient() ?? client).PostAsJsonAsync("/register", new
        {
            full_name = "Dup",
            username = taken.Contains("username") ? existing.Username.ToUpperInvariant() : fresh,
            email,
            // The same number written another way: with a trunk zero instead of the country code.
            phone = taken.Contains("phone") ? "0" + phone[4..].Replace(" ", "") : "+1 555 010 " + Random.Shared.Next(1000, 9999),
            password = "securepassword",
            signup_token = token,
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(message, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("full_name", null, "Field 'full_name' must not be null.")]
    [InlineData("full_name", " ", "'full_name' is required.")]
    [InlineData("username", "ab", "'username' must be 3 to 30 characters")]
    [InlineData("username", "9starts-with-digit", "'username' must be 3 to 30 characters")]
    [InlineData("username", "has space", "'username' must be 3 to 30 characters")]
    [InlineData("phone", "12345", "'phone' must be a mobile number")]
    [InlineData("password", "short", "'password' must be 8 to 128 characters.")]
    [InlineData("role", "admin", "'role' must be customer or shopkeeper.")]
    [InlineData("address", "long", "'address' must be at most 300 characters.")]
    public async Task Invalid_registration_fields_are_named_in_the_400(string field, string? value, string message)
    {
        var body = new Dictionary<string, object?>
        {
            ["full_name"] = "Jane", ["username"] = app.Unique("jane"), ["email"] = app.Unique("jane") + "@example.test",
            ["password"] = "securepassword", ["signup_token"] = "unused",
        };
        body[field] = field == "address" ? new string('a', 301) : value;
        var response = await app.CreateClient().PostAsJsonAsync("/register", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData(null, 12.9, 77.5, "'shop_name' is required.")]
    [InlineData("Shop", null, 77.5, "'lat' is required for a shopkeeper")]
    [InlineData("Shop", 12.9, null, "'long' is required for a shopkeeper")]
    [InlineData("Shop", 91.0, 77.5, "'lat' must be between -90 and 90.")]
    [InlineData("Shop", 12.9, -181.0, "'long' must be between -180 and 180.")]
    public async Task A_shopkeeper_needs_a_shop_name_and_a_location(string? shopName, double? lat, double? lng, string message)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register", new
        {
            full_name = "Shop", username = app.Unique("shop"), email = app.Unique("shop") + "@example.test", password = "securepassword",
            role = "shopkeeper", shop_name = shopName, lat, @long = lng, signup_token = "unused",
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Registering_without_a_code_works_when_the_bypass_is_on_and_signs_the_user_in()
    {
        var client = app.SkipOtp().CreateClient();
        var username = app.Unique("skip");
        var response = await client.PostAsJsonAsync("/register", new
        {
            full_name = "Skip", username, email = username + "@example.test", password = "securepassword",
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=", StringComparison.Ordinal) && c.Contains("httponly"));
        // The cookie alone is a session.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/profile")).StatusCode);
    }
}
