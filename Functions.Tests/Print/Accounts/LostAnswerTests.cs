using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Print.Accounts;

/// <summary>
/// Storage stored a sign-up's transaction but its answer was lost: the client library retries the transaction,
/// which meets the account's own rows. The sign-up must still succeed, once.
/// </summary>
public sealed class LostAnswerTests(LostAnswerTests.Factory app) : IClassFixture<LostAnswerTests.Factory>
{
    public sealed class Factory : PrintFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    [Fact]
    public async Task A_sign_up_whose_transaction_was_stored_but_not_answered_succeeds_once()
    {
        var client = app.SkipOtp().CreateClient();
        var username = app.Unique("lost");
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await client.PostAsJsonAsync("/register", new
        {
            full_name = "Lost Answer", username, email = username + "@example.test", password = "securepassword",
        });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var login = await app.CreateClient().PostAsJsonAsync("/login", new { username, password = "securepassword" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var profile = await app.WithToken((await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!)
            .GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal(id, profile.GetProperty("id").GetInt64());
        Assert.Matches("^[A-Z2-9]{8}$", profile.GetProperty("referral_code").GetString());
    }
}

public sealed class LostResetAnswerTests(LostAnswerTests.Factory app) : IClassFixture<LostAnswerTests.Factory>
{
    [Fact]
    public async Task A_reset_whose_transaction_was_stored_but_not_answered_succeeds()
    {
        var customer = await app.SignUpAsync();
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var mail = await app.Get<Serverless.Platform.Email.Outbox>().LatestAsync(customer.Email);
        var token = Uri.UnescapeDataString(System.Text.RegularExpressions.Regex.Match(mail!.Text!, @"token=(\S+)").Groups[1].Value);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "after-lost-answer" });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = "after-lost-answer" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "second-use-password" })).StatusCode);
    }
}

public sealed class LostDeleteAnswerTests(LostAnswerTests.Factory app) : IClassFixture<LostAnswerTests.Factory>
{
    [Fact]
    public async Task A_deletion_whose_transaction_was_stored_but_not_answered_succeeds()
    {
        var customer = await app.SignUpAsync();
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await app.Bearer(customer).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = customer.Password }));

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
    }
}

public sealed class LostInviteAnswerTests(LostAnswerTests.Factory app) : IClassFixture<LostAnswerTests.Factory>
{
    [Fact]
    public async Task An_invite_whose_budget_write_was_stored_but_not_answered_takes_one_invite_from_the_budget()
    {
        var referrer = await app.SignUpAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(referrer).PostAsJsonAsync("/referral/invite", new { email = app.Unique("first") + "@example.test" })).StatusCode);
        var lost = app.Proxy!.Lost;
        // The budget row exists now, so the second invite replaces it (a PUT on its keys).
        app.Proxy!.LoseAnswerTo(r => r.Method == "PUT" && Uri.UnescapeDataString(r.Path.Value!).Contains(Serverless.Print.Accounts.AccountKeys.Invites));

        var response = await app.Bearer(referrer).PostAsJsonAsync("/referral/invite", new { email = app.Unique("second") + "@example.test" });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var budget = await app.Get<Serverless.Platform.Storage.StorageAccount>().Table(Serverless.Platform.Identity.UserDirectory.TableName)
            .GetEntityAsync<Serverless.Print.Accounts.InviteWindowRow>(Serverless.Print.Accounts.AccountKeys.Partition(referrer.Id),
                Serverless.Print.Accounts.AccountKeys.Invites);
        Assert.Equal(2, budget.Value.Count);
    }
}
