using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Accounts;
using Serverless.Print.Payouts;
using Serverless.Tests.Print.Admin.Payouts;
using Serverless.Tests.Print.Admin.Users;

namespace Serverless.Tests.Print.Payouts;

/// <summary>A shop still owed money (earnings, or a payout not yet paid) keeps its shopkeeper's account from deletion.</summary>
public sealed class EarningsDeletionTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    private static async Task<(HttpStatusCode Status, string? Code, string? Error)> Answer(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body.TryGetProperty("code", out var code) ? code.GetString() : null,
            body.TryGetProperty("error", out var error) ? error.GetString() : null);
    }

    [Fact]
    public async Task Unpaid_earnings_then_a_pending_payout_refuse_the_deletion_and_a_paid_payout_allows_it()
    {
        var admin = await app.AdminAsync();
        var (shop, share) = await AdminPayoutsHelpers.ShopWithEarningsAsync(app, 200_00);

        var (status, code, error) = await Answer(await admin.DeleteUserAsync(shop.Id));
        Assert.Equal((HttpStatusCode.BadRequest, EarningsDeletionCheck.Code), (status, code));
        Assert.Equal("The shop still has ₹170 of unpaid earnings. They are paid out by the daily payout run; delete the account once they have been paid.", error);
        // The shopkeeper cannot delete it either.
        var own = await Answer(await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = shop.Password }, shop.Token)));
        Assert.Equal((HttpStatusCode.BadRequest, EarningsDeletionCheck.Code), (own.Status, own.Code));

        var payout = await AdminPayoutsHelpers.PayoutOfAsync(app, AdminPayoutsHelpers.Today(app), shop);
        Assert.Equal(share, payout.AmountMinor);
        (status, code, error) = await Answer(await admin.DeleteUserAsync(shop.Id));
        Assert.Equal((HttpStatusCode.BadRequest, EarningsDeletionCheck.Code), (status, code));
        Assert.Contains("₹170 in payouts not yet paid", error);
        Assert.NotNull(await app.Get<PrintAccounts>().FindAsync(shop.Id));

        Assert.Equal(PayoutMark.Updated, (await app.Get<PrintEarnings>().MarkAsync(payout.Id, ShopPayoutStatus.Processing, null)).Outcome);
        Assert.Equal(PayoutMark.Updated, (await app.Get<PrintEarnings>().MarkAsync(payout.Id, ShopPayoutStatus.Paid, "NEFT-1")).Outcome);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteUserAsync(shop.Id)).StatusCode);
        Assert.Null(await app.Get<PrintAccounts>().FindAsync(shop.Id));
    }
}
