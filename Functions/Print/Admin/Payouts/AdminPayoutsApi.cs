using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Print.Accounts;
using Serverless.Print.Payouts;

namespace Serverless.Print.Admin.Payouts;

public sealed record AdminPayoutView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("shop_id")] long ShopId,
    [property: JsonPropertyName("shop_name")] string? ShopName,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reference")] string? Reference,
    [property: JsonPropertyName("note")] string? Note,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("updated_at")] string UpdatedAt,
    [property: JsonPropertyName("paid_at")] string? PaidAt);

public sealed record AdminPayoutsResponse(
    [property: JsonPropertyName("payouts")] IReadOnlyList<AdminPayoutView> Payouts,
    [property: JsonPropertyName("total")] int Total);

public sealed record UpdatePayoutRequest(
    [property: JsonPropertyName("payout_id"), Required, Range(typeof(long), "1", "9223372036854775807")] long? PayoutId = null,
    [property: JsonPropertyName("status"), Required, AllowedValues("pending", "processing", "paid", "failed")] string? Status = null,
    [property: JsonPropertyName("reference"), Description("The bank transfer's reference: at most 100 characters once surrounding spaces are trimmed; kept when given.")]
    string? Reference = null,
    [property: JsonPropertyName("note"), Description("The admin's note: at most 500 characters once surrounding spaces are trimmed; kept when given.")]
    string? Note = null);

public sealed record BulkUpdatePayoutsRequest(
    [property: JsonPropertyName("payout_ids"), Required, MinLength(1), MaxLength(AdminPayoutsApi.MaxBulk),
     Description("1 to 100 payout ids, none repeated.")] IReadOnlyList<long>? PayoutIds = null,
    [property: JsonPropertyName("status"), Required, AllowedValues("pending", "processing", "paid", "failed")] string? Status = null,
    [property: JsonPropertyName("reference"), Description("The bank transfer's reference for every payout: at most 100 characters once surrounding spaces are trimmed.")]
    string? Reference = null);

public sealed record BulkPayoutSucceeded(
    [property: JsonPropertyName("payout_id")] long PayoutId,
    [property: JsonPropertyName("status")] string Status);

public sealed record BulkPayoutFailed(
    [property: JsonPropertyName("payout_id")] long PayoutId,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message);

public sealed record BulkUpdatePayoutsResponse(
    [property: JsonPropertyName("succeeded")] IReadOnlyList<BulkPayoutSucceeded> Succeeded,
    [property: JsonPropertyName("failed")] IReadOnlyList<BulkPayoutFailed> Failed);

public sealed record ShopBankAccountRequest(
    [property: JsonPropertyName("bank_account"), Required, RegularExpression(BankAccountFields.AccountNumberPattern),
     Description(BankAccountFields.AccountNumberText)] string? BankAccount = null,
    [property: JsonPropertyName("ifsc_code"), Required, RegularExpression(BankAccountFields.IfscPattern), Description(BankAccountFields.IfscText)]
    string? IfscCode = null,
    [property: JsonPropertyName("account_holder_name"), Required, MinLength(1), Description(BankAccountFields.HolderNameText)]
    string? AccountHolderName = null);

/// <summary>A shop's bank account as anyone sees it: the number masked but for its last four digits.</summary>
public sealed record ShopBankAccountView(
    [property: JsonPropertyName("bank_account")] string BankAccount,
    [property: JsonPropertyName("ifsc_code")] string IfscCode,
    [property: JsonPropertyName("account_holder_name")] string AccountHolderName,
    [property: JsonPropertyName("updated_at")] string UpdatedAt);

/// <summary>
/// The admin's payouts (<c>GET /admin/payouts</c>, <c>PUT /admin/payouts/update</c>, <c>PUT /admin/payouts/bulk-update</c>,
/// <c>GET /admin/payouts/export</c>) and the shop's bank account that the export needs (<c>PUT|GET /shop/bank-account</c>,
/// not in the document).
/// </summary>
public static class AdminPayoutsApi
{
    public const int MaxLimit = 100;
    public const int DefaultLimit = 50;
    public const int MaxBulk = 100;
    public const int MaxWindowDays = 366;

