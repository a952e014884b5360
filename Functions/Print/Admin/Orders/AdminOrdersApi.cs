using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Payments;

namespace Serverless.Print.Admin.Orders;

/// <summary>
/// <c>GET /admin/orders?status=&amp;method=&amp;from=&amp;to=&amp;limit=&amp;offset=</c>: every customer's payment orders,
/// newest first, for print-shop admins (and only from <c>ALLOWED_ADMIN_IPS</c> when that is set).
/// </summary>
public static class AdminOrdersApi
{
    public const int DefaultDays = 31;
    public const int MaxDaysApart = 366;
    public const int MaxOffset = 100_000;

    private static readonly string[] Statuses =
        [PaymentOrderStatus.Created, PaymentOrderStatus.Paid, PaymentOrderStatus.Expired, PaymentOrderStatus.Refunded];

    private static readonly string[] Methods = [PaymentMethods.Wallet, PaymentMethods.Razorpay, PaymentMethods.Hybrid];

    public static IServiceCollection AddPrintAdminOrders(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(PaymentOrderIndex.TableName));
        services.AddSingleton<AdminOrderListing>();
        services.AddSingleton<IStartupTask, PaymentOrderIndexBackfill>();
        return services;
    }

    public static void MapPrintAdminOrders(this IEndpointRouteBuilder app)
    {
        var admin = app.MapPrintAdminGroup();
        admin.MapGet("/orders", List).WithName("PrintAdminOrders")
            .WithSummary("Every payment order, newest first: status (created|paid|expired|refunded) and method (wallet|razorpay|hybrid) " +
                         "filters, creation days from/to (UTC, inclusive; the last 31 days by default, at most 366 days apart), limit 1-100 " +
                         "(50), offset. The filters are applied to the orders after the index of the days is read.")
            .WithDescription("Every customer's payment orders, newest first, one page at a time with no total (a page shorter than limit is the " +
                             "last); an order whose account was deleted shows user_id 0. status (created, paid, expired, refunded) and method " +
                             "(wallet, razorpay, hybrid) filter the orders; from and to are creation days (UTC, YYYY-MM-DD or an ISO date-time), by " +
                             "default the last 31 days, at most 366 days apart; limit is 1-100 (default 50) and offset 0-100,000. Print-shop admins " +
                             "only, and only from ALLOWED_ADMIN_IPS when that is set (403 otherwise). 400 for an unknown status or method, a " +
                             "malformed day, from after to, days too far apart, or limit or offset out of range.");
    }

    public static async Task<Results<Ok<AdminOrdersResponse>, ErrorResult>> List(AdminOrderListing listing, TimeProvider time,
        CancellationToken cancellationToken, string? status = null, string? method = null, string? from = null, string? to = null,
        string? limit = null, string? offset = null)
    {
        var badLimit = Number(limit, "limit", 50, 1, 100, out var pageSize);
        var badOffset = Number(offset, "offset", 0, 0, MaxOffset, out var skip);
        var badFrom = Day(from, "from", out var fromDay);
        var badTo = Day(to, "to", out var toDay);
        if ((OneOf(status, "status", Statuses) ?? OneOf(method, "method", Methods) ?? badLimit ?? badOffset ?? badFrom ?? badTo) is { } problem)
            return problem;
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var last = toDay ?? (fromDay is { } f && f.AddDays(DefaultDays - 1) < today ? f.AddDays(DefaultDays - 1) : today);
        var first = fromDay ?? last.AddDays(1 - DefaultDays);
        if (first > last)
            return Invalid("'from' must not be after 'to'.");
        if (last.DayNumber - first.DayNumber > MaxDaysApart)
            return Invalid($"'from' and 'to' must be at most {MaxDaysApart} days apart.");

        var page = await listing.ListAsync(new AdminOrderQuery(first, last, Blank(status), Blank(method), pageSize, skip), cancellationToken);
        return TypedResults.Ok(new AdminOrdersResponse(page.Select(View).ToList()));
    }

    private static AdminOrderView View(ListedOrder listed)
    {
        var o = listed.Order;
        return new AdminOrderView(o.Id, o.UserId, listed.Username, o.OrderId, o.PaymentId, PrintMoney.Rupees(o.AmountMinor), listed.EffectiveStatus,
            o.PaymentMethod, PrintMoney.Rupees(o.WalletAmountMinor), PrintMoney.Rupees(o.RazorpayAmountMinor), o.PrintType, o.ShopkeeperId,
            PrintTimes.Format(o.CreatedAt), o.PaidAt is { } paid ? PrintTimes.Format(paid) : null, o.ConsumedAt is not null,
            PrintMoney.Rupees(o.RefundedWalletPartMinor + o.RefundedProviderPartMinor));
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static ErrorResult? OneOf(string? value, string field, string[] allowed) =>
        string.IsNullOrEmpty(value) || allowed.Contains(value, StringComparer.Ordinal)
            ? null
            : Invalid($"'{field}' must be one of {string.Join(", ", allowed)}.");

    private static ErrorResult? Number(string? value, string field, int fallback, int min, int max, out int number)
    {
        number = fallback;
        if (string.IsNullOrEmpty(value))
            return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number >= min && number <= max
            ? null
            : Invalid($"'{field}' must be a whole number from {min} to {max}.");
    }

    /// <summary>A day as <c>YYYY-MM-DD</c>, or an ISO date-time whose UTC day is taken.</summary>
    private static ErrorResult? Day(string? value, string field, out DateOnly? day)
    {
        day = null;
        if (string.IsNullOrEmpty(value))
            return null;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            day = date;
        else if (value.Length > 10 && value[10] == 'T'
                 && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            day = DateOnly.FromDateTime(at.UtcDateTime);
        return day is null ? Invalid($"'{field}' must be a date as YYYY-MM-DD (UTC).") : null;
    }

    private static ErrorResult Invalid(string message) => ApiErrors.BadRequest(message, "validation_error");
}
