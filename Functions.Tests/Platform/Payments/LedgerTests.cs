using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.Tests.Platform.Payments;

public sealed class LedgerTests(LedgerFactory app) : IClassFixture<LedgerFactory>
{
    private Ledger Ledger => app.Ledger;

    [Fact]
    public async Task A_credit_adds_to_what_is_available_with_one_statement_row_and_one_movement_row()
    {
        var account = LedgerFactory.NewAccount();

        var result = await Ledger.CreditAsync(account, "top-up-1", 500, memo: "first top-up");

        Assert.Equal(MovementStatus.Applied, result.Status);
        Assert.Equal((500L, 0L), (result.Available, result.Held));
        Assert.Equal(new LedgerBalance(500, 0, "INR", 1, 0), await Ledger.BalanceAsync(account));
        var line = Assert.Single(await app.StatementRowsAsync(account));
        Assert.Equal(("top-up-1", MovementKinds.Credit, 500L, 0L, 500L, 0L, 1L, "first top-up"),
            (line.MovementKey, line.Kind, line.Amount, line.HeldDelta, line.AvailableAfter, line.HeldAfter, line.Version, line.Memo));
        Assert.Equal(app.Time.GetUtcNow(), line.At);
        var movement = Assert.Single(await app.MovementRowsAsync(account));
        Assert.Equal(("top-up-1", MovementKinds.Credit, 500L, 0L), (movement.MovementKey, movement.Kind, movement.Amount, movement.Remaining));
        Assert.Equal(movement.MovementKey, result.Movement!.MovementKey);
    }

    [Fact]
    public async Task Each_movement_moves_available_and_held_as_it_should()
    {
        var account = LedgerFactory.NewAccount();

        var steps = new[]
        {
            await Ledger.CreditAsync(account, "c1", 1000),
            await Ledger.DebitAsync(account, "d1", 300),
            await Ledger.HoldAsync(account, "h1", 400),
            await Ledger.CaptureAsync(account, "h1", "cap1", 150),
            await Ledger.ReleaseAsync(account, "h1", "rel1"),
            await Ledger.RefundAsync(account, "d1", "ref1", 100),
        };

        Assert.All(steps, s => Assert.Equal(MovementStatus.Applied, s.Status));
        Assert.Equal([(1000L, 0L), (700L, 0L), (300L, 400L), (300L, 250L), (550L, 0L), (650L, 0L)], steps.Select(s => (s.Available, s.Held)));
        var balance = await Ledger.BalanceAsync(account);
        Assert.Equal((650L, 0L, 6L, 1L), (balance.Available, balance.Held, balance.Movements, balance.Debits));
        var statement = await app.StatementRowsAsync(account);
        Assert.Equal([("ref1", 100L, 0L), ("rel1", 250L, -250L), ("cap1", 0L, -150L), ("h1", -400L, 400L), ("d1", -300L, 0L), ("c1", 1000L, 0L)],
            statement.Select(l => (l.MovementKey, l.Amount, l.HeldDelta)));
        Assert.Equal(balance.Available, statement.Sum(l => l.Amount));
        Assert.Equal(balance.Held, statement.Sum(l => l.HeldDelta));
        var movements = (await app.MovementRowsAsync(account)).ToDictionary(m => m.MovementKey);
        Assert.Equal(6, movements.Count);
        Assert.Equal(0, movements["h1"].Remaining);
        Assert.Equal(200, movements["d1"].Remaining);
        Assert.Equal(150, movements["cap1"].Remaining);
        Assert.Equal(("h1", 250L), (movements["rel1"].Of, movements["rel1"].Amount));
        Assert.Equal("d1", movements["ref1"].Of);
    }

