using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Serverless.Platform.Storage;
using Serverless.Print.Admin.Users;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>
/// Searching users by a prefix of username, email or phone, and the index following the profile: a changed identifier
/// moves its row, a deleted account leaves the index, and the start-up backfill indexes users the index missed.
/// </summary>
public sealed class AdminUsersSearchTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task A_search_matches_a_prefix_of_username_email_or_phone()
    {
        var admin = await app.AdminAsync();
        var stem = app.Unique("zeta");
        var phone = AdminUsersClient.NewPhone();
        var first = await app.SignUpAsync(stem + "a", phone: phone);
        var second = await app.SignUpAsync(stem + "b", role: "shopkeeper");
        var other = await app.SignUpAsync();

        var byUsername = await admin.UsersAsync("search=" + stem.ToUpperInvariant());
        Assert.Equal(2, byUsername.Total());
        Assert.Equal([second.Id, first.Id], byUsername.Ids());
        Assert.Equal([second.Id], (await admin.UsersAsync($"search={stem}&role=shopkeeper")).Ids());
        Assert.Equal([first.Id], (await admin.UsersAsync($"search={stem}&limit=1&offset=1")).Ids());

        // The test emails are "{username}@example.test": a prefix with the '@' can only match an email.
        var byEmail = await admin.UsersAsync("search=" + Uri.EscapeDataString(first.Email[..^5].ToUpperInvariant()));
        Assert.Equal([first.Id], byEmail.Ids());
        Assert.Equal(first.Email, byEmail.GetProperty("users")[0].GetProperty("email").GetString());

        var byPhone = await admin.UsersAsync("search=" + phone[..7]);
        Assert.Equal([first.Id], byPhone.Ids());
        Assert.Equal([first.Id], (await admin.UsersAsync("search=" + Uri.EscapeDataString("+91" + phone[..8]))).Ids());

        Assert.Equal(0, (await admin.UsersAsync("search=" + stem + "c")).Total());
        Assert.DoesNotContain(other.Id, byUsername.Ids());
    }

    [Fact]
    public async Task A_profile_update_moves_the_index_rows_of_the_identifiers_it_changes()
    {
        var admin = await app.AdminAsync();
        var oldName = app.Unique("oldname");
        var oldPhone = AdminUsersClient.NewPhone();
        var user = await app.SignUpAsync(oldName, phone: oldPhone);
        Assert.Equal([user.Id], (await admin.UsersAsync("search=" + oldName)).Ids());

        var newName = app.Unique("newname");
        var newPhone = AdminUsersClient.NewPhone();
        var updated = await app.Bearer(user).PutAsJsonAsync("/profile", new { username = newName, phone = newPhone });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);

        // The email ("{old username}@example.test") did not change, so the old name still finds the user through it, once.
        var byOldName = await admin.UsersAsync("search=" + oldName);
        Assert.Equal([user.Id], byOldName.Ids());
        Assert.Equal(newName, byOldName.GetProperty("users")[0].GetProperty("username").GetString());
        Assert.DoesNotContain(IndexRowsOf(user.Id), r => r.PartitionKey.StartsWith(UserIndexKeys.Username, StringComparison.Ordinal) && r.RowKey.StartsWith(oldName, StringComparison.Ordinal));
        Assert.Equal(0, (await admin.UsersAsync("search=" + oldPhone)).Total());
        var found = await admin.UsersAsync("search=" + newName);
        Assert.Equal([user.Id], found.Ids());
        Assert.Equal(newName, found.GetProperty("users")[0].GetProperty("username").GetString());
        Assert.Equal([user.Id], (await admin.UsersAsync("search=" + newPhone)).Ids());
        // The email did not change: still found by it, once.
        Assert.Equal([user.Id], (await admin.UsersAsync("search=" + Uri.EscapeDataString(user.Email))).Ids());
        Assert.Equal(4, IndexRowsOf(user.Id).Count);
    }

    [Fact]
    public async Task A_deleted_account_leaves_the_index()
    {
        var admin = await app.AdminAsync();
        var name = app.Unique("leaving");
        var user = await app.SignUpAsync(name, phone: AdminUsersClient.NewPhone());
        Assert.Equal([user.Id], (await admin.UsersAsync("search=" + name)).Ids());

        var deleted = await app.Bearer(user).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = user.Password }));
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        Assert.Equal(0, (await admin.UsersAsync("search=" + name)).Total());
        Assert.DoesNotContain(user.Id, (await admin.UsersAsync("role=customer&limit=100")).Ids());
        Assert.Empty(IndexRowsOf(user.Id));
    }

    [Fact]
    public async Task The_backfill_indexes_users_the_index_does_not_have_once()
    {
        var admin = await app.AdminAsync();
        var name = app.Unique("before");
        var user = await app.SignUpAsync(name, role: "shopkeeper", phone: AdminUsersClient.NewPhone());
        // As if the user had registered before the index existed.
        await app.Get<PrintUserIndex>().RemoveAsync(user.Id, default);
        Assert.Equal(0, (await admin.UsersAsync("search=" + name)).Total());
        var backfill = app.Get<PrintUserIndexBackfill>();
        var table = app.Get<StorageAccount>().Table(UserIndexKeys.TableName);

        // Ran at start already: the marker keeps it from walking the profiles again.
        await backfill.RunAsync(app.Services, default);
        Assert.Equal(0, (await admin.UsersAsync("search=" + name)).Total());

        await table.DeleteEntityAsync(PrintUserIndexBackfill.MarkerPartition, PrintUserIndexBackfill.MarkerRow);
        Assert.Equal(1, await backfill.BackfillAsync());
        // Everyone is indexed now: a second walk indexes nobody.
        Assert.Equal(0, await backfill.BackfillAsync());
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>(PrintUserIndexBackfill.MarkerPartition, PrintUserIndexBackfill.MarkerRow)).HasValue);

        Assert.Equal([user.Id], (await admin.UsersAsync("search=" + name)).Ids());
        Assert.Contains(user.Id, (await admin.UsersAsync("role=shopkeeper&limit=100")).Ids());
        Assert.Equal(4, IndexRowsOf(user.Id).Count);
    }

    /// <summary>The listing and search rows of a user (the entry row aside).</summary>
    private List<UserIndexRow> IndexRowsOf(long userId) =>
        app.Get<StorageAccount>().Table(UserIndexKeys.TableName).Query<UserIndexRow>(r => r.UserId == userId)
            .Where(r => !r.PartitionKey.StartsWith("entry-", StringComparison.Ordinal)).ToList();
}
