using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payouts;

public sealed record WithdrawRequest(
    [property: JsonPropertyName("amount"), Required, Range(100, 999_999_999_999.99)] decimal? Amount,
    [property: JsonPropertyName("bank_account"), Required, RegularExpression(BankAccountFields.AccountNumberPattern),
     Description(BankAccountFields.AccountNumberText)] string? BankAccount,
    [property: JsonPropertyName("ifsc_code"), Required, RegularExpression(BankAccountFields.IfscPattern), Description(BankAccountFields.IfscText)]
    string? IfscCode,
    [property: JsonPropertyName("account_holder_name"), Required, MinLength(1), Description(BankAccountFields.HolderNameText)]
    string? AccountHolderName);

/// <summary>
/// What the document says of a bank account's fields (a withdrawal's and a shop's): the handlers trim each and upper-case
/// the IFSC before checking it, so the patterns allow surrounding spaces and lower case.
/// </summary>
public static class BankAccountFields
{
    public const string AccountNumberPattern = @"^\s*[0-9]{9,18}\s*$";
    public const string IfscPattern = @"^\s*[A-Za-z]{4}0[A-Za-z0-9]{6}\s*$";
    public const string AccountNumberText = "The account number: 9 to 18 digits.";
    public const string IfscText = "The branch's IFSC code, such as BANK0001234: 4 letters, 0, then 6 letters or digits (taken in upper case).";
    public const string HolderNameText = "The account holder's name: 1 to 100 characters once surrounding spaces are trimmed.";
}

public sealed record WithdrawResponse(
    [property: JsonPropertyName("withdrawal_id")] long WithdrawalId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("processing_time")] string ProcessingTime);

public sealed record ShopPayoutView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reference")] string? Reference,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("paid_at")] string? PaidAt);

public sealed record ShopPayoutsResponse(
    [property: JsonPropertyName("payouts")] IReadOnlyList<ShopPayoutView> Payouts,
    [property: JsonPropertyName("unpaid_earnings")] decimal UnpaidEarnings);

/// <summary><c>POST /wallet/withdraw</c> (customers) and <c>GET /shopkeeper/payouts</c> (shopkeepers).</summary>
public static partial class PayoutsApi
{
    public const string ProcessingTime = "2-3 business days";

    public static void MapPrintPayouts(this IEndpointRouteBuilder app)
    {
        var wallet = app.MapGroup("/wallet").WithTags("Print-shop wallet").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.CustomerPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        // The body holds a bank account: a stored response is kept as a secret.
        wallet.MapPost("/withdraw", Withdraw).WithName("PrintWalletWithdraw").WithSummary("Withdraw from the wallet to the bank account").WithIdempotency(storesSecrets: true)
            .WithDescription("Withdraws amount rupees (at least ₹100 as configured by default) from the caller's wallet to a bank account: the " +
                             "amount is held at once and paid out in 2-3 business days, and the answer is the pending withdrawal. Customers only; an" +
                             " Idempotency-Key makes a retry answer the first withdrawal instead of making another (the stored answer is kept as a " +
                             "secret). 400 when amount is missing, has more than 2 decimals or is under the minimum, bank_account is not 9-18 " +
                             "digits, ifsc_code is not an IFSC code, account_holder_name is missing or longer than 100 characters, or the wallet's " +
                             "balance is insufficient (insufficient_balance); 503 when payouts are unavailable, in which case nothing is taken from " +
                             "the wallet.");

        var shop = app.MapGroup("/shopkeeper").WithTags("Print-shop payouts").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.ShopkeeperPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        shop.MapGet("/payouts", ShopPayouts).WithName("PrintShopkeeperPayouts").WithSummary("The shopkeeper's payouts")
            .WithDescription("The calling shop's payouts, newest first (up to 1,000), with their status (pending, processing, paid or failed) and " +
                             "bank reference, and its unpaid_earnings: what it has earned and not yet been paid. Shopkeepers only.");
    }

