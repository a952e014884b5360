using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print;
using Serverless.Print.Files;

namespace Serverless.Tests.Print.Files;

public sealed class PrintFileSeedTests(PrintFilesFactory app) : IClassFixture<PrintFilesFactory>
{
    [Fact]
    public async Task The_seed_puts_one_paid_order_of_two_real_pdfs_in_the_demo_shops_queue_once()
    {
        foreach (var _ in Enumerable.Range(0, 2))
        {
            await new PrintSeed().SeedAsync(app.Services, CancellationToken.None);
            await new FilesSeed().SeedAsync(app.Services, CancellationToken.None);
        }
        var login = await app.CreateClient().PostAsJsonAsync("/login", new { username = PrintSeed.Shopkeeper, password = PrintSeed.Password });
        var shop = app.WithToken((await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!);

        var queue = await shop.GetFromJsonAsync<JsonElement>("/queue");

        var order = Assert.Single(queue.EnumerateArray());
        Assert.Equal((2, 5), (order.GetProperty("file_count").GetInt32(), order.GetProperty("total_pages").GetInt32()));
        var pdf = await shop.GetByteArrayAsync($"/queue/download/{order.GetProperty("first_file_id").GetInt64()}");
        Assert.Equal("%PDF-"u8.ToArray(), pdf[..5]);
        // The ₹500 demo wallet paid ₹5 for it.
        var customerLogin = await app.CreateClient().PostAsJsonAsync("/login", new { username = PrintSeed.Customer, password = PrintSeed.Password });
        var customer = app.WithToken((await customerLogin.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!);
        Assert.Equal(495m, (await customer.GetFromJsonAsync<JsonElement>("/wallet/balance")).GetProperty("balance").GetDecimal());
    }
}

/// <summary>A start cut short after the seed paid its queue order, before the files were stored, is finished by the next.</summary>
public sealed class PrintFileSeedResumeTests(PrintFilesFactory app) : IClassFixture<PrintFilesFactory>
{
    [Fact]
    public async Task The_next_start_stores_the_files_with_the_order_already_paid_and_pays_nothing_more()
    {
        await new PrintSeed().SeedAsync(app.Services, CancellationToken.None);
        var users = app.Get<Serverless.Platform.Identity.UserDirectory>();
        var customer = (await users.FindByLoginAsync(PrintSeed.Customer, CancellationToken.None))!;
        var shop = (await users.FindByLoginAsync(PrintSeed.Shopkeeper, CancellationToken.None))!;
        var paid = await app.Get<Serverless.Print.Payments.PaymentOrders>().CreateAsync(customer.Id, customer.Email, 5_00, useWallet: true,
            new Serverless.Print.Payments.PaymentOrderRow { PrintType = PrintTypes.Queue, ShopkeeperId = shop.Id, Comment = "Demo order: please staple" },
            "", CancellationToken.None);

        await new FilesSeed().SeedAsync(app.Services, CancellationToken.None);
        await new FilesSeed().SeedAsync(app.Services, CancellationToken.None);

        var login = await app.CreateClient().PostAsJsonAsync("/login", new { username = PrintSeed.Shopkeeper, password = PrintSeed.Password });
        var queue = await app.WithToken((await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!)
            .GetFromJsonAsync<JsonElement>("/queue");
        var order = Assert.Single(queue.EnumerateArray());
        Assert.Equal(2, order.GetProperty("file_count").GetInt32());
        Assert.Equal(495_00, (await app.Get<Serverless.Print.Wallet.PrintWallets>().BalanceAsync(customer.Id)).Available);
        Assert.Equal(Serverless.Print.Payments.PaymentOrderStatus.Paid, paid.Order.Status);
    }
}

public sealed class CodeLookupLimitTests(CodeLookupLimitTests.Factory app) : IClassFixture<CodeLookupLimitTests.Factory>
{
    public sealed class Factory : PrintFilesFactory
    {
        public Factory() => With("Print:Files:CodeLookups:PermitLimit", "5");
    }

    [Fact]
    public async Task Lookups_by_code_are_limited_per_caller_so_codes_cannot_be_enumerated()
    {
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var other = await app.SignUpAsync(role: "shopkeeper");

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
            answers.Add((await app.Bearer(shop).GetAsync($"/file/aaaaa{i}/status")).StatusCode);

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.NotFound, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2)), answers);
        var limited = await app.Bearer(shop).PostAsync("/file/aaaaaa/confirm", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter is not null);
        // Another caller has a budget of their own.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(other).GetAsync("/file/aaaaaa/status")).StatusCode);
    }
}
