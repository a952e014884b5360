using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Print.Accounts;

internal static class UserTable
{
    public static TableClient Table(PlatformFactory app) => app.Get<StorageAccount>().Table(UserDirectory.TableName);

    public static async Task<bool> ExistsAsync(PlatformFactory app, string partitionKey, string rowKey) =>
        (await Table(app).GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey)).HasValue;

    public static Task<HttpResponseMessage> RegisterAsync(PrintFactory app, string username, string email) =>
        app.SkipOtp().CreateClient().PostAsJsonAsync("/register", new { full_name = "Test " + username, username, email, password = "securepassword" });
}

public sealed class UserPartitionTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Two_accounts_keep_their_rows_in_partitions_of_their_own()
    {
        var first = await app.SignUpAsync();
        var second = await app.SignUpAsync();
        var users = UserTable.Table(app);

        Assert.NotEqual(UserDirectory.PartitionOf(first.Id), UserDirectory.PartitionOf(second.Id));
        foreach (var account in new[] { first, second })
        {
            var rows = users.Query<TableEntity>($"PartitionKey eq '{UserDirectory.PartitionOf(account.Id)}'").Select(r => r.RowKey).Order().ToList();
            Assert.Equal(["account", "print-profile"], rows);
            // The email is claimed in a partition of its own, naming its account.
            var claim = (await users.GetEntityAsync<TableEntity>(UserDirectory.EmailKey(account.Email), "")).Value;
            Assert.Equal(account.Id, claim.GetInt64("UserId"));
        }
        Assert.Empty(users.Query<TableEntity>("PartitionKey eq 'users'"));
    }

    [Fact]
    public async Task Of_parallel_sign_ups_with_one_email_exactly_one_is_created()
    {
        var email = app.Unique("same") + "@example.test";
        var usernames = Enumerable.Range(0, 8).Select(_ => app.Unique("racer")).ToList();

        var responses = await Task.WhenAll(usernames.Select(username => UserTable.RegisterAsync(app, username, email)));

        var winner = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var loser in responses.Where(r => r != winner))
        {
            Assert.Equal(HttpStatusCode.BadRequest, loser.StatusCode);
            Assert.Equal("This email is already in use.", await loser.Content.ReadAsStringAsync());
        }
        // The losers gave their usernames back.
        var loserName = usernames[Array.FindIndex(responses, r => r != winner)];
        Assert.Equal(HttpStatusCode.Created, (await UserTable.RegisterAsync(app, loserName, loserName + "@example.test")).StatusCode);
    }
}

