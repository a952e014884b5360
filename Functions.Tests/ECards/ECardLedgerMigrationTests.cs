using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.ECards;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

/// <summary>Partners whose money is still in the layout before the ledger keep their balance, orders and history.</summary>
public sealed class ECardLedgerMigrationTests(ECardsFactory app) : IClassFixture<ECardsFactory>
{
    private TableClient Accounts => app.Get<StorageAccount>().Table(PartnerAccounts.TableName);

    [Fact]
    public async Task A_partner_in_the_old_layout_keeps_its_balance_orders_and_history_after_the_start_up_migration()
    {
        var (card, _) = await app.NewECardAsync(0);
        var partnerId = await NewPartnerAsync();
        var pk = PartnerAccounts.Partition(partnerId);
        var t0 = app.Time.GetUtcNow().AddDays(-10);
        var delivered = Guid.NewGuid().ToString();
        var waiting = Guid.NewGuid().ToString();
        var cancelled = Guid.NewGuid().ToString();
        // Top-up 5000 (a reference that needed escaping), three orders, the last one cancelled and refunded.
        await SeedOldRowAsync(pk, "ledger-topup-" + TableKeys.Escape("invoice/1"), "topup", 5000, 5000, null, t0);
        await SeedOldOrderAsync(pk, partnerId, delivered, 1, 500, ECardOrderStatus.Delivered, card, t0.AddHours(1), balanceAfter: 4500);
        await SeedOldOrderAsync(pk, partnerId, waiting, 2, 1000, ECardOrderStatus.AwaitingCertificateAssignment, card, t0.AddHours(2), balanceAfter: 3500);
        await SeedOldOrderAsync(pk, partnerId, cancelled, 3, 700, ECardOrderStatus.Cancelled, card, t0.AddHours(3), balanceAfter: 2800);
        await SeedOldRowAsync(pk, "ledger-refund-" + cancelled, "refund", 700, 3500, cancelled, t0.AddHours(4));
        await Accounts.AddEntityAsync(new PartnerBalanceRow { PartitionKey = pk, Balance = 3500, OrderCount = 3 });

        await RunStartUpMigrationAsync();

        var partner = app.PartnerClient(partnerId);
        Assert.Equal("3500", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        var page = await partner.GetFromJsonAsync<JsonElement>("/v1/orders");
        Assert.Equal(1, page.GetProperty("totalPages").GetInt32());
        Assert.Equal([700m, 1000m, 500m], page.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("total").GetDecimal()));
        Assert.Equal([cancelled, waiting, delivered], page.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
        Assert.Equal((3500L, 3500L, 3), await app.MoneyAsync(partnerId));

        var admin = app.Admin();
        var repeatedTopUp = await Json(await admin.PostAsJsonAsync($"/v1/admin/partners/{partnerId}/topups", new { amount = 5000, reference = "invoice/1" }));
        Assert.False(repeatedTopUp.GetProperty("applied").GetBoolean());
        Assert.Equal("3500", repeatedTopUp.GetProperty("balance").GetString());
        var cancel = await admin.PostAsync($"/v1/admin/partners/{partnerId}/orders/{waiting}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("Cancelled", (await Json(cancel)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/v1/admin/partners/{partnerId}/orders/{cancelled}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/v1/admin/partners/{partnerId}/orders/{delivered}/cancel", null)).StatusCode);
        Assert.Equal("4500", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        // The cancelled order's refund was migrated under its new key: refunding it again moves nothing.
        var again = await app.Get<Ledger>().RefundAsync(PartnerAccounts.Account(partnerId), PartnerAccounts.DebitKey(cancelled),
            PartnerAccounts.RefundKey(cancelled), PartnerAccounts.ToMinor(700));
        Assert.Equal(MovementStatus.AlreadyApplied, again.Status);

        var statement = await app.Get<PartnerAccounts>().LedgerAsync(partnerId);
        Assert.Equal(
            [("credit", 5000L, 5000L), ("debit", -500, 4500), ("debit", -1000, 3500), ("debit", -700, 2800), ("refund", 700, 3500), ("refund", 1000, 4500)],
            statement.Select(l => (l.Kind, l.Amount, l.BalanceAfter)));
        Assert.Equal("topup-invoice/1", statement[0].Key);
        Assert.Equal(t0, statement[0].At);

        var placed = await partner.PostAsJsonAsync("/v1/orders", Order(Guid.NewGuid().ToString(), Line(1, 1, "100 ₽")));
        Assert.Equal(HttpStatusCode.OK, placed.StatusCode);
        Assert.Equal((4400L, 4400L, 4), await app.MoneyAsync(partnerId));
        Assert.Equal(4, (await partner.GetFromJsonAsync<JsonElement>("/v1/orders")).GetProperty("data").GetArrayLength());
        // History stays; the old balance row is gone, and with it the sign of a partner still to migrate.
        Assert.Null(await Accounts.FindAsync<PartnerBalanceRow>(pk, PartnerBalanceRow.Key));
        Assert.NotNull(await Accounts.FindAsync<PartnerLedgerRow>(pk, "ledger-debit-" + delivered));
    }

