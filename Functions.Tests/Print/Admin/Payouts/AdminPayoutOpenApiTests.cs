using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Tests.Print.Payouts;

namespace Serverless.Tests.Print.Admin.Payouts;

public sealed class AdminPayoutOpenApiTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    [Fact]
    public async Task The_openapi_document_describes_the_admin_payouts_with_summaries_and_the_export_as_csv()
    {
        var paths = (await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");

        foreach (var (path, method) in new[]
                 {
                     ("/admin/payouts", "get"), ("/admin/payouts/update", "put"), ("/admin/payouts/bulk-update", "put"),
                     ("/admin/payouts/export", "get"), ("/shop/bank-account", "put"), ("/shop/bank-account", "get"),
                 })
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{method} {path} has no summary");
            Assert.True(operation.GetProperty("responses").TryGetProperty("200", out _), $"{method} {path} documents no 200");
        }
        var export = paths.GetProperty("/admin/payouts/export").GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.True(export.GetProperty("content").TryGetProperty("text/csv", out _), export.ToString());
        var list = paths.GetProperty("/admin/payouts").GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.True(list.GetProperty("content").TryGetProperty("application/json", out _));
    }
}
