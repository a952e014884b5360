using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Email;
using Serverless.Print.Accounts;

namespace Serverless.Tests.Print.Accounts;

public sealed class ReferralTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private async Task<string> CodeOf(PrintAccount customer) =>
        (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString()!;

    [Fact]
    public async Task Signing_up_with_a_referral_code_adds_a_pending_referral_to_the_referrers_history()
    {
        var referrer = await app.SignUpAsync();
        var code = await CodeOf(referrer);
        var empty = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/summary");
        Assert.Equal("""{"total_referred":0,"total_credited":0,"total_earnings":0,"pending_count":0}""", empty.GetRawText());

        var friend = await app.SignUpAsync(referralCode: code.ToLowerInvariant());
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await app.SignUpAsync(referralCode: code);

        var summary = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/summary");
        Assert.Equal(2, summary.GetProperty("total_referred").GetInt32());
        Assert.Equal(0, summary.GetProperty("total_credited").GetInt32());
        Assert.Equal(0, summary.GetProperty("total_earnings").GetDecimal());
        Assert.Equal(2, summary.GetProperty("pending_count").GetInt32());

        var history = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/history");
        var rows = history.GetProperty("referrals").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal("pending", r.GetProperty("status").GetString());
            Assert.Equal(50, r.GetProperty("amount").GetDecimal());
            Assert.Equal(JsonValueKind.Null, r.GetProperty("credited_at").ValueKind);
        });
        Assert.True(string.CompareOrdinal(rows[0].GetProperty("created_at").GetString(), rows[1].GetProperty("created_at").GetString()) > 0, "newest first");

        var paged = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/history?limit=1&offset=1");
        Assert.Equal(rows[1].GetProperty("id").GetInt64(), Assert.Single(paged.GetProperty("referrals").EnumerateArray()).GetProperty("id").GetInt64());

        // The hook the wallet credits through finds the friend's pending referral.
        var profile = await app.Get<PrintAccounts>().FindProfileAsync(friend.Id);
        var pending = await app.Get<Referrals>().PendingReferralOfAsync(profile!);
        Assert.Equal(referrer.Id, pending!.ReferrerId);
        Assert.Equal(friend.Id, pending.RefereeId);
        // The friends themselves have nobody in their own history.
        Assert.Equal(0, (await app.Bearer(friend).GetFromJsonAsync<JsonElement>("/referral/summary")).GetProperty("total_referred").GetInt32());
    }

    [Theory]
    [InlineData("ZZZZZZZZ")]
    [InlineData("short")]
    [InlineData("not a code at all")]
    public async Task An_unknown_referral_code_is_refused_and_nobody_is_registered(string code)
    {
        var client = app.SkipOtp().CreateClient();
        var username = app.Unique("refd");
        var response = await client.PostAsJsonAsync("/register", new
        {
            full_name = "R", username, email = username + "@example.test", password = "securepassword", referral_code = code,
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"Referral code '{code}' is not valid.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await client.PostAsJsonAsync("/login", new { username, password = "securepassword" })).StatusCode);
    }

    [Fact]
    public async Task A_referral_code_is_for_customer_sign_ups_only()
    {
        var referrer = await app.SignUpAsync();
        var username = app.Unique("shopref");
        var response = await app.SkipOtp().CreateClient().PostAsJsonAsync("/register", new
        {
            full_name = "S", username, email = username + "@example.test", password = "securepassword", role = "shopkeeper",
            shop_name = "S", lat = 1.0, @long = 1.0, referral_code = await CodeOf(referrer),
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'referral_code' applies to customer sign-ups only.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_invite_emails_the_friend_the_referral_link()
    {
        var referrer = await app.SignUpAsync();
        var code = await CodeOf(referrer);
        var friend = app.Unique("friend") + "@example.test";
        var response = await app.Bearer(referrer).PostAsJsonAsync("/referral/invite", new { email = friend });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"ok":true,"message":"Invite sent."}""", await response.Content.ReadAsStringAsync());
        var mail = await app.Get<Outbox>().LatestAsync(friend);
        Assert.Contains($"{PrintFactory.WebUrl}/r/{code}", mail!.Text);
        Assert.Contains("Test " + referrer.Username, mail.Subject);
    }

    private static HttpRequestMessage Invite(string friend, string idempotencyKey) => new(HttpMethod.Post, "/referral/invite")
    {
        Content = JsonContent.Create(new { email = friend }),
        Headers = { { "Idempotency-Key", idempotencyKey } },
    };

    [Fact]
    public async Task An_invite_refused_because_the_session_ended_is_not_replayed_to_the_signed_in_retry()
    {
        var referrer = await app.SignUpAsync();
        var old = app.Bearer(referrer);
        var changed = await old.SendAsync(PrintFactory.Json(HttpMethod.Put, "/profile", new { password = "new-password-123", current_password = referrer.Password }));
        var fresh = app.WithToken((await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!);
        var friend = app.Unique("friend") + "@example.test";

        var refused = await old.SendAsync(Invite(friend, "invite-after-sign-in"));
        var sent = await fresh.SendAsync(Invite(friend, "invite-after-sign-in"));
        var replayed = await fresh.SendAsync(Invite(friend, "invite-after-sign-in"));
        var staleAfter = await old.SendAsync(Invite(friend, "invite-after-sign-in"));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.False(sent.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("""{"ok":true,"message":"Invite sent."}""", await sent.Content.ReadAsStringAsync());
        Assert.NotNull(await app.Get<Outbox>().LatestAsync(friend));
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        // The ended session is refused before the key is looked at: it is not handed the stored answer either.
        Assert.Equal(HttpStatusCode.Unauthorized, staleAfter.StatusCode);
        Assert.Equal("session_ended", (await staleAfter.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_invite_refused_for_a_missing_csrf_token_is_not_replayed_once_the_token_is_sent()
    {
        var referrer = await app.SignUpAsync();
        var browser = await app.CookieClientAsync(referrer.Username, referrer.Password);
        var friend = app.Unique("friend") + "@example.test";

        var refused = await browser.SendAsync(Invite(friend, "invite-with-csrf"));
        await PrintFactory.AddCsrfTokenAsync(browser);
        var sent = await browser.SendAsync(Invite(friend, "invite-with-csrf"));
        browser.DefaultRequestHeaders.Remove("X-CSRF-Token");
        var forged = await browser.SendAsync(Invite(friend, "invite-with-csrf"));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.False(sent.Headers.Contains("Idempotent-Replayed"));
        Assert.NotNull(await app.Get<Outbox>().LatestAsync(friend));
        // A request without the token is refused before the key is looked at, even once the key has an answer.
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.False(forged.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task An_invite_needs_a_friends_valid_email()
    {
        var referrer = await app.SignUpAsync();
        var bad = await app.Bearer(referrer).PostAsJsonAsync("/referral/invite", new { email = "friend" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("'email' must be a valid email address.", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        var self = await app.Bearer(referrer).PostAsJsonAsync("/referral/invite", new { email = referrer.Email });
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
    }

    [Theory]
    [InlineData("limit=0", "'limit' must be between 1 and 100.")]
    [InlineData("limit=101", "'limit' must be between 1 and 100.")]
    [InlineData("offset=-1", "'offset' must be between 0 and 10000.")]
    [InlineData("limit=ten", "Invalid value for 'limit': \"ten\" is not a whole number.")]
    public async Task History_paging_is_checked(string query, string message)
    {
        var referrer = await app.SignUpAsync();
        var response = await app.Bearer(referrer).GetAsync("/referral/history?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}