    [Fact]
    public async Task Two_instances_moving_a_partner_with_a_long_history_at_once_move_it_exactly_once()
    {
        var partnerId = await NewPartnerAsync();
        var pk = PartnerAccounts.Partition(partnerId);
        var t0 = app.Time.GetUtcNow().AddDays(-30);
        var orders = Enumerable.Range(0, 70).Select(_ => Guid.NewGuid().ToString()).ToList();
        long balance = 100_000;
        // More rows than one transaction holds (71 old rows: 142 new ones), some of the same instant.
        await SeedOldRowAsync(pk, "ledger-topup-opening", "topup", 100_000, balance, null, t0);
        var at = t0;
        var rows = new List<PartnerLedgerRow>();
        for (var i = 0; i < orders.Count; i++)
        {
            if (i % 3 != 0)
                at = at.AddMinutes(1);
            balance -= 100 + i;
            rows.Add(OldRow(pk, "ledger-debit-" + orders[i], "debit", -(100 + i), balance, orders[i], at));
        }
        foreach (var chunk in rows.Chunk(100))
            await Accounts.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        await Accounts.AddEntityAsync(new PartnerBalanceRow { PartitionKey = pk, Balance = balance, OrderCount = 70 });

        var one = new PartnerLedgerMigration(app.Get<StorageAccount>(), app.Time, NullLogger<PartnerLedgerMigration>.Instance);
        var other = new PartnerLedgerMigration(app.Get<StorageAccount>(), app.Time, NullLogger<PartnerLedgerMigration>.Instance);
        await Task.WhenAll(one.EnsureAsync(partnerId).AsTask(), other.MigratePartitionAsync(pk), one.MigratePartitionAsync(pk));

        var ledger = app.Get<Ledger>();
        var account = PartnerAccounts.Account(partnerId);
        var after = await ledger.BalanceAsync(account);
        Assert.Equal((PartnerAccounts.ToMinor(balance), 71L, 70L), (after.Available, after.Movements, after.Debits));
        var (statement, total) = await ledger.StatementAsync(account, 200, 0);
        Assert.Equal(71, total);
        Assert.Equal(Enumerable.Range(1, 71).Reverse().Select(v => (long)v), statement.Select(s => s.Version));
        Assert.Equal(after.Available, statement.Sum(s => s.Amount));
        Assert.All(statement.Zip(statement.Skip(1)), p => Assert.Equal(p.First.AvailableAfter - p.First.Amount, p.Second.AvailableAfter));
        Assert.Equal((balance, balance, 70), await app.MoneyAsync(partnerId));
        // The old debits are movements under the new keys: a cancel's refund finds them, and applies once.
        var refund = await ledger.RefundAsync(account, PartnerAccounts.DebitKey(orders[5]), PartnerAccounts.RefundKey(orders[5]), PartnerAccounts.ToMinor(105));
        var twice = await ledger.RefundAsync(account, PartnerAccounts.DebitKey(orders[5]), PartnerAccounts.RefundKey(orders[5]), PartnerAccounts.ToMinor(105));
        Assert.Equal((MovementStatus.Applied, MovementStatus.AlreadyApplied), (refund.Status, twice.Status));
        // Migrated once, a late instance finds nothing to do and changes nothing.
        await new PartnerLedgerMigration(app.Get<StorageAccount>(), app.Time, NullLogger<PartnerLedgerMigration>.Instance).MigratePartitionAsync(pk);
        Assert.Equal(72, (await ledger.BalanceAsync(account)).Movements);
        Assert.Equal((balance + 105, balance + 105, 70), await app.MoneyAsync(partnerId));
    }

