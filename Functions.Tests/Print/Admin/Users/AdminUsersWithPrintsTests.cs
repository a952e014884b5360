using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Admin.Users;
using Serverless.Print.Wallet;
using Serverless.Tests.Print.Files;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>A customer with a paid order and a print waiting: the details list them, and a forced deletion is refused before money moves.</summary>
public sealed class AdminUsersWithPrintsTests(PrintFilesFactory app) : IClassFixture<PrintFilesFactory>
{
    [Fact]
    public async Task Details_list_the_orders_and_files_and_a_waiting_print_refuses_even_a_forced_deletion()
    {
        var admin = await app.AdminAsync();
        var customer = await app.SignUpAsync();
        var orderId = await app.PaidOrderAsync(customer, 10);
        var (status, upload) = await app.UploadAsync(customer, [("notes.pdf", TestDocuments.Pdf(3))]);
        Assert.True(status == HttpStatusCode.Created, upload.ToString());
        var ledger = app.Get<Ledger>();
        var owedBefore = (await ledger.BalanceAsync(ForcedRefunds.Owed)).Available;

        var details = await admin.GetFromJsonAsync<JsonElement>($"/admin/users/details?user_id={customer.Id}");
        var refused = await admin.DeleteUserAsync(customer.Id, forceRefund: true);

        Assert.Equal(orderId, details.GetProperty("recent_orders")[0].GetProperty("id").GetInt64());
        Assert.Equal("paid", details.GetProperty("recent_orders")[0].GetProperty("status").GetString());
        Assert.Equal(1, details.GetProperty("total_orders").GetInt32());
        Assert.Equal(upload.GetProperty("file_id").GetInt64(), details.GetProperty("recent_files")[0].GetProperty("id").GetInt64());
        Assert.Equal(1, details.GetProperty("total_files").GetInt32());
        // ₹10 paid, ₹3 printed (3 pages, black and white), ₹7 back in the wallet.
        Assert.Equal(7m, details.GetProperty("wallet").GetProperty("available").GetDecimal());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("prints_pending", await refused.CodeAsync());
        Assert.Equal(700, (await ledger.BalanceAsync(PrintWallets.Account(customer.Id))).Available);
        Assert.Equal(owedBefore, (await ledger.BalanceAsync(ForcedRefunds.Owed)).Available);
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).GetAsync("/profile")).StatusCode);
    }
}
