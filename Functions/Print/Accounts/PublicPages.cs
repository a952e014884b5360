using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;

namespace Serverless.Print.Accounts;

/// <summary>
/// Public pages: app downloads (JSON), the data-deletion page app stores require, and the pages behind the links the
/// emails send (password reset, referral), for deployments whose links point at this app; plus the admin update.
/// </summary>
public static class PublicPagesApi
{
    public static void MapPrintPublicPages(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("").WithTags("Print-shop public pages").WithErrorShape(PrintErrorShape.Instance)
            .AllowAnonymous().RequireRateLimiting(RateLimitPolicies.PerCaller);
        pages.MapGet("/app-downloads", GetAppDownloads).WithName("PrintAppDownloads").WithSummary("The apps' download links")
            .WithDescription("Returns the download links of the shopkeeper Windows app and the customer Android and iOS apps, each with its " +
                "'coming soon' flag (every app is 'coming soon' until an admin changes it). Anyone may call it, without a " +
                "token; the answer may be cached for 60 seconds. 429 when the caller has made too many requests.");
        pages.MapGet("/delete-data", DeleteDataPage).WithName("PrintDeleteDataPage").WithSummary("How to delete your account and data (HTML)")
            .WithDescription("An HTML page, for the app stores' listings, explaining how to delete an account and its data (in the app or " +
                "on the website with the password, or by writing to the support address) and what is deleted and what is kept. " +
                "Anyone may open it, without a token.").ProducesHtml(notFoundPage: false);
        // The same path as POST /reset-password: the page the email links to, which posts to the API beside it.
        pages.MapGet("/reset-password", ResetPasswordPage.Render).WithName("PrintResetPasswordPage")
            .WithSummary("The page a password-reset link opens: a new password for the link's token (HTML)")
            .WithDescription("The HTML page a password-reset email links to: a form for the new password, typed twice, that sends it with " +
                "the link's `token` to POST /reset-password and shows the answer. Anyone may open it, without a token; without " +
                "a `token` in the query the answer is a 400 HTML page saying the link is incomplete.")
            .Produces<string>(StatusCodes.Status200OK, "text/html").Produces<string>(StatusCodes.Status400BadRequest, "text/html");
        pages.MapGet("/r/{code}", ReferralPage.Render).WithName("PrintReferralPage")
            .WithSummary("The page a referral link opens: the code to sign up with and the apps (HTML)")
            .WithDescription("The HTML page a referral link opens: the invitation, the referral `code` to enter at sign-up (in capitals) " +
                "and where to get the customer apps. Anyone may open it, without a token; it does not check whether the code " +
                "belongs to anyone (sign-up does), but a code that is not 8 letters and digits of the referral alphabet (no I, " +
                "O, 0 or 1) answers a 404 HTML page.")
            .Produces<string>(StatusCodes.Status200OK, "text/html").Produces<string>(StatusCodes.Status404NotFound, "text/html");

        var admin = app.MapPrintAdminGroup();
        admin.MapPut("/app-downloads", UpdateAppDownloads).WithName("PrintUpdateAppDownloads").WithSummary("Change the apps' download links (admin)")
            .WithDescription("Changes the apps' download links and 'coming soon' flags: a field left out or null keeps its value, an empty " +
                "string clears a link, and the answer is the links as stored. Admins only, with the bearer token or the " +
                "sign-in cookie (the sign-in cookie also needs the `X-CSRF-Token` header: 403 `csrf_token_invalid` without " +
                "it), and only from an allowed address when ALLOWED_ADMIN_IPS is set. 400 `validation_error` when a link is " +
                "not an https:// URL of at most 2048 characters; 401 without a valid session; 403 for other roles or a " +
                "disallowed address.");
    }

    public static async Task<Ok<AppDownloads>> GetAppDownloads(AppDownloadsStore store, HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=60";
        return TypedResults.Ok((await store.GetAsync(context.RequestAborted)).View());
    }

    public static async Task<Results<Ok<AppDownloads>, ErrorResult>> UpdateAppDownloads(
        UpdateAppDownloadsRequest body, AppDownloadsStore store, CancellationToken cancellationToken)
    {
        var problem = Url(body.WindowsShopkeeperUrl, "windows_shopkeeper_url") ?? Url(body.AndroidCustomerUrl, "android_customer_url")
                      ?? Url(body.IosCustomerUrl, "ios_customer_url");
        if (problem is not null)
            return problem;
        return TypedResults.Ok((await store.UpdateAsync(body, cancellationToken)).View());
    }

