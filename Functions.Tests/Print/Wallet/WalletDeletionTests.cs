using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Wallet;

/// <summary>Deleting an account whose wallet holds money is refused; an empty wallet goes with the account.</summary>
public sealed class WalletDeletionTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private PrintWallets Wallets => app.Get<PrintWallets>();

    private List<string> RowsOf(long userId) =>
        app.Get<StorageAccount>().Table(UserDirectory.TableName)
            .Query<TableEntity>($"PartitionKey eq '{UserDirectory.PartitionOf(userId)}'").Select(r => r.RowKey).ToList();

    private Task<HttpResponseMessage> DeleteAsync(PrintAccount account) =>
        app.Bearer(account).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = account.Password }));

    [Fact]
    public async Task An_account_whose_wallet_holds_money_is_not_deleted()
    {
        var customer = await app.SignUpAsync();
        await Wallets.Ledger.CreditAsync(PrintWallets.Account(customer.Id), WalletKeys.Topup + "t1", 12_550);
        var before = RowsOf(customer.Id);

        var refused = await DeleteAsync(customer);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(WalletDeletionCheck.Code, body.GetProperty("code").GetString());
        Assert.Equal("Your wallet still holds ₹125.5. Withdraw it to your bank account with POST /wallet/withdraw, then delete your account.",
            body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password })).StatusCode);
        Assert.Equal(before, RowsOf(customer.Id));
        Assert.Equal(12_550, (await Wallets.BalanceAsync(customer.Id)).Available);
    }

    [Fact]
    public async Task Money_held_for_a_payment_also_keeps_the_account()
    {
        var customer = await app.SignUpAsync();
        var account = PrintWallets.Account(customer.Id);
        await Wallets.Ledger.CreditAsync(account, WalletKeys.Topup + "t1", 10_000);
        await Wallets.Ledger.HoldAsync(account, WalletKeys.Payment + "o1", 10_000);

        var refused = await DeleteAsync(customer);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var message = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.Equal("Your wallet still holds ₹100 (₹0 available, ₹100 held for payments in progress). Withdraw it to your bank account with "
                     + "POST /wallet/withdraw once the held payments have finished, then delete your account.", message);
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
    }

    [Fact]
    public async Task An_empty_wallet_is_deleted_with_the_account()
    {
        var customer = await app.SignUpAsync();
        var account = PrintWallets.Account(customer.Id);
        await Wallets.Ledger.CreditAsync(account, WalletKeys.Topup + "t1", 5_000);
        await Wallets.Ledger.DebitAsync(account, WalletKeys.Payment + "o1", 5_000);
        Assert.Contains(RowsOf(customer.Id), k => k.StartsWith(WalletCleanup.LedgerPrefix, StringComparison.Ordinal));

        var deleted = await DeleteAsync(customer);

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
        Assert.Empty(RowsOf(customer.Id));
    }

    [Fact]
    public async Task An_account_that_never_used_its_wallet_is_deleted_as_before()
    {
        var customer = await app.SignUpAsync();
        Assert.Equal(HttpStatusCode.OK, (await DeleteAsync(customer)).StatusCode);
        Assert.Empty(RowsOf(customer.Id));
    }

    [Fact]
    public async Task The_cleanup_leaves_a_wallet_that_received_money_after_the_check()
    {
        var customer = await app.SignUpAsync();
        await Wallets.Ledger.CreditAsync(PrintWallets.Account(customer.Id), WalletKeys.Topup + "late", 100);
        var rows = RowsOf(customer.Id);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => new WalletCleanup(app.Get<StorageAccount>()).RemoveAsync(customer.Id, CancellationToken.None));
        Assert.Equal(rows, RowsOf(customer.Id));
    }
}

/// <summary>The development seed's demo wallet.</summary>
public sealed class WalletSeedTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task The_seed_credits_the_demo_customer_500_rupees_once_across_starts()
    {
        var seed = new PrintSeed();
        await seed.SeedAsync(app.Services, CancellationToken.None);
        await seed.SeedAsync(app.Services, CancellationToken.None);

        var customer = await app.Get<UserDirectory>().FindByLoginAsync(PrintSeed.Customer);
        var balance = await app.Get<PrintWallets>().BalanceAsync(customer!.Id);
        Assert.Equal((50_000L, 0L, 1L), (balance.Available, balance.Held, balance.Movements));
        var movement = await app.Get<PrintWallets>().Ledger.FindMovementAsync(PrintWallets.Account(customer.Id), WalletKeys.Seed + "demo");
        Assert.Equal(("credit", 50_000L), (movement!.Kind, movement.Amount));
        Assert.Equal("topup", WalletKeys.TypeOf(movement.MovementKey));
        var shop = await app.Get<UserDirectory>().FindByLoginAsync(PrintSeed.Shopkeeper);
        Assert.Equal(0, (await app.Get<PrintWallets>().BalanceAsync(shop!.Id)).Movements);
    }
}
