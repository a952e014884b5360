using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Admin.Users;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>POST /admin/users/delete: self-deletion's cleanup for any non-admin account, and the forced refund of a wallet.</summary>
public sealed class AdminDeleteUserTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private Ledger Ledger => app.Get<PrintWallets>().Ledger;

    private async Task<bool> ExistsAsync(long userId) => await app.Get<PrintAccounts>().FindAsync(userId) is not null;

    [Fact]
    public async Task A_user_with_an_empty_wallet_is_deleted_with_everything_it_owns()
    {
        var admin = await app.AdminAsync();
        var user = await app.SignUpAsync(role: "shopkeeper");

        var response = await admin.DeleteUserAsync(user.Id);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("User deleted successfully", body.GetProperty("message").GetString());
        Assert.Equal(user.Id, body.GetProperty("user_id").GetInt64());
        Assert.Equal(0m, body.GetProperty("refunded_amount").GetDecimal());
        Assert.False(await ExistsAsync(user.Id));
        Assert.Empty(app.Get<StorageAccount>().Table(UserDirectory.TableName).Query<TableEntity>($"PartitionKey eq '{UserDirectory.PartitionOf(user.Id)}'"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(user).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = user.Username, password = user.Password })).StatusCode);
        Assert.Equal(0, (await admin.UsersAsync("search=" + user.Username)).Total());
        // The username is free again.
        await app.SignUpAsync(user.Username, role: "shopkeeper");
    }

    [Fact]
    public async Task A_wallet_with_money_refuses_the_deletion_without_force_refund()
    {
        var admin = await app.AdminAsync();
        var user = await app.SignUpAsync();
        await Ledger.CreditAsync(PrintWallets.Account(user.Id), WalletKeys.Topup + "t1", 12_550);

        var response = await admin.DeleteUserAsync(user.Id);
        var refusedToo = await admin.DeleteUserAsync(user.Id, forceRefund: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(WalletDeletionCheck.Code, body.GetProperty("code").GetString());
        Assert.Equal("The user's wallet still holds ₹125.5. Send \"force_refund\": true to move it to the forced refunds owed account and delete the user.",
            body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, refusedToo.StatusCode);
        Assert.True(await ExistsAsync(user.Id));
        Assert.Equal(12_550, (await app.Get<PrintWallets>().BalanceAsync(user.Id)).Available);
    }

    [Fact]
    public async Task Force_refund_moves_the_balance_to_the_owed_account_once_and_deletes_the_user()
    {
        var admin = await app.AdminAsync();
        var user = await app.SignUpAsync();
        await Ledger.CreditAsync(PrintWallets.Account(user.Id), WalletKeys.Topup + "t1", 12_550);
        var owedBefore = (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available;

        var response = await admin.DeleteUserAsync(user.Id, forceRefund: true);
        var again = await admin.DeleteUserAsync(user.Id, forceRefund: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(125.5m, body.GetProperty("refunded_amount").GetDecimal());
        Assert.Equal(user.Id, body.GetProperty("user_id").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.False(await ExistsAsync(user.Id));
        Assert.Equal(owedBefore + 12_550, (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available);
        var movement = await Ledger.FindMovementAsync(ForcedRefunds.Owed, ForcedRefunds.Key(user.Id));
        Assert.Equal(12_550, movement!.Amount);
        Assert.Contains($"user {user.Id}", movement.Memo);
        var owed = await app.Get<StorageAccount>().Table(ForcedRefunds.TableName)
            .GetEntityAsync<ForcedRefundRow>(ForcedRefunds.OwedPartition, ForcedRefunds.OwedRow(user.Id));
        Assert.Equal(12_550, owed.Value.AmountMinor);
        Assert.Equal(user.Email, owed.Value.Email);
        Assert.Equal(user.Username, owed.Value.Username);
    }

    [Fact]
    public async Task A_forced_refund_repeated_before_the_deletion_moves_the_money_once()
    {
        var user = await app.SignUpAsync();
        var wallet = PrintWallets.Account(user.Id);
        await Ledger.CreditAsync(wallet, WalletKeys.Topup + "t1", 5_000);
        var (account, profile) = (await app.Get<PrintAccounts>().FindAsync(user.Id))!.Value;
        var refunds = app.Get<ForcedRefunds>();
        var owedBefore = (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available;

        var first = await refunds.MoveToOwedAsync(account, profile);
        // Money that reaches the wallet afterwards is not part of this refund: the key has been used.
        await Ledger.CreditAsync(wallet, WalletKeys.Topup + "t2", 700);
        var second = await refunds.MoveToOwedAsync(account, profile);

        Assert.Equal(5_000, first);
        Assert.Equal(5_000, second);
        Assert.Equal(owedBefore + 5_000, (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available);
        Assert.Equal(700, (await Ledger.BalanceAsync(wallet)).Available);
        // The admin endpoint then refuses, as the wallet holds money again, rather than move it under a used key.
        var refused = await (await app.AdminAsync()).DeleteUserAsync(user.Id, forceRefund: true);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(WalletDeletionCheck.Code, await refused.CodeAsync());
        Assert.True(await ExistsAsync(user.Id));
        Assert.Equal(owedBefore + 5_000, (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available);
    }

    [Fact]
    public async Task Held_money_refuses_even_a_forced_refund()
    {
        var user = await app.SignUpAsync();
        var wallet = PrintWallets.Account(user.Id);
        await Ledger.CreditAsync(wallet, WalletKeys.Topup + "t1", 10_000);
        await Ledger.HoldAsync(wallet, WalletKeys.Payment + "o1", 4_000);
        var owedBefore = (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available;

        var response = await (await app.AdminAsync()).DeleteUserAsync(user.Id, forceRefund: true);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(WalletDeletionCheck.Code, body.GetProperty("code").GetString());
        Assert.Equal("The user's wallet holds ₹40 for payments in progress (and ₹60 available): it cannot be deleted until they finish.",
            body.GetProperty("error").GetString());
        Assert.True(await ExistsAsync(user.Id));
        Assert.Equal(6_000, (await Ledger.BalanceAsync(wallet)).Available);
        Assert.Equal(owedBefore, (await Ledger.BalanceAsync(ForcedRefunds.Owed)).Available);
    }

    [Fact]
    public async Task Admin_accounts_and_the_caller_s_own_account_are_refused()
    {
        var admin = await app.AdminAsync();
        var otherAdmin = await app.Get<UserDirectory>().CreateAsync(
            new NewUser(app.Unique("admin"), app.Unique("admin") + "@example.test", null, "admin-password-1", [Roles.Admin]));
        var self = await admin.GetFromJsonAsync<JsonElement>("/profile");

        var adminTarget = await admin.DeleteUserAsync(otherAdmin.User!.Id);
        var selfTarget = await admin.DeleteUserAsync(self.GetProperty("id").GetInt64());

        Assert.Equal(HttpStatusCode.Forbidden, adminTarget.StatusCode);
        var body = await adminTarget.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("forbidden", body.GetProperty("code").GetString());
        Assert.Equal("Admin accounts cannot be deleted through this endpoint.", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, selfTarget.StatusCode);
        Assert.Equal("cannot_delete_self", await selfTarget.CodeAsync());
        Assert.NotNull(await app.Get<UserDirectory>().FindByIdAsync(otherAdmin.User.Id));
    }

    [Fact]
    public async Task Unknown_missing_and_invalid_user_ids_are_refused()
    {
        var admin = await app.AdminAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteUserAsync(987654321)).StatusCode);
        var missing = await admin.PostAsJsonAsync("/admin/users/delete", new { force_refund = true });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("validation_error", await missing.CodeAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.DeleteUserAsync(-1)).StatusCode);
        var text = await admin.PostAsync("/admin/users/delete", new StringContent("""{"user_id":"x"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
    }
}
