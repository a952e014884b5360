using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Wallet;

/// <summary>Referral credits on a friend's first qualifying action, with the default settings (₹50 bonus, ₹25 welcome).</summary>
public sealed class ReferralCreditTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private Ledger Ledger => app.Get<PrintWallets>().Ledger;

    private async Task<(PrintAccount Referrer, PrintAccount Friend)> ReferredPairAsync()
    {
        var referrer = await app.SignUpAsync();
        var code = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        var friend = await app.SignUpAsync(referralCode: code);
        return (referrer, friend);
    }

    private async Task<ReferralRow> ReferralRowOf(PrintAccount referrer) =>
        Assert.Single(await app.Get<Referrals>().HistoryAsync(referrer.Id));

    [Fact]
    public async Task A_qualifying_action_credits_the_referrer_and_the_friend_once_with_the_referral_marked_credited()
    {
        var (referrer, friend) = await ReferredPairAsync();
        var referralId = (await ReferralRowOf(referrer)).Id;
        app.Time.Advance(TimeSpan.FromMinutes(5));

        var credit = await app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id);
        Assert.Equal(new ReferralCredit(referralId, referrer.Id, friend.Id, 5000, 2500, CreditedNow: true), credit);
        // A retry (or the other qualifying action later) moves nothing.
        var again = await app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id);
        Assert.Equal(credit! with { CreditedNow = false }, again);

        var bonus = await Ledger.FindMovementAsync(PrintWallets.Account(referrer.Id), WalletKeys.ReferralBonus + referralId);
        Assert.Equal((MovementKinds.Credit, 5000L, 5000L, 1L, ReferralCredits.BonusMemo), (bonus!.Kind, bonus.Amount, bonus.AvailableAfter, bonus.Version, bonus.Memo));
        var welcome = await Ledger.FindMovementAsync(PrintWallets.Account(friend.Id), WalletKeys.ReferralWelcome + referralId);
        Assert.Equal((MovementKinds.Credit, 2500L, 2500L, 1L, ReferralCredits.WelcomeMemo), (welcome!.Kind, welcome.Amount, welcome.AvailableAfter, welcome.Version, welcome.Memo));

        var referrerBalance = await app.Get<PrintWallets>().BalanceAsync(referrer.Id);
        Assert.Equal((5000L, 0L, 1L), (referrerBalance.Available, referrerBalance.Held, referrerBalance.Movements));
        var friendBalance = await app.Get<PrintWallets>().BalanceAsync(friend.Id);
        Assert.Equal((2500L, 0L, 1L), (friendBalance.Available, friendBalance.Held, friendBalance.Movements));
        var (statement, total) = await Ledger.StatementAsync(PrintWallets.Account(referrer.Id), 10, 0);
        Assert.Equal(1, total);
        Assert.Equal("referral_bonus", WalletKeys.TypeOf(Assert.Single(statement).MovementKey));
        Assert.Equal("referral_welcome", WalletKeys.TypeOf(welcome.MovementKey));

        var row = await ReferralRowOf(referrer);
        Assert.Equal((ReferralStatus.Credited, 5000L, bonus.At), (row.Status, row.AmountMinor, row.CreditedAt));
        Assert.Equal(app.Time.GetUtcNow(), row.CreditedAt);
        // A credited referral is no longer pending.
        var profile = await app.Get<PrintAccounts>().FindProfileAsync(friend.Id);
        Assert.Null(await app.Get<Referrals>().PendingReferralOfAsync(profile!));
    }

    [Fact]
    public async Task A_retry_after_the_referrer_was_credited_completes_the_welcome_credit()
    {
        var (referrer, friend) = await ReferredPairAsync();
        var row = await ReferralRowOf(referrer);
        // A first call credited the referrer and marked the row, then failed before the welcome credit.
        var first = await Ledger.CreditIfAsync(PrintWallets.Account(referrer.Id), WalletKeys.ReferralBonus + row.Id, 5000, step =>
        {
            step.Replace(row with { Status = ReferralStatus.Credited, CreditedAt = step.At });
            return ValueTask.FromResult(true);
        });
        Assert.Equal(MovementStatus.Applied, first.Status);

        var retry = await app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id);

        Assert.Equal(new ReferralCredit(row.Id, referrer.Id, friend.Id, 5000, 2500, CreditedNow: false), retry);
        Assert.Equal((5000L, 1L), ((await app.Get<PrintWallets>().BalanceAsync(referrer.Id)).Available, (await app.Get<PrintWallets>().BalanceAsync(referrer.Id)).Movements));
        Assert.Equal((2500L, 1L), ((await app.Get<PrintWallets>().BalanceAsync(friend.Id)).Available, (await app.Get<PrintWallets>().BalanceAsync(friend.Id)).Movements));
    }

    [Fact]
    public async Task A_referrer_credited_with_a_bonus_cannot_delete_the_account_until_it_is_withdrawn()
    {
        var (referrer, friend) = await ReferredPairAsync();
        await app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id);

        var refused = await app.Bearer(referrer).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = referrer.Password }));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.StartsWith("Your wallet still holds ₹50.", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Ten_parallel_qualifying_actions_credit_each_wallet_once()
    {
        var (referrer, friend) = await ReferredPairAsync();
        var referralId = (await ReferralRowOf(referrer)).Id;

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id))));

        Assert.All(results, r => Assert.Equal((referralId, 5000L, 2500L), (r!.ReferralId, r.BonusMinor, r.WelcomeMinor)));
        Assert.Single(results, r => r!.CreditedNow);
        var referrerBalance = await app.Get<PrintWallets>().BalanceAsync(referrer.Id);
        Assert.Equal((5000L, 1L), (referrerBalance.Available, referrerBalance.Movements));
        var friendBalance = await app.Get<PrintWallets>().BalanceAsync(friend.Id);
        Assert.Equal((2500L, 1L), (friendBalance.Available, friendBalance.Movements));
        Assert.Equal((ReferralStatus.Credited, 5000L), ((await ReferralRowOf(referrer)).Status, (await ReferralRowOf(referrer)).AmountMinor));
    }

    [Fact]
    public async Task A_customer_without_a_referral_or_another_role_gets_nothing()
    {
        var loner = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");

        Assert.Null(await app.Get<ReferralCredits>().OnQualifyingActionAsync(loner.Id));
        Assert.Null(await app.Get<ReferralCredits>().OnQualifyingActionAsync(shop.Id));
        Assert.Null(await app.Get<ReferralCredits>().OnQualifyingActionAsync(987_654_321));

        Assert.Equal(0, (await app.Get<PrintWallets>().BalanceAsync(loner.Id)).Movements);
        Assert.Equal(0, (await app.Get<PrintWallets>().BalanceAsync(shop.Id)).Movements);
        var rows = app.Get<StorageAccount>().Table(UserDirectory.TableName)
            .Query<TableEntity>($"PartitionKey eq '{UserDirectory.PartitionOf(loner.Id)}'").Select(r => r.RowKey).ToList();
        Assert.DoesNotContain(rows, k => k.StartsWith(WalletCleanup.LedgerPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_referral_whose_referrer_is_deleted_credits_nothing()
    {
        var (referrer, friend) = await ReferredPairAsync();
        var deleted = await app.Bearer(referrer).SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = referrer.Password }));
        deleted.EnsureSuccessStatusCode();

        Assert.Null(await app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id));
        Assert.Equal(0, (await app.Get<PrintWallets>().BalanceAsync(friend.Id)).Movements);
    }

    [Fact]
    public async Task Summary_and_history_show_the_credited_referral()
    {
        var (referrer, friend) = await ReferredPairAsync();
        var code = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await app.SignUpAsync(referralCode: code);
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id);

        var summary = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/summary");
        Assert.Equal("""{"total_referred":2,"total_credited":1,"total_earnings":50,"pending_count":1}""", summary.GetRawText());
        var history = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/history")).GetProperty("referrals").EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        var credited = history[1];
        Assert.Equal("credited", credited.GetProperty("status").GetString());
        Assert.Equal(50, credited.GetProperty("amount").GetDecimal());
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), credited.GetProperty("credited_at").GetString());
        Assert.Equal("pending", history[0].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, history[0].GetProperty("credited_at").ValueKind);
    }
}