    [Fact]
    public async Task The_statement_pages_newest_first_and_counts_every_movement()
    {
        var account = LedgerFactory.NewAccount();
        for (var i = 1; i <= 5; i++)
            Assert.Equal(MovementStatus.Applied, (await Ledger.CreditAsync(account, $"c{i}", i * 10)).Status);

        var first = await Ledger.StatementAsync(account, 2, 0);
        var second = await Ledger.StatementAsync(account, 2, 2);
        var last = await Ledger.StatementAsync(account, 2, 4);
        var past = await Ledger.StatementAsync(account, 2, 5);
        var all = await Ledger.StatementAsync(account, 100, 0);

        Assert.Equal(["c5", "c4"], first.Page.Select(l => l.MovementKey));
        Assert.Equal(["c3", "c2"], second.Page.Select(l => l.MovementKey));
        Assert.Equal(["c1"], last.Page.Select(l => l.MovementKey));
        Assert.Empty(past.Page);
        Assert.Equal([5L, 4L, 3L, 2L, 1L], all.Page.Select(l => l.Version));
        Assert.All(new[] { first, second, last, past, all }, p => Assert.Equal(5, p.Total));
        Assert.Equal(150, all.Page.Sum(l => l.Amount));
        var empty = await Ledger.StatementAsync(LedgerFactory.NewAccount(), 10, 0);
        Assert.Equal(0, empty.Total);
        Assert.Empty(empty.Page);
    }

    [Fact]
    public async Task The_same_key_twice_answers_already_applied_with_the_first_result_and_moves_nothing()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        var first = await Ledger.DebitAsync(account, "order-1", 30);
        await Ledger.CreditAsync(account, "c2", 50);

        var again = await Ledger.DebitAsync(account, "order-1", 30);

