using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Files;
using Serverless.Print.Files.Inspection;
using Serverless.Print.Payouts;

namespace Serverless.Tests.Print.Files;

public sealed class PrintFilesTests(PrintFilesFactory app) : IClassFixture<PrintFilesFactory>
{
    private static (string, byte[]) Pdf(int pages, string name = "notes.pdf") => (name, TestDocuments.Pdf(pages));

    [Fact]
    public async Task A_private_upload_uses_the_paid_order_returns_the_excess_and_a_shop_prints_it_by_code()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var orderId = await app.PaidOrderAsync(customer, 10);
        var content = TestDocuments.Pdf(3);

        var (status, upload) = await app.UploadAsync(customer, [("notes.pdf", content)], new { print_type = "private", copies = 2, comment = "staple" });

        Assert.True(status == HttpStatusCode.Created, upload.ToString());
        // 3 pages × 2 copies × ₹1 (black and white): ₹6 of the ₹10 order; ₹4 back to the wallet at once.
        Assert.Equal((3, 6m, orderId, 4m), (upload.GetProperty("num_pages").GetInt32(), upload.GetProperty("total_cost").GetDecimal(),
            upload.GetProperty("payment_order_id").GetInt64(), upload.GetProperty("refunded_to_wallet").GetDecimal()));
        Assert.Equal(JsonValueKind.Null, upload.GetProperty("queue_position").ValueKind);
        var code = upload.GetProperty("code").GetString()!;
        Assert.Matches("^[A-Za-z0-9]{6}$", code);
        Assert.Equal(4m, await app.BalanceAsync(customer));

        var mine = await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/my-files");
        var file = mine.GetProperty("files")[0];
        Assert.Equal((code, "uploaded", "notes.pdf", 2, "staple"), (file.GetProperty("code").GetString(), file.GetProperty("status").GetString(),
            file.GetProperty("file_name").GetString(), file.GetProperty("copies").GetInt32(), file.GetProperty("comment").GetString()));
        Assert.Equal(content, await app.Bearer(customer).GetByteArrayAsync($"/file/{code}"));
        Assert.Equal(content, await app.Bearer(shop).GetByteArrayAsync($"/file/{code}"));