/// <summary>Referral amounts set to zero: nothing moves, the referral is still credited.</summary>
public sealed class ZeroReferralCreditTests(ZeroReferralCreditTests.Factory app) : IClassFixture<ZeroReferralCreditTests.Factory>
{
    public sealed class Factory : PrintFactory
    {
        public Factory()
        {
            With("Print:Referral:ReferrerBonus", "0");
            With("Print:Referral:WelcomeBonus", "0");
        }
    }

    [Fact]
    public async Task Zero_amounts_credit_nothing_but_mark_the_referral_credited_once()
    {
        var referrer = await app.SignUpAsync();
        var code = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        var friend = await app.SignUpAsync(referralCode: code);

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => app.Get<ReferralCredits>().OnQualifyingActionAsync(friend.Id))));
        Assert.All(results, r => Assert.Equal((0L, 0L), (r!.BonusMinor, r.WelcomeMinor)));
        Assert.Single(results, r => r!.CreditedNow);

        var row = Assert.Single(await app.Get<Referrals>().HistoryAsync(referrer.Id));
        Assert.Equal((ReferralStatus.Credited, 0L, app.Time.GetUtcNow()), (row.Status, row.AmountMinor, row.CreditedAt));
        Assert.Equal(0, (await app.Get<PrintWallets>().BalanceAsync(referrer.Id)).Movements);
        Assert.Equal(0, (await app.Get<PrintWallets>().BalanceAsync(friend.Id)).Movements);
        var summary = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/summary");
        Assert.Equal("""{"total_referred":1,"total_credited":1,"total_earnings":0,"pending_count":0}""", summary.GetRawText());
    }
}