    [Fact]
    public async Task With_nothing_left_to_migrate_the_start_up_pass_leaves_a_marker_and_requests_check_nothing()
    {
        await RunStartUpMigrationAsync();
        var migration = app.Get<PartnerLedgerMigration>();

        Assert.True(migration.Done);
        Assert.NotNull(await Accounts.FindAsync<MigrationMarkerRow>(PartnerLedgerMigration.MarkerPartition, PartnerLedgerMigration.MarkerKey));
        var (_, partner) = await app.NewPartnerAsync(1000);
        var response = await partner.GetAsync("/v1/balance");
        // The client row (the session check) and the balance row: nothing for the migration.
        Assert.Equal("2", response.Headers.GetValues("X-Storage-Requests").Single());
    }

    /// <summary>What a new deployment's first start does over data of the old layout.</summary>
    private async Task RunStartUpMigrationAsync()
    {
        await Accounts.DeleteEntityAsync(PartnerLedgerMigration.MarkerPartition, PartnerLedgerMigration.MarkerKey);
        await app.Get<PartnerLedgerMigration>().RunAsync(app.Services, CancellationToken.None);
    }

    private async Task<string> NewPartnerAsync()
    {
        var id = "old-" + Guid.NewGuid().ToString("N")[..12];
        await app.Get<ApiClientDirectory>().CreateAsync(ClientKinds.Partner, id, id, Secret);
        return id;
    }

    private static PartnerLedgerRow OldRow(string pk, string rowKey, string kind, long amount, long balanceAfter, string? orderId, DateTimeOffset at) =>
        new() { PartitionKey = pk, RowKey = rowKey, Kind = kind, Amount = amount, BalanceAfter = balanceAfter, OrderId = orderId, At = at };

    private Task SeedOldRowAsync(string pk, string rowKey, string kind, long amount, long balanceAfter, string? orderId, DateTimeOffset at) =>
        Accounts.AddEntityAsync(OldRow(pk, rowKey, kind, amount, balanceAfter, orderId, at));

    private async Task SeedOldOrderAsync(string pk, string partnerId, string orderId, long number, long total, string status, int card,
        DateTimeOffset at, long balanceAfter)
    {
        var rowKey = PartnerAccounts.OrderKey(at, number);
        var order = new TableEntity(pk, rowKey)
        {
            ["OrderId"] = orderId, ["PartnerId"] = partnerId, ["Number"] = number, ["Status"] = status, ["CreatedAt"] = at,
            ["ParticipantEmail"] = "old@example.test", ["ParticipantName"] = "Old Partner", ["ParticipantPhone"] = "79251153242",
            ["Total"] = total, ["LinesJson"] = JsonSerializer.Serialize(new[] { new OrderLine(card, $"Card {card}", "500 ₽", total, 1) }),
            ["CertificatesJson"] = "[]", ["DeliveryBatches"] = status == ECardOrderStatus.Delivered ? 1 : 0,
            ["EmailedBatches"] = status == ECardOrderStatus.Delivered ? 1 : 0,
        };
        if (status == ECardOrderStatus.Cancelled)
            order["CancelId"] = Guid.NewGuid().ToString("N");
        await Accounts.AddEntityAsync(order);
        await Accounts.AddEntityAsync(new ECardOrderIndexRow { PartitionKey = pk, RowKey = PartnerAccounts.IndexKey(orderId), OrderRowKey = rowKey, Fingerprint = "old" });
        await SeedOldRowAsync(pk, "ledger-debit-" + orderId, "debit", -total, balanceAfter, orderId, at);
    }
}