        Assert.Equal(MovementStatus.AlreadyApplied, again.Status);
        Assert.True(again.Moved);
        Assert.Equal((70L, 0L), (again.Available, again.Held));
        Assert.Equal((first.Available, first.Held), (again.Available, again.Held));
        Assert.Equal(first.Movement!.Version, again.Movement!.Version);
        Assert.Equal(120, (await Ledger.BalanceAsync(account)).Available);
        Assert.Single(await app.StatementRowsAsync(account), l => l.MovementKey == "order-1");
    }

    [Fact]
    public async Task A_repeated_debit_that_emptied_the_account_answers_already_applied_not_insufficient_funds()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        Assert.Equal(MovementStatus.Applied, (await Ledger.DebitAsync(account, "order-1", 100)).Status);

        var again = await Ledger.DebitAsync(account, "order-1", 100);
        var fromAnotherInstance = await app.SecondInstance().DebitAsync(account, "order-1", 100);

        Assert.Equal(MovementStatus.AlreadyApplied, again.Status);
        Assert.Equal(MovementStatus.AlreadyApplied, fromAnotherInstance.Status);
        Assert.Equal(0, again.Available);
        Assert.Equal(2, (await app.StatementRowsAsync(account)).Count);
    }

    [Fact]
    public async Task Repeating_a_refund_capture_release_or_credit_whose_room_is_used_up_answers_already_applied()
    {
        var account = LedgerFactory.NewAccount(ceiling: 100);
        await Ledger.CreditAsync(account, "c1", 100);
        await Ledger.DebitAsync(account, "d1", 40);
        await Ledger.RefundAsync(account, "d1", "r1", 40);
        await Ledger.HoldAsync(account, "h1", 30);
        await Ledger.CaptureAsync(account, "h1", "cap1", 20);
        await Ledger.ReleaseAsync(account, "h1", "rel1");

        Assert.Equal(MovementStatus.AlreadyApplied, (await Ledger.CreditAsync(account, "c1", 100)).Status);
        Assert.Equal(MovementStatus.AlreadyApplied, (await Ledger.RefundAsync(account, "d1", "r1", 40)).Status);
        Assert.Equal(MovementStatus.AlreadyApplied, (await Ledger.CaptureAsync(account, "h1", "cap1", 20)).Status);
        Assert.Equal(MovementStatus.AlreadyApplied, (await Ledger.ReleaseAsync(account, "h1", "rel1")).Status);
        // The same keys for something else are conflicts, whatever else is wrong with the request.
        Assert.Equal(MovementStatus.KeyConflict, (await Ledger.DebitAsync(account, "c1", 1000)).Status);
        Assert.Equal(MovementStatus.KeyConflict, (await Ledger.CaptureAsync(account, "no-such-hold", "cap1", 20)).Status);
        Assert.Equal(6, (await app.StatementRowsAsync(account)).Count);
        Assert.Equal(new LedgerBalance(80, 0, "INR", 6, 1), await Ledger.BalanceAsync(account));
    }

    [Fact]
    public async Task The_same_key_for_another_amount_or_kind_is_a_key_conflict_and_moves_nothing()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        await Ledger.DebitAsync(account, "order-1", 30);

        var otherAmount = await Ledger.DebitAsync(account, "order-1", 31);
        var otherKind = await Ledger.CreditAsync(account, "order-1", 30);
        var fresh = await app.SecondInstance().DebitAsync(account, "order-1", 29);

        Assert.Equal(MovementStatus.KeyConflict, otherAmount.Status);
        Assert.Equal(MovementStatus.KeyConflict, otherKind.Status);
        Assert.Equal(MovementStatus.KeyConflict, fresh.Status);
        Assert.False(otherAmount.Moved);
        Assert.Equal(30, otherAmount.Movement!.Amount);
        Assert.Equal(70, (await Ledger.BalanceAsync(account)).Available);
        Assert.Equal(2, (await app.StatementRowsAsync(account)).Count);
    }

    [Fact]
    public async Task A_debit_beyond_the_balance_is_insufficient_funds_and_writes_nothing()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        var before = await app.BalanceRowAsync(account);

        var debit = await Ledger.DebitAsync(account, "order-1", 101);
        var hold = await Ledger.HoldAsync(account, "hold-1", 101);

        Assert.Equal(MovementStatus.InsufficientFunds, debit.Status);
        Assert.Equal(MovementStatus.InsufficientFunds, hold.Status);
        Assert.Equal((100L, 0L), (debit.Available, debit.Held));
        Assert.Null(debit.Movement);
        Assert.Equal(before!.ETag, (await app.BalanceRowAsync(account))!.ETag);
        Assert.Single(await app.StatementRowsAsync(account));
        Assert.Single(await app.MovementRowsAsync(account));
        // The key stays free: the same debit succeeds once there is money.
        await Ledger.CreditAsync(account, "c2", 1);
        Assert.Equal(MovementStatus.Applied, (await Ledger.DebitAsync(account, "order-1", 101)).Status);
        Assert.Equal(0, (await Ledger.BalanceAsync(account)).Available);
    }

    [Fact]
    public async Task A_credit_past_the_ceiling_is_refused_counting_what_is_held()
    {
        var account = LedgerFactory.NewAccount(ceiling: 1000);
        await Ledger.CreditAsync(account, "c1", 900);
        await Ledger.HoldAsync(account, "h1", 500);

        var over = await Ledger.CreditAsync(account, "c2", 101);
        var exact = await Ledger.CreditAsync(account, "c3", 100);

        Assert.Equal(MovementStatus.CeilingExceeded, over.Status);
        Assert.Equal((400L, 500L), (over.Available, over.Held));
        Assert.Equal(MovementStatus.Applied, exact.Status);
        Assert.Equal((500L, 500L), (exact.Available, exact.Held));
        Assert.Null(await Ledger.FindMovementAsync(account, "c2"));
        Assert.Equal(3, (await app.StatementRowsAsync(account)).Count);
    }

    [Fact]
    public async Task A_capture_of_more_than_the_hold_is_refused_and_a_part_capture_leaves_the_rest_to_release()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 1000);
        await Ledger.HoldAsync(account, "h1", 400);

        var tooMuch = await Ledger.CaptureAsync(account, "h1", "cap-all", 401);
        var part = await Ledger.CaptureAsync(account, "h1", "cap1", 250);
        var beyondRest = await Ledger.CaptureAsync(account, "h1", "cap2", 151);
        var rest = await Ledger.ReleaseAsync(account, "h1", "rel1");
        var nothingLeft = await Ledger.ReleaseAsync(account, "h1", "rel2");

        Assert.Equal(MovementStatus.ExceedsReference, tooMuch.Status);
        Assert.Equal((MovementStatus.Applied, 600L, 150L), (part.Status, part.Available, part.Held));
        Assert.Equal(MovementStatus.ExceedsReference, beyondRest.Status);
        Assert.Equal((MovementStatus.Applied, 750L, 0L, 150L), (rest.Status, rest.Available, rest.Held, rest.Movement!.Amount));
        Assert.Equal(MovementStatus.ExceedsReference, nothingLeft.Status);
        Assert.Equal(0, (await Ledger.FindMovementAsync(account, "h1"))!.Remaining);
        Assert.Equal(new LedgerBalance(750, 0, "INR", 4, 0), await Ledger.BalanceAsync(account));
    }

    [Fact]
    public async Task A_release_of_part_of_a_hold_leaves_the_rest_to_capture()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        await Ledger.HoldAsync(account, "h1", 100);

        var release = await Ledger.ReleaseAsync(account, "h1", "rel1", 30);
        var capture = await Ledger.CaptureAsync(account, "h1", "cap1", 70);

        Assert.Equal((30L, 70L), (release.Available, release.Held));
        Assert.Equal((30L, 0L), (capture.Available, capture.Held));
        Assert.Equal(0, (await Ledger.FindMovementAsync(account, "h1"))!.Remaining);
    }

    [Fact]
    public async Task Refunds_of_a_debit_add_up_to_at_most_its_amount()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        await Ledger.DebitAsync(account, "order-1", 80);

        var first = await Ledger.RefundAsync(account, "order-1", "refund-1", 30);
        var second = await Ledger.RefundAsync(account, "order-1", "refund-2", 50);
        var third = await Ledger.RefundAsync(account, "order-1", "refund-3", 1);

        Assert.Equal((MovementStatus.Applied, 50L), (first.Status, first.Available));
        Assert.Equal((MovementStatus.Applied, 100L), (second.Status, second.Available));
        Assert.Equal(MovementStatus.ExceedsReference, third.Status);
        Assert.Equal(0, (await Ledger.FindMovementAsync(account, "order-1"))!.Remaining);
        Assert.Null(await Ledger.FindMovementAsync(account, "refund-3"));
        Assert.Equal(100, (await Ledger.BalanceAsync(account)).Available);
    }

    [Fact]
    public async Task A_refund_of_a_capture_gives_back_what_was_captured()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        await Ledger.HoldAsync(account, "h1", 60);
        await Ledger.CaptureAsync(account, "h1", "cap1", 60);

        var over = await Ledger.RefundAsync(account, "cap1", "r1", 61);
        var refund = await Ledger.RefundAsync(account, "cap1", "r2", 60);

        Assert.Equal(MovementStatus.ExceedsReference, over.Status);
        Assert.Equal((MovementStatus.Applied, 100L, 0L), (refund.Status, refund.Available, refund.Held));
    }

    [Fact]
    public async Task A_movement_that_names_an_unknown_movement_or_one_of_the_wrong_kind_is_an_unknown_reference()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        await Ledger.DebitAsync(account, "d1", 10);
        await Ledger.HoldAsync(account, "h1", 10);

        Assert.Equal(MovementStatus.UnknownReference, (await Ledger.RefundAsync(account, "nothing", "r1", 5)).Status);
        Assert.Equal(MovementStatus.UnknownReference, (await Ledger.RefundAsync(account, "c1", "r2", 5)).Status);
        Assert.Equal(MovementStatus.UnknownReference, (await Ledger.RefundAsync(account, "h1", "r3", 5)).Status);
        Assert.Equal(MovementStatus.UnknownReference, (await Ledger.CaptureAsync(account, "d1", "cap1", 5)).Status);
        Assert.Equal(MovementStatus.UnknownReference, (await Ledger.ReleaseAsync(account, "nothing", "rel1")).Status);
        Assert.Equal(MovementStatus.UnknownReference, (await Ledger.RefundAsync(LedgerFactory.NewAccount(), "d1", "r4", 5)).Status);
        Assert.Equal(3, (await app.StatementRowsAsync(account)).Count);
    }

    [Fact]
    public async Task A_callers_rows_land_in_the_movements_own_transaction()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        LedgerStep? seen = null;

        var result = await Ledger.DebitAsync(account, "order-7", 40, step =>
        {
            seen = step;
            step.Insert(new PaidOrderRow { PartitionKey = account.Partition, RowKey = "order|7", Total = 40, BalanceAfter = step.AvailableAfter });
        });

        Assert.Equal(MovementStatus.Applied, result.Status);
        Assert.Equal((60L, 0L, 2L), (seen!.AvailableAfter, seen.HeldAfter, seen.Version));
        var order = await app.Table.FindAsync<PaidOrderRow>(account.Partition, "order|7");
        Assert.Equal((40L, 60L), (order!.Total, order.BalanceAfter));
        // Repeating the debit writes none of the caller's rows again.
        var again = await Ledger.DebitAsync(account, "order-7", 40,
            step => step.Upsert(new PaidOrderRow { PartitionKey = account.Partition, RowKey = "order|7", Total = -1 }));
        Assert.Equal(MovementStatus.AlreadyApplied, again.Status);
        Assert.Equal(40, (await app.Table.FindAsync<PaidOrderRow>(account.Partition, "order|7"))!.Total);
        Assert.Equal(60, (await Ledger.BalanceAsync(account)).Available);
    }

    [Fact]
    public async Task A_callers_row_that_conflicts_leaves_the_money_where_it_was()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);
        await app.Table.AddEntityAsync(new PaidOrderRow { PartitionKey = account.Partition, RowKey = "order|8", Total = 1 });

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => Ledger.DebitAsync(account, "order-8", 40,
            step => step.Insert(new PaidOrderRow { PartitionKey = account.Partition, RowKey = "order|8", Total = 40 })));

        Assert.Equal(new LedgerBalance(100, 0, "INR", 1, 0), await Ledger.BalanceAsync(account));
        Assert.Null(await Ledger.FindMovementAsync(account, "order-8"));
        Assert.Single(await app.StatementRowsAsync(account));
        Assert.Equal(1, (await app.Table.FindAsync<PaidOrderRow>(account.Partition, "order|8"))!.Total);
        // The ledger is not left stuck: the next movement goes through.
        Assert.Equal(MovementStatus.Applied, (await Ledger.DebitAsync(account, "order-9", 40)).Status);
    }

    [Fact]
    public async Task A_movement_after_one_on_the_same_instance_costs_one_storage_request()
    {
        var account = LedgerFactory.NewAccount();
        await Ledger.CreditAsync(account, "c1", 100);

        using var scope = StorageMeter.Begin();
        var debit = await Ledger.DebitAsync(account, "d1", 10);

        Assert.Equal(MovementStatus.Applied, debit.Status);
        Assert.Equal(1, scope.Meter.Count);
    }

    [Fact]
    public async Task A_movement_without_a_key_or_with_an_amount_that_is_not_positive_is_a_bug_of_the_caller()
    {
        var account = LedgerFactory.NewAccount();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Ledger.CreditAsync(account, "", 10));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Ledger.CreditAsync(account, "c1", 0));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Ledger.DebitAsync(account, "d1", -5));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Ledger.RefundAsync(account, "r1", "r1", 5));
        Assert.Null(await app.BalanceRowAsync(account));
    }

    [Fact]
    public async Task Keys_with_characters_table_keys_forbid_are_kept_apart()
    {
        var account = LedgerFactory.NewAccount();

        await Ledger.CreditAsync(account, "a/b#c?d", 10);
        await Ledger.CreditAsync(account, "a%2Fb#c?d", 20);

        Assert.Equal(MovementStatus.AlreadyApplied, (await Ledger.CreditAsync(account, "a/b#c?d", 10)).Status);
        Assert.Equal(30, (await Ledger.BalanceAsync(account)).Available);
        Assert.Equal(["a%2Fb#c?d", "a/b#c?d"], (await app.MovementRowsAsync(account)).Select(m => m.MovementKey).Order(StringComparer.Ordinal));
    }
}