    public static async Task<Results<Ok<WithdrawResponse>, ErrorResult>> Withdraw(
        WithdrawRequest body, PrintSession session, Withdrawals withdrawals, PrintMoneySettings money, HttpContext context)
    {
        var account = body.BankAccount?.Trim() ?? "";
        var ifsc = body.IfscCode?.Trim().ToUpperInvariant() ?? "";
        var name = body.AccountHolderName?.Trim() ?? "";
        long amountMinor = 0;
        var problem =
            (body.Amount is not { } amount || !Currencies.TryToMinor(amount, PrintMoney.Currency, out amountMinor)
                ? ApiErrors.BadRequest("'amount' must be a positive amount of rupees with at most 2 decimals.", "validation_error") : null)
            ?? (amountMinor < money.WithdrawMinMinor
                ? ApiErrors.BadRequest($"The minimum withdrawal is ₹{PrintMoney.Rupees(money.WithdrawMinMinor).ToString(CultureInfo.InvariantCulture)}.", "validation_error")
                : null)
            ?? (AccountNumber().IsMatch(account) ? null
                : ApiErrors.BadRequest("'bank_account' must be an account number of 9 to 18 digits.", "validation_error"))
            ?? (Ifsc().IsMatch(ifsc) ? null
                : ApiErrors.BadRequest("'ifsc_code' must be an IFSC code such as BANK0001234 (4 letters, 0, then 6 letters or digits).", "validation_error"))
            ?? Check.Required(name, "account_holder_name", 100);
        if (problem is not null)
            return problem;

        var (outcome, withdrawal) = await withdrawals.WithdrawAsync(
            new WithdrawalRequest(session.UserId, amountMinor, account, ifsc, name, session.Profile.Email), context.RequestAborted);
        return outcome switch
        {
            WithdrawOutcome.InsufficientBalance => ApiErrors.BadRequest("Insufficient wallet balance for this withdrawal.", "insufficient_balance"),
            WithdrawOutcome.Unavailable => ApiErrors.Result(new ApiError(503, "payouts_unavailable",
                "Withdrawals are not available right now; nothing was taken from your wallet.")),
            // Accepted: the bank transfer itself takes its time, whatever the payout says at this moment.
            _ => TypedResults.Ok(new WithdrawResponse(withdrawal!.Id, WithdrawalStatus.Pending, PrintMoney.Rupees(amountMinor), ProcessingTime)),
        };
    }

    public static async Task<Ok<ShopPayoutsResponse>> ShopPayouts(PrintSession session, PrintEarnings earnings, CancellationToken cancellationToken)
    {
        var payouts = await earnings.PayoutsAsync(session.UserId, cancellationToken: cancellationToken);
        var balance = await earnings.EarningsAsync(session.UserId, cancellationToken);
        return TypedResults.Ok(new ShopPayoutsResponse(payouts.Select(View).ToList(), PrintMoney.Rupees(balance.Available)));
    }

    public static ShopPayoutView View(ShopPayoutRow row) => new(row.Id, PrintMoney.Rupees(row.AmountMinor), row.Status, row.Reference,
        PrintTimes.Format(row.CreatedAt), row.PaidAt is { } paid ? PrintTimes.Format(paid) : null);


    [GeneratedRegex("^[0-9]{9,18}$")]
    internal static partial Regex AccountNumber();

    [GeneratedRegex("^[A-Z]{4}0[A-Z0-9]{6}$")]
    internal static partial Regex Ifsc();
}

/// <summary>Registers withdrawals, shop earnings and the daily payout run.</summary>
public static class PayoutsRegistration
{
    public static IServiceCollection AddPrintPayouts(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(PrintEarnings.TableName));
        services.AddSingleton<Withdrawals>();
        services.AddSingleton<IPayoutHandler, WithdrawalPayoutHandler>();
        services.AddSingleton<PrintEarnings>();
        services.AddSingleton<IPrintAccountDeletionCheck, EarningsDeletionCheck>();
        services.AddTimerTrigger(PrintEarnings.RunFunction, PrintEarnings.RunSchedule, invocation =>
            invocation.Services.GetRequiredService<PrintEarnings>().RunPayoutsAsync(
                DateOnly.FromDateTime(invocation.ScheduledAt.UtcDateTime), invocation.CancellationToken));
        return services;
    }
}
