using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Email;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Print.Accounts;

/// <summary>
/// Refer and earn. A customer's referral code, given at sign-up by a friend, puts a pending referral in the
/// customer's history (in the sign-up transaction, see <see cref="PrintAccounts.RegisterAsync"/>). When the friend
/// makes a first top-up or a first print, the wallet credits the referrer and marks the referral credited:
/// <see cref="PendingReferralOfAsync"/> is where it finds the referral to credit.
/// </summary>
public sealed class Referrals(StorageAccount storage, PrintSettings settings, TimeProvider time)
{
    private TableClient Table => storage.Table(UserDirectory.TableName);

    public async Task<IReadOnlyList<ReferralRow>> HistoryAsync(long referrerId, int limit = int.MaxValue, int offset = 0,
        CancellationToken cancellationToken = default)
    {
        var rows = new List<ReferralRow>();
        var skipped = 0;
        await foreach (var row in Table.QueryAsync<ReferralRow>(AccountKeys.StartsWith(referrerId, AccountKeys.ReferralPrefix),
                           maxPerPage: (int)Math.Min(1000L, (long)offset + limit), cancellationToken: cancellationToken))
        {
            if (skipped++ < offset)
                continue;
            rows.Add(row);
            if (rows.Count >= limit)
                break;
        }
        return rows;
    }

    public async Task<ReferralSummaryResponse> SummaryAsync(long referrerId, CancellationToken cancellationToken = default)
    {
        var rows = await HistoryAsync(referrerId, cancellationToken: cancellationToken);
        var credited = rows.Where(r => r.Status == ReferralStatus.Credited).ToList();
        return new ReferralSummaryResponse(rows.Count, credited.Count, PrintMoney.Rupees(credited.Sum(r => r.AmountMinor)),
            rows.Count(r => r.Status == ReferralStatus.Pending));
    }

    /// <summary>The pending referral that named this customer at sign-up, if any: what the wallet credits on qualifying.</summary>
    public async Task<ReferralRow?> PendingReferralOfAsync(PrintProfile referee, CancellationToken cancellationToken = default)
    {
        if (referee is not { ReferredBy: { } referrerId, ReferralId: { } referralId })
            return null;
        var row = await Table.FindAsync<ReferralRow>(AccountKeys.Partition(referrerId), AccountKeys.Referral(referralId), cancellationToken);
        return row is { Status: ReferralStatus.Pending } ? row : null;
    }

    /// <summary>
    /// Takes one invite from the customer's budget of <see cref="PrintSettings.InvitesPerDay"/> per 24 hours (a
    /// window that starts with the first invite); returns how long until the budget renews when it is spent.
    /// </summary>
    public async Task<(bool Allowed, int Sent, TimeSpan RetryAfter)> TakeInviteAsync(long referrerId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var window = TimeSpan.FromHours(24);
        var partition = AccountKeys.Partition(referrerId);
        // A transition on the budget row: a parallel invite is counted on top, and one whose answer was lost counts once.
        var taken = await Table.ApplyAsync<InviteWindowRow, (bool Allowed, int Sent, TimeSpan RetryAfter)>(partition, AccountKeys.Invites, change =>
        {
            var row = change.Current;
            var next = row is null || now - row.WindowStart >= window
                ? new InviteWindowRow { PartitionKey = partition, RowKey = AccountKeys.Invites, WindowStart = now, Count = 1 }
                : row with { Count = row.Count + 1 };
            if (next.Count > settings.InvitesPerDay)
                return (false, row!.Count, row.WindowStart + window - now);
            change.Write(next);
            return (true, next.Count, TimeSpan.Zero);
        }, cancellationToken);
        return taken.Outcome;
    }

    public static ReferralView View(ReferralRow row) => new(row.Id, row.Status, PrintMoney.Rupees(row.AmountMinor),
        row.CreditedAt is { } at ? PrintTimes.Format(at) : null, PrintTimes.Format(row.CreatedAt));

}

