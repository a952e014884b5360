using System.Globalization;
using System.Reflection;
using CsvHelper;
using Microsoft.AspNetCore.Http.Metadata;
using Serverless.Print.Accounts;
using Serverless.Print.Payouts;

namespace Serverless.Print.Admin.Payouts;

/// <summary>
/// <c>GET /admin/payouts/export</c>: the payouts of the query as CSV (RFC 4180, UTF-8), written to the response as
/// they are read, never whole in memory. Text cells that a spreadsheet would run as a formula (starting with
/// <c>= + - @</c>, tab or CR) get a leading apostrophe.
/// </summary>
public sealed class PayoutsCsvResult(PayoutQuery query) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IEndpointMetadataProvider
{
    public const string MediaType = "text/csv";

    public static readonly string[] Header =
    [
        "payout_id", "shop_id", "shop_name", "bank_account", "ifsc_code", "account_holder_name", "amount", "status", "created_at", "paid_at",
        "reference",
    ];

    public static readonly CsvWriterOptions Options = new() { Injection = CsvInjection.Escape };

    public PayoutQuery Query { get; } = query;

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => MediaType + "; charset=utf-8";

    public string FileName => $"payouts-{Query.From:yyyy-MM-dd}-{Query.To:yyyy-MM-dd}.csv";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var services = httpContext.RequestServices;
        var payouts = services.GetRequiredService<AdminPayouts>();
        var banks = services.GetRequiredService<ShopBankAccounts>();
        var cancellationToken = httpContext.RequestAborted;
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = ContentType;
        httpContext.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName}\"";
        httpContext.Response.Headers.CacheControl = "no-store";

        var accounts = new Dictionary<long, ShopBankAccountRow?>();
        await using var csv = CsvWriter.Create(httpContext.Response.Body, Options, leaveOpen: true);
        csv.WriteHeader(Header);
        await foreach (var named in payouts.StreamAsync(Query, cancellationToken))
        {
            var row = named.Payout;
            if (!accounts.TryGetValue(row.ShopkeeperId, out var account))
                accounts[row.ShopkeeperId] = account = await banks.FindAsync(row.ShopkeeperId, cancellationToken);
            csv.WriteField(row.Id.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(row.ShopkeeperId.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(named.ShopName);
            csv.WriteField(ShopBankAccounts.Mask(account?.AccountLast4));
            csv.WriteField(account?.Ifsc);
            csv.WriteField(account?.HolderName);
            csv.WriteField(PrintMoney.Rupees(row.AmountMinor).ToString("0.00", CultureInfo.InvariantCulture));
            csv.WriteField(row.Status);
            csv.WriteField(PrintTimes.Format(row.CreatedAt));
            csv.WriteField(row.PaidAt is { } paid ? PrintTimes.Format(paid) : null);
            csv.WriteField(row.Reference);
            await csv.EndRecordAsync(cancellationToken);
        }
        await csv.FlushAsync(cancellationToken);
    }

    /// <summary>Documents the 200 answer as <c>text/csv</c> in the OpenAPI document.</summary>
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [MediaType]));
}
