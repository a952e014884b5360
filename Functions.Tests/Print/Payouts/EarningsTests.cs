using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Hosting;
using Serverless.Platform.Payments;
using Serverless.Print.Payouts;

namespace Serverless.Tests.Print.Payouts;

public sealed class EarningsTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    private static long _shop = 9_000_000;

    private static long NewShopId() => Interlocked.Increment(ref _shop);

    [Fact]
    public async Task A_job_is_credited_once_under_ten_concurrent_calls_and_the_shares_add_up()
    {
        var earnings = app.Get<PrintEarnings>();
        var shop = NewShopId();
        var job = "job-" + Guid.NewGuid().ToString("N");
        var commissionBefore = await earnings.CommissionAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => earnings.CreditJobAsync(job, shop, 12_35)));

        Assert.All(results, r => Assert.Equal((10_50L, 1_85L), r));
        var balance = await earnings.EarningsAsync(shop);
        Assert.Equal(10_50, balance.Available);
        Assert.Equal(1, balance.Movements);
        Assert.Equal(1_85, await earnings.CommissionAsync() - commissionBefore);
        var commission = await app.Ledger.BalanceAsync(PayoutKeys.Commission(PayoutKeys.CommissionShard(job)));
        Assert.NotNull(await app.Ledger.FindMovementAsync(PayoutKeys.Commission(PayoutKeys.CommissionShard(job)), "job-" + job));
        Assert.True(commission.Available >= 1_85);

        // Another job adds up; the shop's wallet is untouched (earnings are their own account).
        await earnings.CreditJobAsync(job + "-2", shop, 100_00);
        Assert.Equal(10_50 + 85_00, (await earnings.EarningsAsync(shop)).Available);
        Assert.Equal(0, (await app.Ledger.BalanceAsync(Serverless.Print.Wallet.PrintWallets.Account(shop))).Available);
    }

    [Fact]
    public void Commission_shards_are_stable_and_spread()
    {
        Assert.Equal(PayoutKeys.CommissionShard("abc"), PayoutKeys.CommissionShard("abc"));
        var shards = Enumerable.Range(0, 200).Select(i => PayoutKeys.CommissionShard("job" + i)).ToHashSet();
        Assert.Equal(PayoutKeys.CommissionShards, shards.Count);
        Assert.All(shards, s => Assert.InRange(s, 0, PayoutKeys.CommissionShards - 1));
    }

    [Fact]
    public async Task The_payout_run_pays_each_shop_over_the_minimum_once_even_when_run_twice()
    {
        var earnings = app.Get<PrintEarnings>();
        var (rich, poor) = (NewShopId(), NewShopId());
        await earnings.CreditJobAsync("r1-" + rich, rich, 100_00);
        await earnings.CreditJobAsync("r2-" + rich, rich, 40_00);
        await earnings.CreditJobAsync("p1-" + poor, poor, 100_00); // 85 after commission: under the ₹100 minimum
        var day = new DateOnly(2026, 11, 23);

        var first = await earnings.RunPayoutsAsync(day);
        var again = await earnings.RunPayoutsAsync(day);
        await Task.WhenAll(earnings.RunPayoutsAsync(day), earnings.RunPayoutsAsync(day));

        var payout = Assert.Single(first, p => p.ShopkeeperId == rich);
        Assert.DoesNotContain(first, p => p.ShopkeeperId == poor);
        Assert.DoesNotContain(again, p => p.ShopkeeperId == rich);
        Assert.Equal(119_00, payout.AmountMinor);
        Assert.Equal(ShopPayoutStatus.Pending, payout.Status);
        Assert.Equal(0, (await earnings.EarningsAsync(rich)).Available);
        Assert.Equal(85_00, (await earnings.EarningsAsync(poor)).Available);
        var stored = Assert.Single(await earnings.PayoutsAsync(rich));
        Assert.Equal((payout.Id, 119_00L, "pending"), (stored.Id, stored.AmountMinor, stored.Status));
        Assert.NotNull(await app.Ledger.FindMovementAsync(PayoutKeys.Earnings(rich), "payout-" + payout.Id));

        // The next day: the poor shop has earned enough now, the rich one has nothing new.
        await earnings.CreditJobAsync("p2-" + poor, poor, 20_00);
        var next = await earnings.RunPayoutsAsync(day.AddDays(1));
        Assert.Equal(102_00, Assert.Single(next, p => p.ShopkeeperId == poor).AmountMinor);
        Assert.DoesNotContain(next, p => p.ShopkeeperId == rich);
        Assert.Single(await earnings.PayoutsAsync(rich));
    }

    [Fact]
    public async Task The_daily_PrintPayoutRun_timer_pays_out_for_its_scheduled_day()
    {
        var timer = app.Get<TriggerRegistry>().FindTimer(PrintEarnings.RunFunction);
        Assert.NotNull(timer);
        Assert.Equal("0 0 2 * * *", timer.Schedule);
        var earnings = app.Get<PrintEarnings>();
        var shop = NewShopId();
        await earnings.CreditJobAsync("t-" + shop, shop, 500_00);

        var at = new DateTimeOffset(2026, 12, 10, 2, 0, 0, TimeSpan.Zero);
        await app.Get<TriggerInvoker>().InvokeAsync(timer, at, false, CancellationToken.None);
        await app.Get<TriggerInvoker>().InvokeAsync(timer, at, true, CancellationToken.None);

        var payout = Assert.Single(await earnings.PayoutsAsync(shop));
        Assert.Equal((425_00L, "2026-12-10"), (payout.AmountMinor, payout.Day));
        Assert.Equal(0, (await earnings.EarningsAsync(shop)).Available);
    }

    [Fact]
    public async Task Payout_statuses_move_only_forwards_and_a_failed_payout_returns_its_money_once()
    {
        var earnings = app.Get<PrintEarnings>();
        var (a, b) = (NewShopId(), NewShopId());
        await earnings.CreditJobAsync("a-" + a, a, 200_00);
        await earnings.CreditJobAsync("b-" + b, b, 200_00);
        var made = await earnings.RunPayoutsAsync(new DateOnly(2026, 12, 1));
        var pa = made.Single(p => p.ShopkeeperId == a).Id;
        var pb = made.Single(p => p.ShopkeeperId == b).Id;

        Assert.Equal(PayoutMark.Illegal, (await earnings.MarkAsync(pa, ShopPayoutStatus.Paid, "NEFT1")).Outcome);
        var processing = await earnings.MarkAsync(pa, ShopPayoutStatus.Processing, null);
        Assert.Equal((PayoutMark.Updated, "processing"), (processing.Outcome, processing.Payout!.Status));
        Assert.Equal(PayoutMark.Unchanged, (await earnings.MarkAsync(pa, ShopPayoutStatus.Processing, null)).Outcome);
        Assert.Equal(PayoutMark.Illegal, (await earnings.MarkAsync(pa, ShopPayoutStatus.Pending, null)).Outcome);
        var paid = await earnings.MarkAsync(pa, ShopPayoutStatus.Paid, "NEFT-778");
        Assert.Equal(PayoutMark.Updated, paid.Outcome);
        Assert.Equal("NEFT-778", paid.Payout!.Reference);
        Assert.Equal(app.Time.GetUtcNow(), paid.Payout.PaidAt);
        Assert.Equal(PayoutMark.Illegal, (await earnings.MarkAsync(pa, ShopPayoutStatus.Failed, null)).Outcome);
        Assert.Equal(0, (await earnings.EarningsAsync(a)).Available);

        var failed = await earnings.MarkAsync(pb, ShopPayoutStatus.Failed, "bounced");
        Assert.Equal((PayoutMark.Updated, "failed", "bounced"), (failed.Outcome, failed.Payout!.Status, failed.Payout.Reference));
        Assert.Equal(PayoutMark.Unchanged, (await earnings.MarkAsync(pb, ShopPayoutStatus.Failed, null)).Outcome);
        Assert.Equal(PayoutMark.Illegal, (await earnings.MarkAsync(pb, ShopPayoutStatus.Processing, null)).Outcome);
        var balance = await earnings.EarningsAsync(b);
        Assert.Equal(170_00, balance.Available);
        var (statement, _) = await app.Ledger.StatementAsync(PayoutKeys.Earnings(b), 10, 0);
        Assert.Equal([MovementKinds.Refund, MovementKinds.Debit, MovementKinds.Credit], statement.Select(s => s.Kind));
        Assert.Equal(PayoutKeys.PayoutReturned(pb), statement[0].MovementKey);

        Assert.Equal(PayoutMark.NotFound, (await earnings.MarkAsync(987_654_321, ShopPayoutStatus.Paid, null)).Outcome);
    }

    [Fact]
    public async Task Concurrent_marks_of_one_payout_as_failed_return_its_money_once()
    {
        var earnings = app.Get<PrintEarnings>();
        var shop = NewShopId();
        await earnings.CreditJobAsync("c-" + shop, shop, 200_00);
        var id = (await earnings.RunPayoutsAsync(new DateOnly(2026, 12, 2))).Single(p => p.ShopkeeperId == shop).Id;

        var marks = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => earnings.MarkAsync(id, ShopPayoutStatus.Failed, null)));

        Assert.Single(marks, m => m.Outcome == PayoutMark.Updated);
        Assert.All(marks, m => Assert.Contains(m.Outcome, new[] { PayoutMark.Updated, PayoutMark.Unchanged }));
        Assert.Equal(170_00, (await earnings.EarningsAsync(shop)).Available);
    }

    [Fact]
    public async Task A_shopkeeper_reads_their_payouts_newest_first_with_the_unpaid_earnings()
    {
        var shopkeeper = await app.SignUpAsync(role: "shopkeeper");
        var earnings = app.Get<PrintEarnings>();
        var empty = await app.Bearer(shopkeeper).GetFromJsonAsync<JsonElement>("/shopkeeper/payouts");
        Assert.Equal("""{"payouts":[],"unpaid_earnings":0}""", empty.GetRawText());

        await earnings.CreditJobAsync("s1-" + shopkeeper.Id, shopkeeper.Id, 150_00);
        var first = Assert.Single(await earnings.RunPayoutsAsync(new DateOnly(2027, 1, 1)), p => p.ShopkeeperId == shopkeeper.Id);
        app.Time.Advance(TimeSpan.FromDays(1));
        await earnings.CreditJobAsync("s2-" + shopkeeper.Id, shopkeeper.Id, 200_00);
        var second = Assert.Single(await earnings.RunPayoutsAsync(new DateOnly(2027, 1, 2)), p => p.ShopkeeperId == shopkeeper.Id);
        await earnings.MarkAsync(first.Id, ShopPayoutStatus.Processing, null);
        await earnings.MarkAsync(first.Id, ShopPayoutStatus.Paid, "UTR-9");
        await earnings.CreditJobAsync("s3-" + shopkeeper.Id, shopkeeper.Id, 10_00);

        var body = await app.Bearer(shopkeeper).GetFromJsonAsync<JsonElement>("/shopkeeper/payouts");

        var payouts = body.GetProperty("payouts").EnumerateArray().ToList();
        Assert.Equal([second.Id, first.Id], payouts.Select(p => p.GetProperty("id").GetInt64()));
        Assert.Equal(170m, payouts[0].GetProperty("amount").GetDecimal());
        Assert.Equal("pending", payouts[0].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, payouts[0].GetProperty("paid_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, payouts[0].GetProperty("reference").ValueKind);
        Assert.Equal(127.5m, payouts[1].GetProperty("amount").GetDecimal());
        Assert.Equal("paid", payouts[1].GetProperty("status").GetString());
        Assert.Equal("UTR-9", payouts[1].GetProperty("reference").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", payouts[1].GetProperty("paid_at").GetString()!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", payouts[1].GetProperty("created_at").GetString()!);
        Assert.Equal(8.5m, body.GetProperty("unpaid_earnings").GetDecimal());
    }

    [Fact]
    public async Task Only_shopkeepers_read_shop_payouts()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/shopkeeper/payouts")).StatusCode);
        var customer = await app.SignUpAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(customer).GetAsync("/shopkeeper/payouts")).StatusCode);
    }
}