    public static ContentHttpResult DeleteDataPage(PrintSettings settings, HttpContext context)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        context.Response.Headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        var app = WebUtility.HtmlEncode(settings.AppName);
        var support = WebUtility.HtmlEncode(settings.SupportEmail);
        var html = $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Delete your {{app}} data</title>
            <style nonce="{{nonce}}">body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.6rem}li{margin:.4rem 0}</style>
            </head>
            <body>
            <h1>Delete your {{app}} account and data</h1>
            <p>You can delete your account and the data that belongs to it at any time.</p>
            <h2>In the app or on the website</h2>
            <ol>
            <li>Sign in to {{app}}.</li>
            <li>Open <strong>Profile</strong> and choose <strong>Delete Account</strong>.</li>
            <li>Confirm with your password.</li>
            </ol>
            <h2>By email</h2>
            <p>If you cannot sign in, write to <a href="mailto:{{support}}">{{support}}</a> from the email address of your account and ask for its deletion. We answer within 30 days.</p>
            <h2>What is deleted, and what is kept</h2>
            <ul>
            <li><strong>Deleted at once:</strong> your profile (name, username, email, mobile number, shop details), your uploaded files, password-reset links, your referral history and your payout records.</li>
            <li><strong>Kept:</strong> records of payments made, without any link to you, as tax and accounting law requires.</li>
            </ul>
            </body>
            </html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }

    private static ErrorResult? Url(string? value, string field)
    {
        if (value is null || value.Trim().Length == 0)
            return null;
        if (value.Length > 2048 || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            return ApiErrors.BadRequest($"'{field}' must be an https:// URL (or an empty string to clear it).", "validation_error");
        return null;
    }
}

/// <summary>The app download links the public Download Apps page shows; one row, changed by admins.</summary>
public sealed record AppDownloadsRow : ITableEntity
{
    public string PartitionKey { get; set; } = AppDownloadsStore.Partition;
    public string RowKey { get; set; } = AppDownloadsStore.Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string WindowsShopkeeperUrl { get; set; } = "";
    public string AndroidCustomerUrl { get; set; } = "";
    public string IosCustomerUrl { get; set; } = "";
    public bool WindowsComingSoon { get; set; } = true;
    public bool AndroidComingSoon { get; set; } = true;
    public bool IosComingSoon { get; set; } = true;

    public AppDownloads View() => new(WindowsShopkeeperUrl, AndroidCustomerUrl, IosCustomerUrl, WindowsComingSoon, AndroidComingSoon, IosComingSoon);
}

public sealed class AppDownloadsStore(StorageAccount storage)
{
    public const string TableName = "printconfig";
    public const string Partition = "app-downloads";
    public const string Row = "current";

    private TableClient Table => storage.Table(TableName);

    /// <summary>The links as set, or every app "coming soon" before an admin sets any.</summary>
    public async Task<AppDownloadsRow> GetAsync(CancellationToken cancellationToken = default) =>
        await Table.FindAsync<AppDownloadsRow>(Partition, Row, cancellationToken) ?? new AppDownloadsRow();

    /// <summary>Applies the fields given, conditional on the row as read (another admin's save at the same moment is kept).</summary>
    public async Task<AppDownloadsRow> UpdateAsync(UpdateAppDownloadsRequest changes, CancellationToken cancellationToken = default)
    {
        var updated = await Table.ApplyAsync<AppDownloadsRow, AppDownloadsRow>(Partition, Row, change =>
        {
            var current = change.Current ?? new AppDownloadsRow();
            var next = current with
            {
                WindowsShopkeeperUrl = changes.WindowsShopkeeperUrl?.Trim() ?? current.WindowsShopkeeperUrl,
                AndroidCustomerUrl = changes.AndroidCustomerUrl?.Trim() ?? current.AndroidCustomerUrl,
                IosCustomerUrl = changes.IosCustomerUrl?.Trim() ?? current.IosCustomerUrl,
                WindowsComingSoon = changes.WindowsComingSoon ?? current.WindowsComingSoon,
                AndroidComingSoon = changes.AndroidComingSoon ?? current.AndroidComingSoon,
                IosComingSoon = changes.IosComingSoon ?? current.IosComingSoon,
            };
            change.Write(next);
            return next;
        }, cancellationToken);
        return updated.Row ?? updated.Outcome;
    }
}
