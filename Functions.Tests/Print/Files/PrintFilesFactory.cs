using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Files;

/// <summary>The print app with the sandbox provider, a 10% commission and small upload limits (1 MB a file, 2 MB an upload).</summary>
public class PrintFilesFactory : PrintFactory
{
    public PrintFilesFactory()
    {
        With("Payments:Gateway", "sandbox");
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("PLATFORM_COMMISSION", "0.1");
        With("Print:Files:MaxFileMegabytes", "1");
        With("Print:Files:MaxUploadMegabytes", "2");
        With("Print:Files:MaxFilesPerUpload", "5");
        With("Print:Files:Retention", "1.00:00:00");
    }

    public async Task FundAsync(PrintAccount customer, decimal rupees) =>
        Assert.Equal(MovementStatus.Applied, (await Get<Ledger>().CreditAsync(PrintWallets.Account(customer.Id), WalletKeys.Seed + Guid.NewGuid().ToString("N"),
            (long)(rupees * 100), memo: "Test funds")).Status);

    public async Task<decimal> BalanceAsync(PrintAccount customer) =>
        (await Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/balance")).GetProperty("balance").GetDecimal();

    /// <summary>A paid payment order from the wallet (scenario A); the wallet is funded with the amount first.</summary>
    public async Task<long> PaidOrderAsync(PrintAccount customer, decimal amount, string printType = "private", long? shop = null)
    {
        await FundAsync(customer, amount);
        var response = await Bearer(customer).PostAsJsonAsync("/create-payment-order",
            new { amount, use_wallet = true, print_type = printType, shopkeeper_id = shop });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
        Assert.Equal("paid", body.GetProperty("status").GetString());
        return body.GetProperty("id").GetInt64();
    }

    public static MultipartFormDataContent Form(IEnumerable<(string Name, byte[] Content)> files, object? fields = null, string fileField = "files[]")
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, fileField, name);
        }
        foreach (var property in (fields ?? new { }).GetType().GetProperties())
        {
            if (property.GetValue(fields) is { } value)
                form.Add(new StringContent(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!), property.Name);
        }
        return form;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> UploadAsync(PrintAccount customer, IEnumerable<(string Name, byte[] Content)> files,
        object? fields = null)
    {
        var response = await Bearer(customer).PostAsync("/upload", Form(files, fields ?? new { print_type = "private" }));
        return (response.StatusCode, await BodyAsync(response));
    }

    public static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