/// <summary>Referral endpoints: customers only.</summary>
public static class ReferralsApi
{
    public static void MapPrintReferrals(this IEndpointRouteBuilder app)
    {
        var referral = app.MapGroup("/referral").WithTags("Print-shop referrals").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.CustomerPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        referral.MapGet("/summary", Summary).WithName("PrintReferralSummary").WithSummary("The customer's referral statistics")
            .WithDescription("Returns the customer's referral counts (friends referred, referrals credited, referrals still pending) and " +
                "the total earned from them in rupees. Customers only, with the bearer token or the sign-in cookie. 401 " +
                "without a valid session; 403 for shopkeepers and admins.");
        referral.MapGet("/history", History).WithName("PrintReferralHistory").WithSummary("The customer's referral history, newest first")
            .WithDescription("Lists the customer's referrals, newest first, a page at a time: `limit` 1 to 100 (default 20) from `offset` 0 " +
                "to 10000 (default 0); each has its status (`pending` until the friend's first top-up or print, then " +
                "`credited`), the bonus in rupees and its dates. Customers only, with the bearer token or the sign-in cookie. " +
                "400 `validation_error` when `limit` or `offset` is out of range; 401 without a valid session; 403 for " +
                "shopkeepers and admins.");
        referral.MapPost("/invite", Invite).WithName("PrintReferralInvite").WithSummary("Invite someone by email with the customer's referral link")
            .WithDescription("Emails an invitation with the customer's referral code and link to `email`; a customer may send a limited " +
                "number per 24 hours (10 by default, counted from the first invite of the window). Customers only, with the " +
                "bearer token or the sign-in cookie (the sign-in cookie also needs the `X-CSRF-Token` header: 403 " +
                "`csrf_token_invalid` without it); a repeat with the same `Idempotency-Key` replays the first answer instead " +
                "of sending again. 400 `validation_error` when `email` is missing, not an email address or the customer's own; " +
                "401 without a valid session; 403 for shopkeepers and admins; 409 when the `Idempotency-Key` was used with a " +
                "different body; 429 `too_many_invites` with `Retry-After` when the invites are spent.").WithIdempotency();
    }

    public static async Task<Ok<ReferralSummaryResponse>> Summary(PrintSession session, Referrals referrals, CancellationToken cancellationToken) =>
        TypedResults.Ok(await referrals.SummaryAsync(session.UserId, cancellationToken));

    public static async Task<Results<Ok<ReferralHistoryResponse>, ErrorResult>> History(
        PrintSession session, Referrals referrals, CancellationToken cancellationToken, [Range(1, 100)] int limit = 20, [Range(0, 10_000)] int offset = 0)
    {
        if ((Check.Range(limit, "limit", 1, 100) ?? Check.Range(offset, "offset", 0, 10_000)) is { } problem)
            return problem;
        var rows = await referrals.HistoryAsync(session.UserId, limit, offset, cancellationToken);
        return TypedResults.Ok(new ReferralHistoryResponse(rows.Select(Referrals.View).ToList()));
    }

    public static async Task<Results<Ok<InviteResponse>, ErrorResult>> Invite(
        InviteRequest body, PrintSession session, PrintAccounts accounts, Referrals referrals, Mailer mailer, PrintSettings settings,
        HttpContext context)
    {
        var email = body.Email?.Trim() ?? "";
        if (AccountsApi.CheckEmail(email, "email") is { } problem)
            return problem;
        if (await accounts.WithIdentifiersAsync(session.Profile, context.RequestAborted) is not { ReferralCode: not null } profile)
            return ApiErrors.Result(PrintSessionMiddleware.SessionEnded);
        if (string.Equals(email, profile.Email, StringComparison.OrdinalIgnoreCase))
            return ApiErrors.BadRequest("You cannot invite yourself: send the invite to a friend's email.", "validation_error");
        var (allowed, _, retryAfter) = await referrals.TakeInviteAsync(session.UserId, context.RequestAborted);
        if (!allowed)
            return RateLimitPolicies.TooManyRequests(context, retryAfter, "too_many_invites",
                $"You can send {settings.InvitesPerDay} invites per 24 hours; try again later.");
        await mailer.EnqueueAsync(AccountEmails.Invite(settings, email, profile.FullName, profile.ReferralCode), cancellationToken: context.RequestAborted);
        return TypedResults.Ok(new InviteResponse(true, "Invite sent."));
    }
}
