using System.Globalization;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Payouts;
using Serverless.Print.Shops;

namespace Serverless.Print.Admin.Stats;

/// <summary><c>GET /admin/dashboard/stats</c>: the counters kept by <see cref="PrintStatsChannel"/>, read in a handful of point reads.</summary>
public static class StatsApi
{
    public static void MapPrintAdminStats(this IEndpointRouteBuilder app)
    {
        var admin = app.MapPrintAdminGroup();
        admin.MapGet("/dashboard/stats", GetDashboardStats).WithName("PrintAdminDashboardStats").WithSummary("Platform statistics (admin)")
            .WithDescription("Platform statistics for today, this month and all time (UTC days): users by role, shops open now, files and pages " +
                             "uploaded, prints confirmed, paid orders and revenue by payment method, refunds and new users, plus the platform's " +
                             "commission, shops' unpaid earnings and pending and processing payouts. Read from running counters, so it costs the " +
                             "same however many users, orders or files there are. Print-shop admins only, and only from ALLOWED_ADMIN_IPS when that " +
                             "is set (403 otherwise).");
    }

    public static async Task<Ok<DashboardStats>> GetDashboardStats(DashboardStatsReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reader.ReadAsync(cancellationToken));

    public static IServiceCollection AddPrintAdminStats(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(StatsKeys.TableName));
        services.AddSingleton<PrintStatsChannel>();
        services.AddSingleton<IOutboxChannel>(sp => sp.GetRequiredService<PrintStatsChannel>());
        services.AddSingleton<PrintUserStats>();
        services.AddSingleton<IPrintProfileListener>(sp => sp.GetRequiredService<PrintUserStats>());
        services.AddSingleton<IPrintAccountCleanup>(sp => sp.GetRequiredService<PrintUserStats>());
        services.AddSingleton<DashboardStatsReader>();
        return services;
    }
}

/// <summary>
/// Reads the dashboard: 8 shards × (total, today, this month) point reads, the 8 commission accounts (live, from the
/// ledger), the 8 open-shops lists and the platform admin, all at once. No table scan: the cost does not grow with
/// users, orders or files.
/// </summary>
public sealed class DashboardStatsReader(StorageAccount storage, PrintEarnings earnings, ShopIndex shops, UserDirectory users,
    IConfiguration configuration, TimeProvider time)
{
    private TableClient Table => storage.Table(StatsKeys.TableName);

    public async Task<DashboardStats> ReadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var total = SumAsync(StatsKeys.Total, cancellationToken);
        var today = SumAsync(StatsKeys.Day(now), cancellationToken);
        var month = SumAsync(StatsKeys.Month(now), cancellationToken);
        var commission = earnings.CommissionAsync(cancellationToken);
        // The open-shops list holds exactly the open shops (kept by the shop index and the sweeper): 8 small queries.
        var open = Task.WhenAll(Enumerable.Range(0, ShopKeys.OpenShards).Select(s => shops.OpenShopsAsync(s, cancellationToken)));
        var admins = AdminsAsync(cancellationToken);
        var (all, day, thisMonth) = (await total, await today, await month);
        return new DashboardStats(
            now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            new UsersByRole(all.Customers, all.Shopkeepers, await admins, all.Customers + all.Shopkeepers + await admins),
            (await open).Sum(s => s.Count),
            Period(day), Period(thisMonth), Period(all),
            PrintMoney.Rupees(await commission),
            PrintMoney.Rupees(all.UnpaidEarningsMinor),
            new CountAndAmount(all.PendingPayouts, PrintMoney.Rupees(all.PendingPayoutsMinor)),
            new CountAndAmount(all.ProcessingPayouts, PrintMoney.Rupees(all.ProcessingPayoutsMinor)));
    }

    private async Task<PrintStatsRow> SumAsync(string rowKey, CancellationToken cancellationToken)
    {
        var rows = await Task.WhenAll(Enumerable.Range(0, StatsKeys.Shards)
            .Select(s => Table.FindAsync<PrintStatsRow>(StatsKeys.Shard(s), rowKey, cancellationToken)));
        var sum = new PrintStatsRow();
        foreach (var row in rows)
            sum.Add(row);
        return sum;
    }

    /// <summary>
    /// Admins are not print registrations: the platform's admin (<c>Admin:Email</c>) counts when its account exists and
    /// holds the admin role (two point reads). Admins created by other means are not counted; there is no role index.
    /// </summary>
    private async Task<long> AdminsAsync(CancellationToken cancellationToken) =>
        configuration["Admin:Email"] is { Length: > 0 } email && await users.FindByLoginAsync(email, cancellationToken) is { } admin
        && admin.RoleList.Contains(Roles.Admin) ? 1 : 0;

    private static PeriodStats Period(PrintStatsRow row) => new(
        row.FilesUploaded, row.PagesUploaded, row.PrintsConfirmed,
        row.WalletOrdersPaid + row.RazorpayOrdersPaid + row.HybridOrdersPaid,
        PrintMoney.Rupees(row.WalletRevenueMinor + row.RazorpayRevenueMinor + row.HybridRevenueMinor),
        new RevenueByMethod(
            new MethodStats(row.WalletOrdersPaid, PrintMoney.Rupees(row.WalletRevenueMinor)),
            new MethodStats(row.RazorpayOrdersPaid, PrintMoney.Rupees(row.RazorpayRevenueMinor)),
            new MethodStats(row.HybridOrdersPaid, PrintMoney.Rupees(row.HybridRevenueMinor))),
        new CountAndAmount(row.Refunds, PrintMoney.Rupees(row.RefundedMinor)),
        row.Customers + row.Shopkeepers);
}

