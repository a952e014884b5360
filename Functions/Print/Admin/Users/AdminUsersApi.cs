using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Files;
using Serverless.Print.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Print.Admin.Users;

/// <summary>Admin user management (document 004, admin endpoints): list and search users, one user's details, deletion.</summary>
public static class AdminUsersApi
{
    public const int DefaultLimit = 50, MaxLimit = 100, RecentCount = 10;

    public static IServiceCollection AddPrintAdminUsers(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(UserIndexKeys.TableName).Table(ForcedRefunds.TableName));
        services.AddSingleton<PrintUserIndex>();
        services.AddSingleton<IPrintProfileListener>(sp => sp.GetRequiredService<PrintUserIndex>());
        services.AddSingleton<IPrintAccountCleanup>(sp => sp.GetRequiredService<PrintUserIndex>());
        services.AddSingleton<PrintUserIndexBackfill>();
        services.AddSingleton<IStartupTask>(sp => sp.GetRequiredService<PrintUserIndexBackfill>());
        services.AddSingleton<ForcedRefunds>();
        return services;
    }

    public static void MapPrintAdminUsers(this IEndpointRouteBuilder app)
    {
        var admin = app.MapPrintAdminGroup("/admin/users");
        admin.MapGet("/", ListUsers).WithName("PrintAdminUsers")
            .WithSummary("Users, newest first (limit 1-100, default 50), filtered by role and by a prefix of username, email or phone")
            .WithDescription("Users, newest first, and how many match: all of them or those of one role (customer, shopkeeper or admin), or those " +
                             "whose username or email (case-insensitive) or phone starts with search (at most 254 characters). limit is 1-100 " +
                             "(default 50) and offset 0-1,000,000. Print-shop admins only, and only from ALLOWED_ADMIN_IPS when that is set (403 " +
                             "otherwise). 400 for an unknown role, a search longer than 254 characters, or limit or offset out of range.");
        admin.MapGet("/details", UserDetails).WithName("PrintAdminUserDetails").ProducesErrors(StatusCodes.Status404NotFound)
            .WithSummary("One user: profile, wallet, the 10 latest payment orders and files, referral stats")
            .WithDescription("One user by user_id: the whole profile, the wallet (available and held), the 10 latest payment orders and files with " +
                             "their totals, and referral stats. Print-shop admins only, and only from ALLOWED_ADMIN_IPS when that is set (403 " +
                             "otherwise). 400 when user_id is missing or not a positive whole number; 404 when there is no such user.");
        admin.MapPost("/delete", DeleteUser).WithName("PrintAdminDeleteUser").RequiresBody().ProducesErrors(StatusCodes.Status404NotFound)
            .WithSummary("Delete a non-admin account as self-deletion does; force_refund moves a wallet's available balance to the forced refunds owed account first")
            .WithDescription("Deletes a user's account as self-deletion does (payment orders stay as payment records). A wallet with money available" +
                             " is refused unless force_refund is true, which first moves that balance to the forced refunds owed account; money held" +
                             " for payments in progress always refuses, as do the other checks self-deletion makes. Print-shop admins only, and only" +
                             " from ALLOWED_ADMIN_IPS when that is set (403 otherwise). 400 when user_id is missing or not positive, is the caller's" +
                             " own, or the wallet or another check refuses (with its code); 403 for an admin account; 404 when there is no such " +
                             "user.");
    }

    public static async Task<Results<Ok<AdminUsersResponse>, ErrorResult>> ListUsers(
        PrintUserIndex index, PrintAccounts accounts, CancellationToken cancellationToken,
        string? role = null, [StringLength(254)] string? search = null, [Range(1, MaxLimit)] int limit = DefaultLimit,
        [Range(0, 1_000_000)] int offset = 0)
    {
        if ((Check.Range(limit, "limit", 1, MaxLimit) ?? Check.Range(offset, "offset", 0, 1_000_000)) is { } problem)
            return problem;
        if (role is { Length: > 0 } && !UserIndexKeys.Roles.Contains(role))
            return ApiErrors.BadRequest($"'role' must be one of: {string.Join(", ", UserIndexKeys.Roles)}.", "validation_error");
        if (search is { Length: > 254 })
            return ApiErrors.BadRequest("'search' must be at most 254 characters.", "validation_error");
        var roleFilter = role is { Length: > 0 } ? role : null;
        var page = string.IsNullOrWhiteSpace(search)
            ? await index.ListAsync(roleFilter, limit, offset, cancellationToken)
            : await index.SearchAsync(search.Trim(), roleFilter, limit, offset, cancellationToken);
        // The index says who and in which order; the profiles say what they are now (a shop's is_open changes often).
        var profiles = await Task.WhenAll(page.Hits.Select(async hit =>
            await accounts.FindProfileAsync(hit.UserId, cancellationToken) is { } p ? await accounts.WithIdentifiersAsync(p, cancellationToken) : null));
        return TypedResults.Ok(new AdminUsersResponse(profiles.OfType<PrintProfile>().Select(AdminUserView.Of).ToList(), page.Total));
    }

    public static async Task<Results<Ok<AdminUserDetailsResponse>, ErrorResult>> UserDetails(
        [FromQuery(Name = "user_id")] string? userId, PrintAccounts accounts, PrintWallets wallets, PaymentOrders orders, PrintFiles files,
        Referrals referrals, CancellationToken cancellationToken)
    {
        if (UserIdProblem(userId, out var id) is { } problem)
            return problem;
        if (await accounts.FindAsync(id, cancellationToken) is not var (_, profile))
            return ApiErrors.NotFound($"User {id} not found.");
        var balance = wallets.BalanceAsync(id, cancellationToken);
        var recentOrders = orders.ListAsync(id, RecentCount, 0, cancellationToken);
        var recentFiles = files.CustomerFilesAsync(id, RecentCount, 0, cancellationToken);
        var referral = referrals.SummaryAsync(id, cancellationToken);
        var (orderPage, orderTotal) = await recentOrders;
        var (filePage, fileTotal) = await recentFiles;
        return TypedResults.Ok(new AdminUserDetailsResponse(
            AdminUserProfileView.Of(profile),
            new AdminWalletView(PrintMoney.Rupees((await balance).Available), PrintMoney.Rupees((await balance).Held)),
            orderPage.Select(PaymentOrderStatusResponse.Of).ToList(), orderTotal,
            filePage.Select(PrintFileView.Of).ToList(), fileTotal,
            await referral));
    }

    public static async Task<Results<Ok<AdminDeleteUserResponse>, ErrorResult>> DeleteUser(
        AdminDeleteUserRequest? body, PrintSession session, PrintAccounts accounts, PrintWallets wallets, ForcedRefunds refunds,
        IEnumerable<IPrintAccountDeletionCheck> checks, CancellationToken cancellationToken)
    {
        if (body?.UserId is not { } id || id <= 0)
            return ApiErrors.BadRequest("'user_id' is required: the numeric id of the user to delete.", "validation_error");
        if (id == session.UserId)
            return ApiErrors.BadRequest("You cannot delete your own account here.", "cannot_delete_self");
        if (await accounts.FindAsync(id, cancellationToken) is not var (user, profile))
            return ApiErrors.NotFound($"User {id} not found.");
        if (profile.Role == Roles.Admin || user.RoleList.Contains(Roles.Admin))
            return ApiErrors.Result(new ApiError(403, "forbidden", "Admin accounts cannot be deleted through this endpoint."));

        var balance = await wallets.BalanceAsync(id, cancellationToken);
        long refunded = 0;
        if (balance.Available > 0 || balance.Held > 0)
        {
            if (body.ForceRefund != true || balance.Held > 0)
                return ApiErrors.BadRequest(WalletRefusal(balance.Available, balance.Held), WalletDeletionCheck.Code);
            // Everything else that could keep the account is asked before money moves, so a refused deletion moves none.
            foreach (var check in checks.Where(c => c is not WalletDeletionCheck))
            {
                if (await check.RefusalAsync(id, cancellationToken) is { } refusal)
                    return ApiErrors.BadRequest(refusal.Message, refusal.Code);
            }
            refunded = await refunds.MoveToOwedAsync(user, profile, cancellationToken);
        }
        if (await accounts.DeleteAsync(user, profile, cancellationToken) is { } refused)
            return ApiErrors.BadRequest(refused.Code == WalletDeletionCheck.Code && refunded > 0
                ? "The user's wallet received money after its forced refund; that money must be withdrawn before the account can be deleted."
                : refused.Message,
                refused.Code);
        return TypedResults.Ok(new AdminDeleteUserResponse("User deleted successfully", id, PrintMoney.Rupees(refunded)));
    }

    private static string WalletRefusal(long available, long held) => held > 0
        ? $"The user's wallet holds {Rupees(held)} for payments in progress (and {Rupees(available)} available): it cannot be deleted until they finish."
        : $"The user's wallet still holds {Rupees(available)}. Send \"force_refund\": true to move it to the forced refunds owed account and delete the user.";

    private static string Rupees(long paise) => "₹" + PrintMoney.Rupees(paise).ToString("0.##", CultureInfo.InvariantCulture);

    private static ErrorResult? UserIdProblem(string? value, out long id)
    {
        id = 0;
        if (string.IsNullOrWhiteSpace(value))
            return ApiErrors.BadRequest("'user_id' is required.", "validation_error");
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0
            ? null
            : ApiErrors.BadRequest("'user_id' must be a positive whole number.", "validation_error");
    }
}