        var started = await app.Bearer(shop).PostAsync($"/file/{code}/print-started", null);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("printing", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/file/{code}/status")).GetProperty("status").GetString());
        var confirmed = await app.Bearer(shop).PostAsync($"/file/{code}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal("downloaded", (await PrintFilesFactory.BodyAsync(confirmed)).GetProperty("status").GetString());

        // The content is gone, the shop earned 90% of ₹6, and the print is in its history.
        Assert.Equal(HttpStatusCode.Gone, (await app.Bearer(shop).GetAsync($"/file/{code}")).StatusCode);
        Assert.Equal(540, (await app.Get<PrintEarnings>().EarningsAsync(shop.Id)).Available);
        var history = await app.Bearer(shop).GetFromJsonAsync<JsonElement>("/shop/history");
        Assert.Equal((code, 6m, 5.4m), (history.GetProperty("history")[0].GetProperty("code").GetString(),
            history.GetProperty("history")[0].GetProperty("total_cost").GetDecimal(), history.GetProperty("history")[0].GetProperty("earned").GetDecimal()));
        // Confirming again changes nothing and credits nothing more.
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsync($"/file/{code}/confirm", null)).StatusCode);
        Assert.Equal(540, (await app.Get<PrintEarnings>().EarningsAsync(shop.Id)).Available);
        Assert.Equal(HttpStatusCode.Conflict, (await app.Bearer(customer).PostAsync($"/withdraw/{upload.GetProperty("file_id").GetInt64()}", null)).StatusCode);
    }

    [Fact]
    public async Task Calculate_cost_counts_the_pages_of_every_kind_of_file()
    {
        var customer = await app.SignUpAsync();
        var response = await app.Bearer(customer).PostAsync("/calculate-cost", PrintFilesFactory.Form(
            [Pdf(4), ("photo.png", TestDocuments.Png()), ("report.docx", TestDocuments.Docx(5)), ("deck.pptx", TestDocuments.Pptx(3))],
            new { copies = 2, color_mode = "color" }));
        var body = await PrintFilesFactory.BodyAsync(response);

        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal([4, 1, 5, 3], body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("num_pages").GetInt32()));
        // (4 + 1 + 5 + 3) pages × 2 copies × ₹10 (colour).
        Assert.Equal((13, 10m, 260m), (body.GetProperty("total_pages").GetInt32(), body.GetProperty("price_per_page").GetDecimal(),
            body.GetProperty("total_cost").GetDecimal()));
    }

    [Fact]
    public async Task An_upload_needs_a_paid_unused_order_that_covers_it()
    {
        var customer = await app.SignUpAsync();
        var (none, noneBody) = await app.UploadAsync(customer, [Pdf(2)]);
        Assert.Equal(HttpStatusCode.PaymentRequired, none);
        Assert.Contains("POST /create-payment-order", noneBody.GetProperty("error").GetString());

        var small = await app.PaidOrderAsync(customer, 1);
        var (tooSmall, tooSmallBody) = await app.UploadAsync(customer, [Pdf(2)], new { print_type = "private", payment_order_id = small });
        Assert.Equal(HttpStatusCode.PaymentRequired, tooSmall);
        Assert.Contains("does not cover", tooSmallBody.GetProperty("error").GetString());

        var exact = await app.PaidOrderAsync(customer, 2);
        Assert.Equal(HttpStatusCode.Created, (await app.UploadAsync(customer, [Pdf(2)], new { print_type = "private", payment_order_id = exact })).Status);
        var (used, usedBody) = await app.UploadAsync(customer, [Pdf(2)], new { print_type = "private", payment_order_id = exact });
        Assert.Equal(HttpStatusCode.Conflict, used);
        Assert.Equal("payment_order_used", usedBody.GetProperty("code").GetString());
        // The ₹1 order does not cover two pages: nothing else matches.
        Assert.Equal(HttpStatusCode.PaymentRequired, (await app.UploadAsync(customer, [Pdf(2)])).Status);
        var (wrongType, _) = await app.UploadAsync(customer, [Pdf(1)], new { print_type = "queue", shop_id = 1, payment_order_id = small });
        Assert.Equal(HttpStatusCode.BadRequest, wrongType);
    }

    [Fact]
    public async Task Bad_files_and_forms_are_refused_with_what_is_wrong()
    {
        var customer = await app.SignUpAsync();
        await app.PaidOrderAsync(customer, 50);

        async Task<(HttpStatusCode, string?)> Upload(IEnumerable<(string, byte[])> files, object? fields = null)
        {
            var (status, body) = await app.UploadAsync(customer, files, fields);
            return (status, body.ValueKind == JsonValueKind.Object ? body.GetProperty("error").GetString() : null);
        }

        Assert.Equal((HttpStatusCode.BadRequest, PrintFileInspector.PageCountUnavailable), await Upload([("lo.docx", TestDocuments.Docx(null))]));
        var (lying, lyingError) = await Upload([("fake.pdf", TestDocuments.Png())]);
        Assert.Equal(HttpStatusCode.BadRequest, lying);
        Assert.Contains("fake.pdf", lyingError);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([("empty.pdf", [])])).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([("notes.txt", "hello"u8.ToArray())])).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([("bomb.docx", TestDocuments.ZipBombDocx())])).Item1);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Upload([("big.pdf", new byte[1024 * 1024 + 1])])).Item1);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge,
            (await Upload(Enumerable.Range(0, 3).Select(i => ($"part{i}.pdf", new byte[900 * 1024])))).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload(Enumerable.Range(0, 6).Select(i => Pdf(1, $"f{i}.pdf")))).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([Pdf(1)], new { print_type = "later" })).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([Pdf(1)], new { print_type = "private", copies = "many" })).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([Pdf(1)], new { print_type = "queue" })).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload([])).Item1);
        var json = await app.Bearer(customer).PostAsJsonAsync("/upload", new { print_type = "private" });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        // Nothing was used: the order still pays for a good upload.
        Assert.Equal(HttpStatusCode.Created, (await app.UploadAsync(customer, [Pdf(1)])).Status);
    }

    [Fact]
    public async Task A_queue_order_is_listed_for_its_shop_and_cancelled_before_printing_with_one_refund()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var other = await app.SignUpAsync(role: "shopkeeper");
        var orderId = await app.PaidOrderAsync(customer, 20, "queue", shop.Id);
        Assert.Equal(HttpStatusCode.Created, (await app.Bearer(customer).PostAsJsonAsync("/devices", new { fcm_token = "device-" + customer.Id })).StatusCode);

        var (status, upload) = await app.UploadAsync(customer, [Pdf(2, "a.pdf"), Pdf(3, "b.pdf")], new { print_type = "queue", shop_id = shop.Id });
        Assert.True(status == HttpStatusCode.Created, upload.ToString());
        Assert.Equal((5, 5m, 1, 2), (upload.GetProperty("num_pages").GetInt32(), upload.GetProperty("total_cost").GetDecimal(),
            upload.GetProperty("queue_position").GetInt32(), upload.GetProperty("files").GetArrayLength()));
        Assert.Equal(15m, await app.BalanceAsync(customer));
        var firstFile = upload.GetProperty("file_id").GetInt64();

        var queue = await app.Bearer(shop).GetFromJsonAsync<JsonElement>("/queue");
        Assert.Equal((orderId, firstFile, 2), (queue[0].GetProperty("order_group_id").GetInt64(), queue[0].GetProperty("first_file_id").GetInt64(),
            queue[0].GetProperty("file_count").GetInt32()));
        Assert.Equal(2, (await app.Bearer(shop).GetFromJsonAsync<JsonElement>($"/queue/{orderId}/files")).GetArrayLength());
        Assert.Equal(TestDocuments.Pdf(2).Length, (await app.Bearer(shop).GetByteArrayAsync($"/queue/download/{firstFile}")).Length);
        Assert.Equal(0, (await app.Bearer(other).GetFromJsonAsync<JsonElement>("/queue")).GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(other).GetAsync($"/queue/download/{firstFile}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(other).PostAsJsonAsync($"/queue/{firstFile}/cancel", new { reason = "no" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(other).GetAsync($"/file/{upload.GetProperty("code").GetString()}")).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await app.Bearer(shop).PostAsJsonAsync($"/queue/{firstFile}/cancel", new { reason = " " })).StatusCode);
        var cancel = await app.Bearer(shop).PostAsJsonAsync($"/queue/{firstFile}/cancel", new { reason = "Printer out of order. Please try another shop." });
        var cancelled = await PrintFilesFactory.BodyAsync(cancel);
        Assert.True(cancel.StatusCode == HttpStatusCode.OK, cancelled.ToString());
        Assert.Equal((5m, 2), (cancelled.GetProperty("refund_amount").GetDecimal(), cancelled.GetProperty("cancelled_files").GetArrayLength()));
        Assert.Equal(20m, await app.BalanceAsync(customer));
        // The customer is told by email and on the registered device (the development push outbox without FCM settings).
        var email = await app.Get<Serverless.Platform.Email.Outbox>().LatestAsync(customer.Email);
        Assert.Contains($"#{orderId}", email?.Subject);
        var push = Assert.Single(await app.Get<Serverless.Print.Notifications.PushOutbox>().ListAsync(customer.Id));
        Assert.Contains("Printer out of order", push.Body);

        var fileStatus = await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/file/{upload.GetProperty("code").GetString()}/status");
        Assert.Equal(("cancelled", "Printer out of order. Please try another shop."), (fileStatus.GetProperty("status").GetString(),
            fileStatus.GetProperty("cancel_reason").GetString()));
        Assert.True(fileStatus.TryGetProperty("cancelled_at", out _));
        Assert.Equal(0, (await app.Bearer(shop).GetFromJsonAsync<JsonElement>("/queue")).GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(shop).GetAsync($"/queue/{orderId}/files")).StatusCode);
        var again = await app.Bearer(shop).PostAsJsonAsync($"/queue/{firstFile}/cancel", new { reason = "again" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(20m, await app.BalanceAsync(customer));
        Assert.Equal(HttpStatusCode.Gone, (await app.Bearer(customer).GetAsync($"/file/{upload.GetProperty("code").GetString()}")).StatusCode);
    }

    [Fact]
    public async Task An_order_with_a_file_printing_cannot_be_cancelled_and_a_printing_file_cannot_be_withdrawn()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        await app.PaidOrderAsync(customer, 10, "queue", shop.Id);
        var (_, upload) = await app.UploadAsync(customer, [Pdf(1, "a.pdf"), Pdf(1, "b.pdf")], new { print_type = "queue", shop_id = shop.Id });
        var files = upload.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("file_id").GetInt64()).ToList();

        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsync($"/queue/{files[1]}/print-started", null)).StatusCode);
        var cancel = await app.Bearer(shop).PostAsJsonAsync($"/queue/{files[0]}/cancel", new { reason = "Out of paper" });
        Assert.Equal(HttpStatusCode.BadRequest, cancel.StatusCode);
        Assert.Contains("printing", (await PrintFilesFactory.BodyAsync(cancel)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await app.Bearer(customer).PostAsync($"/withdraw/{files[1]}", null)).StatusCode);

        // The print failed: the file waits again, and the customer may withdraw it (₹1 back to the wallet).
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsync($"/queue/{files[1]}/print-failed", null)).StatusCode);
        var before = await app.BalanceAsync(customer);
        var withdraw = await app.Bearer(customer).PostAsync($"/withdraw/{files[1]}", null);
        Assert.Equal(HttpStatusCode.OK, withdraw.StatusCode);
        Assert.Equal(before + 1, await app.BalanceAsync(customer));
        Assert.Equal(HttpStatusCode.Conflict, (await app.Bearer(customer).PostAsync($"/withdraw/{files[1]}", null)).StatusCode);
        Assert.Equal(before + 1, await app.BalanceAsync(customer));
        // The other file is printed and confirmed; the queue order closes.
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsync($"/queue/{files[0]}/confirm", null)).StatusCode);
        Assert.Equal(0, (await app.Bearer(shop).GetFromJsonAsync<JsonElement>("/queue")).GetArrayLength());
    }

    [Fact]
    public async Task Withdraw_and_print_started_race_and_exactly_one_wins()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        for (var round = 0; round < 5; round++)
        {
            await app.PaidOrderAsync(customer, 1);
            var (_, upload) = await app.UploadAsync(customer, [Pdf(1)]);
            var id = upload.GetProperty("file_id").GetInt64();
            var code = upload.GetProperty("code").GetString();
            var before = await app.BalanceAsync(customer);

            var results = await Task.WhenAll(app.Bearer(customer).PostAsync($"/withdraw/{id}", null), app.Bearer(shop).PostAsync($"/file/{code}/print-started", null));

            var withdrew = results[0].StatusCode == HttpStatusCode.OK;
            Assert.NotEqual(withdrew, results[1].StatusCode == HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.Conflict, (withdrew ? results[1] : results[0]).StatusCode);
            Assert.Equal(withdrew ? before + 1 : before, await app.BalanceAsync(customer));
            Assert.Equal(withdrew ? "withdrawn" : "printing",
                (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/file/{code}/status")).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Two_shops_confirming_one_code_credit_one_of_them_once()
    {
        var customer = await app.SignUpAsync();
        var shops = await Task.WhenAll(app.SignUpAsync(role: "shopkeeper"), app.SignUpAsync(role: "shopkeeper"));
        await app.PaidOrderAsync(customer, 4);
        var (_, upload) = await app.UploadAsync(customer, [Pdf(4)]);
        var code = upload.GetProperty("code").GetString();

        var results = await Task.WhenAll(shops.Select(s => app.Bearer(s).PostAsync($"/file/{code}/confirm", null)));

        Assert.Equal(1, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, results.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var earnings = await Task.WhenAll(shops.Select(s => app.Get<PrintEarnings>().EarningsAsync(s.Id)));
        Assert.Equal([0, 360], earnings.Select(e => e.Available).Order());
    }

    [Fact]
    public async Task Cancel_and_confirm_race_and_the_money_ends_right()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        await app.PaidOrderAsync(customer, 2, "queue", shop.Id);
        var (_, upload) = await app.UploadAsync(customer, [Pdf(2)], new { print_type = "queue", shop_id = shop.Id });
        var id = upload.GetProperty("file_id").GetInt64();
        var before = await app.BalanceAsync(customer);

        var results = await Task.WhenAll(app.Bearer(shop).PostAsJsonAsync($"/queue/{id}/cancel", new { reason = "closing" }),
            app.Bearer(shop).PostAsync($"/queue/{id}/confirm", null));

        var cancelled = results[0].StatusCode == HttpStatusCode.OK;
        Assert.NotEqual(cancelled, results[1].StatusCode == HttpStatusCode.OK);
        Assert.Equal(cancelled ? before + 2 : before, await app.BalanceAsync(customer));
        Assert.Equal(cancelled ? 0 : 180, (await app.Get<PrintEarnings>().EarningsAsync(shop.Id)).Available);
    }

    [Fact]
    public async Task Each_endpoint_admits_only_its_callers()
    {
        var customer = await app.SignUpAsync();
        var stranger = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        await app.PaidOrderAsync(customer, 1);
        var (_, upload) = await app.UploadAsync(customer, [Pdf(1)]);
        var code = upload.GetProperty("code").GetString();
        var id = upload.GetProperty("file_id").GetInt64();
        var anonymous = app.CreateClient();

        string[] shopOnly = [$"/file/{code}/print-started", $"/file/{code}/print-failed", $"/file/{code}/confirm", $"/queue/{id}/print-started",
            $"/queue/{id}/confirm", $"/queue/{id}/print-failed"];
        foreach (var path in shopOnly)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(path, null)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(customer).PostAsync(path, null)).StatusCode);
        }
        foreach (var path in new[] { "/queue", $"/queue/{upload.GetProperty("payment_order_id")}/files", $"/queue/download/{id}", "/shop/history" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(customer).GetAsync(path)).StatusCode);
        }
        foreach (var path in new[] { "/my-files", $"/file/{code}", $"/file/{code}/status" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/withdraw/{id}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(shop).PostAsync($"/withdraw/{id}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(shop).PostAsync("/upload", PrintFilesFactory.Form([Pdf(1)], new { print_type = "private" }))).StatusCode);

        // Another customer sees nothing of it; a queue file of a private print is not in any queue.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(stranger).GetAsync($"/file/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(stranger).GetAsync($"/file/{code}/status")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(stranger).PostAsync($"/withdraw/{id}", null)).StatusCode);
        Assert.Equal(0, (await app.Bearer(stranger).GetFromJsonAsync<JsonElement>("/my-files")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(shop).PostAsync($"/queue/{id}/confirm", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(shop).GetAsync("/file/zzzzzz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(shop).GetAsync("/file/../../x")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(customer).PostAsync("/withdraw/abc", null)).StatusCode);
        var admin = app.WithToken(await app.AdminTokenAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/file/{code}")).StatusCode);
    }

    [Fact]
    public async Task A_shop_moves_a_file_only_along_the_documented_lifecycle()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var other = await app.SignUpAsync(role: "shopkeeper");
        await app.PaidOrderAsync(customer, 1);
        var (_, upload) = await app.UploadAsync(customer, [Pdf(1)]);
        var code = upload.GetProperty("code").GetString();
        async Task<(HttpStatusCode, string?)> Move(PrintAccount who, string move)
        {
            var response = await app.Bearer(who).PostAsync($"/file/{code}/{move}", null);
            var body = await PrintFilesFactory.BodyAsync(response);
            return (response.StatusCode, body.TryGetProperty("status", out var status) ? status.GetString() : body.GetProperty("code").GetString());
        }

        // Nothing to undo on a waiting file; a started print is another shop's to finish; a failed print waits again.
        Assert.Equal((HttpStatusCode.OK, "uploaded"), await Move(shop, "print-failed"));
        Assert.Equal((HttpStatusCode.OK, "printing"), await Move(shop, "print-started"));
        Assert.Equal((HttpStatusCode.OK, "printing"), await Move(shop, "print-started"));
        Assert.Equal((HttpStatusCode.Conflict, "file_taken"), await Move(other, "print-started"));
        Assert.Equal((HttpStatusCode.Conflict, "file_taken"), await Move(other, "confirm"));
        Assert.Equal((HttpStatusCode.OK, "uploaded"), await Move(shop, "print-failed"));
        // Confirmed straight from uploaded; after that, no move but the same confirmation.
        Assert.Equal((HttpStatusCode.OK, "downloaded"), await Move(other, "confirm"));
        Assert.Equal((HttpStatusCode.Conflict, "file_taken"), await Move(shop, "print-started"));
        Assert.Equal((HttpStatusCode.Conflict, "file_printed"), await Move(other, "print-started"));
        Assert.Equal((HttpStatusCode.Conflict, "file_printed"), await Move(other, "print-failed"));

        // A withdrawn file cannot be started, confirmed or withdrawn again.
        await app.PaidOrderAsync(customer, 1);
        (_, upload) = await app.UploadAsync(customer, [Pdf(1)]);
        code = upload.GetProperty("code").GetString();
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(customer).PostAsync($"/withdraw/{upload.GetProperty("file_id").GetInt64()}", null)).StatusCode);
        Assert.Equal((HttpStatusCode.Conflict, "file_withdrawn"), await Move(shop, "print-started"));
        Assert.Equal((HttpStatusCode.Conflict, "file_withdrawn"), await Move(shop, "confirm"));
        Assert.Equal(HttpStatusCode.Gone, (await app.Bearer(shop).GetAsync($"/file/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PostAsync("/calculate-cost", PrintFilesFactory.Form([Pdf(1)]))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PostAsync("/upload", PrintFilesFactory.Form([Pdf(1)]))).StatusCode);
    }

    [Fact]
    public async Task A_file_nobody_printed_is_withdrawn_and_refunded_by_the_sweep_after_the_retention()
    {
        var customer = await app.SignUpAsync();
        await app.PaidOrderAsync(customer, 3);
        var (_, upload) = await app.UploadAsync(customer, [Pdf(3)]);
        var code = upload.GetProperty("code").GetString();
        var before = await app.BalanceAsync(customer);

        app.Time.Advance(app.Get<FileSettings>().Retention + TimeSpan.FromHours(2));
        Assert.True(await app.Get<FileSweep>().RunAsync(default) >= 1);

        Assert.Equal("withdrawn", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/file/{code}/status")).GetProperty("status").GetString());
        Assert.Equal(before + 3, await app.BalanceAsync(customer));
        Assert.Equal(HttpStatusCode.Gone, (await app.Bearer(customer).GetAsync($"/file/{code}")).StatusCode);
        Assert.Equal(0, await app.Get<FileSweep>().RunAsync(default));
    }
}