public sealed record DashboardStats(
    [property: JsonPropertyName("date")] string Date,
    [property: JsonPropertyName("users")] UsersByRole Users,
    [property: JsonPropertyName("shops_open_now")] long ShopsOpenNow,
    [property: JsonPropertyName("today")] PeriodStats Today,
    [property: JsonPropertyName("this_month")] PeriodStats ThisMonth,
    [property: JsonPropertyName("all_time")] PeriodStats AllTime,
    [property: JsonPropertyName("commission_earned")] decimal CommissionEarned,
    [property: JsonPropertyName("unpaid_shop_earnings")] decimal UnpaidShopEarnings,
    [property: JsonPropertyName("pending_payouts")] CountAndAmount PendingPayouts,
    [property: JsonPropertyName("processing_payouts")] CountAndAmount ProcessingPayouts);

public sealed record UsersByRole(
    [property: JsonPropertyName("customer")] long Customer,
    [property: JsonPropertyName("shopkeeper")] long Shopkeeper,
    [property: JsonPropertyName("admin")] long Admin,
    [property: JsonPropertyName("total")] long Total);

/// <summary>One period (today, this month, all time; UTC). <c>new_users</c> is registrations less deletions in the period.</summary>
public sealed record PeriodStats(
    [property: JsonPropertyName("files_uploaded")] long FilesUploaded,
    [property: JsonPropertyName("pages_uploaded")] long PagesUploaded,
    [property: JsonPropertyName("prints_confirmed")] long PrintsConfirmed,
    [property: JsonPropertyName("orders_paid")] long OrdersPaid,
    [property: JsonPropertyName("revenue")] decimal Revenue,
    [property: JsonPropertyName("by_method")] RevenueByMethod ByMethod,
    [property: JsonPropertyName("refunds")] CountAndAmount Refunds,
    [property: JsonPropertyName("new_users")] long NewUsers);

public sealed record RevenueByMethod(
    [property: JsonPropertyName("wallet")] MethodStats Wallet,
    [property: JsonPropertyName("razorpay")] MethodStats Razorpay,
    [property: JsonPropertyName("hybrid")] MethodStats Hybrid);

public sealed record MethodStats(
    [property: JsonPropertyName("orders_paid")] long OrdersPaid,
    [property: JsonPropertyName("revenue")] decimal Revenue);

public sealed record CountAndAmount(
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("amount")] decimal Amount);