    public static void MapPrintAdminPayouts(this IEndpointRouteBuilder app)
    {
        var admin = app.MapPrintAdminGroup("/admin/payouts");
        admin.MapGet("", List).WithName("PrintAdminPayouts")
            .WithSummary("Shops' payouts, newest first: by status, by shop, or all shops over a window of run days (default the last 90)")
            .WithDescription("Shops' payouts, newest first, with each shop's name and how many match: all shops' over a window of run days, or one " +
                             "shop's (shop_id; all of its payouts unless from or to is given), optionally of one status (pending, processing, paid, " +
                             "failed). from and to are run days (YYYY-MM-DD), by default the last 90 days, spanning at most 366 days; limit is 1-100" +
                             " (default 50) and offset 0 or more. Print-shop admins only, and only from ALLOWED_ADMIN_IPS when that is set (403 " +
                             "otherwise). 400 for an unknown status, a shop_id, day, limit or offset that is not valid, from after to, or a window " +
                             "over 366 days.");
        admin.MapPut("/update", Update).WithName("PrintAdminPayoutUpdate").ProducesErrors(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithSummary("Move one payout on (pending → processing → paid, or to failed, which returns its money to the shop's earnings)")
            .WithDescription("Moves one payout on: pending → processing → paid, or pending or processing → failed, which returns its money to the " +
                             "shop's earnings; reference (at most 100 characters) and note (at most 500) are kept when given, and asking for the " +
                             "status it already has changes nothing. Answers the payout. Print-shop admins only, and only from ALLOWED_ADMIN_IPS " +
                             "when that is set (403 otherwise). 400 for a missing or non-positive payout_id, a missing or unknown status, or a " +
                             "reference or note too long; 404 when there is no such payout; 409 when its status does not allow the move.");
        admin.MapPut("/bulk-update", BulkUpdate).WithName("PrintAdminPayoutsBulkUpdate")
            .WithSummary("Move up to 100 payouts to one status; each is reported on its own, a bad one never stops the rest")
            .WithDescription("Moves 1 to 100 payouts (no id repeated) to one status, each on its own as the single update does, with the same " +
                             "reference (at most 100 characters) when given; the answer lists the payouts that succeeded and those that failed and " +
                             "why (not_found, illegal_transition, unavailable), and one that fails never stops the rest. Print-shop admins only, and" +
                             " only from ALLOWED_ADMIN_IPS when that is set (403 otherwise). 400 when payout_ids is missing, empty, longer than 100 " +
                             "or repeats an id, the status is missing or unknown, or the reference is too long.");
        admin.MapGet("/export", Export).WithName("PrintAdminPayoutsExport")
            .WithSummary("The payouts of a window of run days as CSV, with each shop's masked bank account, for the bank transfers")
            .WithDescription("The payouts of a window of run days as a CSV download (UTF-8, one row per payout, newest first) with each shop's name," +
                             " masked bank account, IFSC and account holder, for the bank transfers; status filters it, and from and to are run days" +
                             " (YYYY-MM-DD), by default the last 90 days, spanning at most 366 days. Cells a spreadsheet would run as a formula are " +
                             "escaped. Print-shop admins only, and only from ALLOWED_ADMIN_IPS when that is set (403 otherwise). 400 for an unknown " +
                             "status, a malformed day, from after to, or a window over 366 days.");

        var shop = app.MapGroup("/shop").WithTags("Print-shop payouts").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.ShopkeeperPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        shop.MapPut("/bank-account", SaveBankAccount).WithName("PrintShopSaveBankAccount")
            .WithSummary("Set the bank account the shop's payouts go to (only its last four digits are kept)")
            .WithDescription("Sets the bank account the calling shop's payouts go to, replacing any set before; only the account number's last four " +
                             "digits are kept, and the answer shows it masked. Shopkeepers only. 400 when bank_account is not 9-18 digits, ifsc_code" +
                             " is not an IFSC code, or account_holder_name is missing or longer than 100 characters.");
        shop.MapGet("/bank-account", BankAccount).WithName("PrintShopBankAccount").ProducesErrors(StatusCodes.Status404NotFound)
            .WithSummary("The shop's bank account, masked but for its last four digits")
            .WithDescription("The calling shop's bank account, masked but for its last four digits, with its IFSC code, account holder and when it " +
                             "was set. Shopkeepers only. 404 when none has been set.");
    }

    public static async Task<Results<Ok<AdminPayoutsResponse>, ErrorResult>> List(
        [FromQuery(Name = "status")] string? status, [FromQuery(Name = "shop_id")] string? shopId, [FromQuery(Name = "limit")] string? limit,
        [FromQuery(Name = "offset")] string? offset, [FromQuery(Name = "from")] string? from, [FromQuery(Name = "to")] string? to,
        AdminPayouts payouts, TimeProvider time, CancellationToken cancellationToken)
    {
        var (query, problem) = Query(status, shopId, from, to, time);
        int take = DefaultLimit, skip = 0;
        problem ??= limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxLimit)
            ? ApiErrors.BadRequest($"'limit' must be a whole number from 1 to {MaxLimit}.", "validation_error") : null;
        problem ??= offset is not null && (!int.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out skip) || skip < 0)
            ? ApiErrors.BadRequest("'offset' must be a whole number of 0 or more.", "validation_error") : null;
        if (problem is not null)
            return problem;
        var (page, total) = await payouts.ListAsync(query!, take, skip, cancellationToken);
        return TypedResults.Ok(new AdminPayoutsResponse(page.Select(View).ToList(), total));
    }

    public static async Task<Results<Ok<AdminPayoutView>, ErrorResult>> Update(
        UpdatePayoutRequest body, PrintEarnings earnings, AdminPayouts payouts, CancellationToken cancellationToken)
    {
        var problem = (body.PayoutId is > 0 ? null : ApiErrors.BadRequest("'payout_id' must be a payout's id.", "validation_error"))
                      ?? Status(body.Status) ?? Optional(body.Reference, "reference", 100) ?? Optional(body.Note, "note", 500);
        if (problem is not null)
            return problem;
        var (outcome, payout) = await earnings.MarkAsync(body.PayoutId!.Value, body.Status!, Trimmed(body.Reference), Trimmed(body.Note), cancellationToken);
        return outcome switch
        {
            PayoutMark.NotFound => ApiErrors.NotFound($"Payout {body.PayoutId} does not exist."),
            PayoutMark.Illegal => ApiErrors.Conflict(IllegalMove(body.PayoutId.Value, payout?.Status, body.Status!), "illegal_transition"),
            _ => TypedResults.Ok(View(await payouts.NamedAsync(payout!, cancellationToken))),
        };
    }

    public static async Task<Results<Ok<BulkUpdatePayoutsResponse>, ErrorResult>> BulkUpdate(
        BulkUpdatePayoutsRequest body, PrintEarnings earnings, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        var ids = body.PayoutIds ?? [];
        var problem = (ids is { Count: >= 1 and <= MaxBulk } ? null
                          : ApiErrors.BadRequest($"'payout_ids' must list 1 to {MaxBulk} payout ids.", "validation_error"))
                      ?? (ids.Distinct().Count() == ids.Count ? null : ApiErrors.BadRequest("'payout_ids' must not repeat an id.", "validation_error"))
                      ?? Status(body.Status) ?? Optional(body.Reference, "reference", 100);
        if (problem is not null)
            return problem;
        var succeeded = new List<BulkPayoutSucceeded>();
        var failed = new List<BulkPayoutFailed>();
        foreach (var id in ids)
        {
            try
            {
                var (outcome, payout) = id > 0 ? await earnings.MarkAsync(id, body.Status!, Trimmed(body.Reference), cancellationToken) : (PayoutMark.NotFound, null);
                switch (outcome)
                {
                    case PayoutMark.Updated or PayoutMark.Unchanged:
                        succeeded.Add(new BulkPayoutSucceeded(id, payout!.Status));
                        break;
                    case PayoutMark.NotFound:
                        failed.Add(new BulkPayoutFailed(id, "not_found", $"Payout {id} does not exist."));
                        break;
                    default:
                        failed.Add(new BulkPayoutFailed(id, "illegal_transition", IllegalMove(id, payout?.Status, body.Status!)));
                        break;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One payout's trouble (storage refusing, a lost race) is reported for it alone; the rest go on.
                logs.CreateLogger(typeof(AdminPayoutsApi)).LogError(ex, "Bulk payout update: payout {Payout} to {Status} failed", id, body.Status);
                failed.Add(new BulkPayoutFailed(id, "unavailable", $"Payout {id} could not be updated just now; try it again."));
            }
        }
        return TypedResults.Ok(new BulkUpdatePayoutsResponse(succeeded, failed));
    }

    public static Results<PayoutsCsvResult, ErrorResult> Export(
        [FromQuery(Name = "status")] string? status, [FromQuery(Name = "from")] string? from, [FromQuery(Name = "to")] string? to,
        TimeProvider time)
    {
        var (query, problem) = Query(status, null, from, to, time);
        return problem is not null ? problem : new PayoutsCsvResult(query!);
    }

    public static async Task<Results<Ok<ShopBankAccountView>, ErrorResult>> SaveBankAccount(
        ShopBankAccountRequest body, PrintSession session, ShopBankAccounts accounts, CancellationToken cancellationToken)
    {
        var number = body.BankAccount?.Trim() ?? "";
        var ifsc = body.IfscCode?.Trim().ToUpperInvariant() ?? "";
        var name = body.AccountHolderName?.Trim() ?? "";
        // The same rules as a wallet withdrawal's bank account.
        var problem = (PayoutsApi.AccountNumber().IsMatch(number) ? null
                          : ApiErrors.BadRequest("'bank_account' must be an account number of 9 to 18 digits.", "validation_error"))
                      ?? (PayoutsApi.Ifsc().IsMatch(ifsc) ? null
                          : ApiErrors.BadRequest("'ifsc_code' must be an IFSC code such as BANK0001234 (4 letters, 0, then 6 letters or digits).", "validation_error"))
                      ?? Check.Required(name, "account_holder_name", 100);
        if (problem is not null)
            return problem;
        return TypedResults.Ok(View(await accounts.SaveAsync(session.UserId, number, ifsc, name, cancellationToken)));
    }

    public static async Task<Results<Ok<ShopBankAccountView>, ErrorResult>> BankAccount(
        PrintSession session, ShopBankAccounts accounts, CancellationToken cancellationToken) =>
        await accounts.FindAsync(session.UserId, cancellationToken) is { } row
            ? TypedResults.Ok(View(row))
            : ApiErrors.NotFound("No bank account has been set for this shop: set one with PUT /shop/bank-account.");

    public static AdminPayoutView View(AdminPayout named)
    {
        var row = named.Payout;
        return new AdminPayoutView(row.Id, row.ShopkeeperId, named.ShopName, PrintMoney.Rupees(row.AmountMinor), row.Status, row.Reference, row.Note,
            PrintTimes.Format(row.CreatedAt), PrintTimes.Format(row.UpdatedAt), row.PaidAt is { } paid ? PrintTimes.Format(paid) : null);
    }

    public static ShopBankAccountView View(ShopBankAccountRow row) =>
        new(row.Masked, row.Ifsc, row.HolderName, PrintTimes.Format(row.UpdatedAt));

    /// <summary>Why a move is refused, naming the moves the payout's status allows.</summary>
    public static string IllegalMove(long payoutId, string? current, string status)
    {
        var next = current switch
        {
            ShopPayoutStatus.Pending => "processing or failed",
            ShopPayoutStatus.Processing => "paid or failed",
            _ => null,
        };
        return next is null
            ? $"Payout {payoutId} is {current}, which is final: it cannot become {status}."
            : $"Payout {payoutId} is {current}: it can become {next}, not {status}.";
    }

    private static (PayoutQuery? Query, ErrorResult? Problem) Query(string? status, string? shopId, string? from, string? to, TimeProvider time)
    {
        if (status is not null && Status(status) is { } bad)
            return (null, bad);
        long? shop = null;
        if (shopId is not null)
        {
            if (!long.TryParse(shopId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
                return (null, ApiErrors.BadRequest("'shop_id' must be a shop's id.", "validation_error"));
            shop = id;
        }
        DateOnly? first = null, last = null;
        if (from is not null)
        {
            if (!DateOnly.TryParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                return (null, ApiErrors.BadRequest("'from' must be a date such as 2026-01-31.", "validation_error"));
            first = day;
        }
        if (to is not null)
        {
            if (!DateOnly.TryParseExact(to, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                return (null, ApiErrors.BadRequest("'to' must be a date such as 2026-01-31.", "validation_error"));
            last = day;
        }
        var end = last ?? Today(time);
        var start = first ?? end.AddDays(-(AdminPayouts.DefaultWindowDays - 1));
        if (start > end)
            return (null, ApiErrors.BadRequest("'from' must not be after 'to'.", "validation_error"));
        if (end.DayNumber - start.DayNumber + 1 > MaxWindowDays)
            return (null, ApiErrors.BadRequest($"The window from 'from' to 'to' may span at most {MaxWindowDays} days.", "validation_error"));
        return (new PayoutQuery(status, shop, start, end, first is not null || last is not null), null);
    }

    private static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    private static ErrorResult? Status(string? status) => status is not null && ShopPayoutStatus.All.Contains(status) ? null
        : ApiErrors.BadRequest("'status' must be one of pending, processing, paid, failed.", "validation_error");

    private static ErrorResult? Optional(string? value, string field, int maxLength) => value is not null && value.Trim().Length > maxLength
        ? ApiErrors.BadRequest($"'{field}' must be at most {maxLength} characters.", "validation_error")
        : null;

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>Registers the admin's payouts and shops' bank accounts.</summary>
public static class AdminPayoutsRegistration
{
    public static IServiceCollection AddPrintAdminPayouts(this IServiceCollection services)
    {
        services.AddSingleton<AdminPayouts>();
        services.AddSingleton<ShopBankAccounts>();
        return services;
    }
}
