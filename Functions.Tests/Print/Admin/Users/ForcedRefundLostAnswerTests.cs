using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Admin.Users;
using Serverless.Print.Wallet;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Print.Accounts;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>
/// A forced refund whose ledger transaction was stored but whose answer was lost (the wallet's debit, or the owed
/// account's credit): the client library retries and meets its own write; the money moves once and the user is deleted.
/// </summary>
public sealed class ForcedRefundLostAnswerTests(LostAnswerTests.Factory app) : IClassFixture<LostAnswerTests.Factory>
{
    [Theory]
    [InlineData("users")]
    [InlineData(ForcedRefunds.TableName)]
    public async Task A_forced_refund_whose_answer_was_lost_moves_the_money_once(string table)
    {
        var admin = await app.AdminAsync();
        var user = await app.SignUpAsync();
        var ledger = app.Get<Ledger>();
        await ledger.CreditAsync(PrintWallets.Account(user.Id), WalletKeys.Topup + "t1", 4_321);
        var owedBefore = (await ledger.BalanceAsync(ForcedRefunds.Owed)).Available;
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch"
                                     && LossyStorageProxy.BodyOf(r) is var body && body.Contains(ForcedRefunds.Key(user.Id), StringComparison.Ordinal)
                                     && body.Contains(table, StringComparison.Ordinal));

        var response = await admin.DeleteUserAsync(user.Id, forceRefund: true);

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(43.21m, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refunded_amount").GetDecimal());
        Assert.Equal(owedBefore + 4_321, (await ledger.BalanceAsync(ForcedRefunds.Owed)).Available);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Bearer(user).GetAsync("/profile")).StatusCode);
    }
}
