using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Identity;

namespace Serverless.Tests.Print.Accounts;

public sealed class ProfileTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Changing_the_username_frees_the_old_one_and_signs_in_with_the_new_one()
    {
        var customer = await app.SignUpAsync();
        var renamed = app.Unique("renamed");
        var response = await app.Bearer(customer).PutAsJsonAsync("/profile", new { username = renamed, address = "456 New St", full_name = "New Name" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(renamed, body.GetProperty("username").GetString());
        Assert.Equal("456 New St", body.GetProperty("address").GetString());
        Assert.Equal("New Name", body.GetProperty("full_name").GetString());
        Assert.False(body.TryGetProperty("token", out _));

        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsJsonAsync("/login", new { username = renamed, password = customer.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password })).StatusCode);
        // The old name is free for someone else.
        var taken = await app.SkipOtp().CreateClient().PostAsJsonAsync("/register", new
        {
            full_name = "Next", username = customer.Username, email = app.Unique("next") + "@example.test", password = "securepassword",
        });
        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
    }

    [Fact]
    public async Task Taking_a_username_or_number_in_use_is_the_documented_plain_text_400()
    {
        var phone = "96" + Random.Shared.Next(10_000_000, 99_999_999);
        var first = await app.SignUpAsync(phone: phone);
        var second = await app.SignUpAsync();
        var response = await app.Bearer(second).PutAsJsonAsync("/profile", new { username = first.Username, phone = "+91" + phone });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("This username and mobile number are already in use.", await response.Content.ReadAsStringAsync());
        var profile = await app.Bearer(second).GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal(second.Username, profile.GetProperty("username").GetString());
    }

    [Fact]
    public async Task The_email_cannot_be_changed_but_sending_the_same_one_is_fine()
    {
        var customer = await app.SignUpAsync();
        var changed = await app.Bearer(customer).PutAsJsonAsync("/profile", new { email = "other@example.test" });
        Assert.Equal(HttpStatusCode.BadRequest, changed.StatusCode);
        Assert.Equal("email_immutable", (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).PutAsJsonAsync("/profile", new { email = customer.Email })).StatusCode);
    }

    [Fact]
    public async Task Only_shopkeepers_have_shop_details()
    {
        var customer = await app.SignUpAsync();
        var refused = await app.Bearer(customer).PutAsJsonAsync("/profile", new { shop_name = "Mine" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("Only shopkeepers have shop details (shop_name, lat, long).", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        var shop = await app.SignUpAsync(role: "shopkeeper");
        var moved = await app.Bearer(shop).PutAsJsonAsync("/profile", new { shop_name = "Moved Shop", lat = 13.0, @long = 77.6 });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var body = await moved.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Moved Shop", body.GetProperty("shop_name").GetString());
        Assert.Equal(13.0, body.GetProperty("lat").GetDouble());
        var bad = await app.Bearer(shop).PutAsJsonAsync("/profile", new { lat = 100.0 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Theory]
    [InlineData("""{"username":"x"}""", "'username' must be 3 to 30 characters")]
    [InlineData("""{"password":"short"}""", "'password' must be 8 to 128 characters.")]
    [InlineData("""{"full_name":""}""", "'full_name' is required.")]
    [InlineData("""{"phone":"abc"}""", "'phone' must be a mobile number")]
    [InlineData("""{"lat":"north"}""", "Field 'lat' must be a number.")]
    [InlineData("""not json""", "The request body is not valid JSON")]
    public async Task A_bad_profile_change_is_a_400_naming_the_field(string json, string message)
    {
        var customer = await app.SignUpAsync();
        var response = await app.Bearer(customer).PutAsync("/profile", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_new_password_ends_other_sessions_and_hands_back_a_fresh_token()
    {
        var customer = await app.SignUpAsync();
        var otherDevice = app.Bearer(customer);
        var response = await app.Bearer(customer).PutAsJsonAsync("/profile", new { password = "changed-password", current_password = customer.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherDevice.GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.WithToken(token).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = "changed-password" })).StatusCode);
    }

    [Fact]
    public async Task Deleting_the_account_needs_the_password_and_removes_everything_it_owns()
    {
        var referrer = await app.SignUpAsync();
        var referrerCode = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        var customer = await app.SignUpAsync(referralCode: referrerCode);
        var ownCode = (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        await app.SignUpAsync(referralCode: ownCode);

        var wrong = await app.Bearer(customer).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = "wrong-password" }));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("The password is incorrect.", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        var deleted = await app.Bearer(customer).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = customer.Password }));
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("Account deleted successfully", (await deleted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        Assert.Contains(deleted.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=;", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password })).StatusCode);
        // Nothing is left in the account's partition, its claims are released, and its pending referral left the referrer's history.
        var users = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(UserDirectory.TableName);
        var left = users.Query<Azure.Data.Tables.TableEntity>($"PartitionKey eq '{UserDirectory.PartitionOf(customer.Id)}'").ToList();
        Assert.Empty(left);
        Assert.False((await users.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("refcode-" + ownCode, "")).HasValue);
        Assert.False((await users.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(UserDirectory.EmailKey(customer.Email), "")).HasValue);
        var summary = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/summary");
        Assert.Equal(0, summary.GetProperty("total_referred").GetInt32());
        // The referral code no longer works, and the identifiers are free again.
        var client = app.SkipOtp().CreateClient();
        var reuse = await client.PostAsJsonAsync("/register", new
        {
            full_name = "Again", username = customer.Username, email = customer.Email, password = "securepassword", referral_code = ownCode,
        });
        Assert.Equal(HttpStatusCode.BadRequest, reuse.StatusCode);
        Assert.Equal("invalid_referral_code", (await reuse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var again = await client.PostAsJsonAsync("/register", new { full_name = "Again", username = customer.Username, email = customer.Email, password = "securepassword" });
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task An_admin_cannot_delete_themselves_here()
    {
        var admin = app.WithToken(await app.AdminTokenAsync());
        var response = await admin.SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = PrintFactory.AdminPassword }));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Admin accounts cannot be deleted through this endpoint.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/profile")).StatusCode);
    }

    [Fact]
    public async Task Deleting_without_a_body_is_a_400()
    {
        var customer = await app.SignUpAsync();
        var response = await app.Bearer(customer).DeleteAsync("/profile");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
    }
}

public sealed class ProfileCostTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Reading_the_profile_costs_one_storage_read()
    {
        var customer = await app.SignUpAsync();
        var response = await app.Bearer(customer).GetAsync("/profile");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The session check reads the profile row, which holds everything the answer needs.
        Assert.Equal("1", response.Headers.GetValues("X-Storage-Requests").Single());
    }

    [Fact]
    public async Task A_profile_row_without_copies_of_the_identifiers_is_completed_from_the_account()
    {
        var customer = await app.SignUpAsync(phone: "+91 9123456780");
        var users = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(UserDirectory.TableName);
        var row = (await users.GetEntityAsync<Azure.Data.Tables.TableEntity>(UserDirectory.PartitionOf(customer.Id), "print-profile")).Value;
        row.Remove("Username");
        row.Remove("Email");
        row.Remove("Phone");
        await users.UpdateEntityAsync(row, row.ETag, Azure.Data.Tables.TableUpdateMode.Replace);

        var response = await app.Bearer(customer).GetAsync("/profile");
        var profile = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(customer.Username, profile.GetProperty("username").GetString());
        Assert.Equal(customer.Email, profile.GetProperty("email").GetString());
        Assert.Equal("+91 9123456780", profile.GetProperty("phone").GetString());
        Assert.Equal("2", response.Headers.GetValues("X-Storage-Requests").Single());
    }
}

public sealed class RegistrationRaceTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Of_several_sign_ups_racing_for_one_username_exactly_one_gets_it()
    {
        var username = app.Unique("race");
        var client = app.SkipOtp().CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.PostAsJsonAsync("/register", new
        {
            full_name = "Racer " + i, username, email = $"{username}-{i}@example.test", password = "securepassword",
        })));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var loser in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            Assert.Equal(HttpStatusCode.BadRequest, loser.StatusCode);
            Assert.Equal("This username is already in use.", await loser.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Signing_in_costs_three_storage_reads()
    {
        var customer = await app.SignUpAsync();
        var response = await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The identifier's claim, the account, the profile (each in its own partition).
        Assert.Equal("3", response.Headers.GetValues("X-Storage-Requests").Single());
    }
}