/// <summary>Claims left behind by sign-ups that never finished. The clock moves here, so these tests have their own app.</summary>
public sealed class ClaimSweepTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private const long Ghost = 8_000_000_001;

    [Fact]
    public async Task A_claim_whose_sign_up_stopped_before_the_account_was_written_is_released_by_the_sweep()
    {
        var username = app.Unique("orphan");
        var email = username + "@example.test";
        var claimKey = UserDirectory.EmailKey(email);
        var now = app.Time.GetUtcNow();
        // What a sign-up that stopped right after claiming its email leaves: its intent and the claim, no account.
        var intent = new TableEntity("claims-pending-" + now.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture),
            Ghost.ToString("D19", CultureInfo.InvariantCulture) + "-crashed") { ["UserId"] = Ghost, ["Claims"] = claimKey, ["Provisional"] = "" };
        await UserTable.Table(app).AddEntityAsync(intent);
        await UserTable.Table(app).AddEntityAsync(new TableEntity(claimKey, "") { ["UserId"] = Ghost, ["ClaimedAt"] = now });

        var early = await UserTable.RegisterAsync(app, username, email);
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.Equal("This email is already in use.", await early.Content.ReadAsStringAsync());
        // While its sign-up may still be running, the sweep leaves the claim alone.
        await SweepAsync();
        Assert.True(await UserTable.ExistsAsync(app, claimKey, ""));

        app.Time.Advance(UserDirectory.ClaimGrace + TimeSpan.FromMinutes(1));
        await SweepAsync();

        Assert.False(await UserTable.ExistsAsync(app, claimKey, ""));
        Assert.False(await UserTable.ExistsAsync(app, intent.PartitionKey, intent.RowKey));
        var later = await UserTable.RegisterAsync(app, username, email);
        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        var login = await app.CreateClient().PostAsJsonAsync("/login", new { username = email, password = "securepassword" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_claim_of_a_user_who_never_appeared_stops_holding_the_username_once_stale()
    {
        var username = app.Unique("stale");
        await UserTable.Table(app).AddEntityAsync(new TableEntity(UserDirectory.UsernameKey(username), "") { ["UserId"] = Ghost, ["ClaimedAt"] = app.Time.GetUtcNow() });

        var early = await UserTable.RegisterAsync(app, username, username + "@example.test");
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.Equal("This username is already in use.", await early.Content.ReadAsStringAsync());

        app.Time.Advance(UserDirectory.ClaimGrace + TimeSpan.FromMinutes(1));

        var later = await UserTable.RegisterAsync(app, username, username + "@example.test");
        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        var id = (await later.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var claim = (await UserTable.Table(app).GetEntityAsync<TableEntity>(UserDirectory.UsernameKey(username), "")).Value;
        Assert.Equal(id, claim.GetInt64("UserId"));
    }

    private Task SweepAsync() => app.Get<TriggerInvoker>().InvokeAsync(app.Get<TriggerRegistry>().FindTimer(UserDirectory.SweepFunction)!,
        app.Time.GetUtcNow(), false, CancellationToken.None);
}

public sealed class LostClaimAnswerTests(LostAnswerTests.Factory app) : IClassFixture<LostAnswerTests.Factory>
{
    [Fact]
    public async Task A_sign_up_whose_email_claim_was_stored_but_not_answered_succeeds_once()
    {
        var username = app.Unique("lostclaim");
        var email = username + "@example.test";
        var claimKey = UserDirectory.EmailKey(email);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && LossyStorageProxy.BodyOf(r).Contains($"\"PartitionKey\":\"{claimKey}\"", StringComparison.Ordinal));

        var response = await UserTable.RegisterAsync(app, username, email);

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var login = await app.CreateClient().PostAsJsonAsync("/login", new { username = email, password = "securepassword" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var profile = await app.WithToken((await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!)
            .GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal(id, profile.GetProperty("id").GetInt64());
        var again = await UserTable.RegisterAsync(app, app.Unique("second"), email);
        Assert.Equal("This email is already in use.", await again.Content.ReadAsStringAsync());
    }
}

public sealed class UserPartitionMigrationTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task An_account_of_the_old_shared_partition_is_moved_at_start_up_and_keeps_working()
    {
        var users = UserTable.Table(app);
        var id = 7_000_000_000L + Random.Shared.Next(1_000_000);
        var key = id.ToString("D19", CultureInfo.InvariantCulture);
        var username = app.Unique("legacy");
        var email = username + "@example.test";
        var code = string.Concat(Enumerable.Range(0, 8).Select(_ => "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[Random.Shared.Next(32)]));
        var createdAt = app.Time.GetUtcNow().AddDays(-30);
        // The rows as the previous version wrote them: everything in partition 'users'.
        await users.AddEntityAsync(new TableEntity("users", "id-" + key)
        {
            ["Id"] = id, ["Username"] = username, ["Email"] = email, ["Phone"] = "+91 98765 00077",
            ["PasswordHash"] = Secrets.HashPassword("legacy-password"), ["Roles"] = "customer", ["CreatedAt"] = createdAt, ["Disabled"] = false,
        });
        foreach (var login in new[] { UserDirectory.UsernameKey(username), UserDirectory.EmailKey(email), "phone-9876500077", "refcode-" + code })
            await users.AddEntityAsync(new TableEntity("users", login) { ["UserId"] = id });
        await users.AddEntityAsync(new TableEntity("users", "print-" + key)
        {
            ["UserId"] = id, ["Role"] = "customer", ["FullName"] = "Legacy Customer", ["Username"] = username, ["Email"] = email,
            ["Phone"] = "+91 98765 00077", ["IsOpen"] = false, ["ReferralCode"] = code, ["SessionVersion"] = 0, ["CreatedAt"] = createdAt,
        });
        await users.AddEntityAsync(new TableEntity("users", $"print-{key}-referral-{(long.MaxValue - 5).ToString("D19", CultureInfo.InvariantCulture)}")
        {
            ["Id"] = 5L, ["ReferrerId"] = id, ["RefereeId"] = id + 1, ["Status"] = "pending", ["AmountMinor"] = 5000L, ["CreatedAt"] = createdAt,
        });
        // Before the upgrade there was no marker; two instances start at once.
        await users.DeleteEntityAsync(UserPartitionMigration.MarkerPartition, UserPartitionMigration.MarkerRow);
        var migration = app.Services.GetServices<IStartupTask>().OfType<UserPartitionMigration>().Single();

        await Task.WhenAll(migration.RunAsync(app.Services, CancellationToken.None), migration.RunAsync(app.Services, CancellationToken.None));

        var signIn = await app.CreateClient().PostAsJsonAsync("/login", new { username, password = "legacy-password" });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var customer = app.WithToken((await signIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!);
        var profile = await customer.GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal(id, profile.GetProperty("id").GetInt64());
        Assert.Equal("Legacy Customer", profile.GetProperty("full_name").GetString());
        Assert.Equal(email, profile.GetProperty("email").GetString());
        Assert.Equal(code, profile.GetProperty("referral_code").GetString());
        var history = (await customer.GetFromJsonAsync<JsonElement>("/referral/history")).GetProperty("referrals");
        var referral = Assert.Single(history.EnumerateArray());
        Assert.Equal(5, referral.GetProperty("id").GetInt64());
        Assert.Equal("pending", referral.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = "9876500077", password = "legacy-password" })).StatusCode);
        var taken = await UserTable.RegisterAsync(app, username, app.Unique("other") + "@example.test");
        Assert.Equal("This username is already in use.", await taken.Content.ReadAsStringAsync());
        // Its referral code still refers friends.
        var friend = await app.SkipOtp().CreateClient().PostAsJsonAsync("/register",
            new { full_name = "Friend", username = app.Unique("friend"), email = app.Unique("friend") + "@example.test", password = "securepassword", referral_code = code });
        Assert.Equal(HttpStatusCode.Created, friend.StatusCode);
        Assert.Equal(2, (await customer.GetFromJsonAsync<JsonElement>("/referral/summary")).GetProperty("total_referred").GetInt32());
        Assert.Empty(users.Query<TableEntity>("PartitionKey eq 'users'"));

        // Once done, a start-up costs one read.
        using var meter = StorageMeter.Begin();
        await migration.RunAsync(app.Services, CancellationToken.None);
        Assert.Equal(1, meter.Meter.Count);
    }
}
