using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Wallet;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Writer;
using PageSize = UglyToad.PdfPig.Content.PageSize;

namespace Serverless.Bench;

/// <summary>
/// "print upload (5 MB, 50-page PDF)": a real PDF of 50 A4 pages (a heading, a few lines of text and one
/// incompressible noise image per page, ~5 MiB in all) is written at start and its page count checked with PdfPig.
/// The demo customer's wallet is credited up front through the product's <see cref="Ledger"/> (in this process, against
/// the bench's Azurite, as the ledger scenarios drive it). Then a few workers, each in a loop: create a wallet-paid
/// payment order for the upload's cost (<c>POST /create-payment-order</c>, not timed), then <c>POST /upload</c> with
/// the PDF streamed from its file and that order's id; the answer must be 201 with <c>num_pages</c> 50. The upload
/// request alone is timed; its <c>X-Storage-Requests</c> is kept for every upload.
/// </summary>
public static class UploadRun
{
    public const string Name = "print upload (5 MB, 50-page PDF)";
    public const int Pages = 50, Workers = 4;
    public const long TargetBytes = 5L * 1024 * 1024;

    /// <summary>How many uploads the wallet is funded for: far more than a run makes (a few per second).</summary>
    const int FundedUploads = 20_000;

    /// <summary>One iteration: whether it uploaded, the upload's latency and storage requests, and why not.</summary>
    readonly record struct Upload(bool Ok, double Ms, int Storage, int OrderStorage, string? Error);

    /// <summary>Only this scenario (<c>Bench upload</c>): a fresh Azurite and app, the PDF, the demo customer funded.</summary>
    public static async Task<int> RunAloneAsync(bool smoke)
    {
        Infra.EnsurePortsFree();
        var dir = Directory.CreateTempSubdirectory("bench-upload-");
        try
        {
            var pdf = WritePdf(dir.FullName);
            await using var infra = new Infra(Infra.FindRoot());
            Console.WriteLine("Starting Azurite (in memory, 127.0.0.1:10200-10202) and the app (Release, standalone, :7200)...");
            await infra.StartAzuriteAsync(null);
            await infra.StartAppAsync();
            using var http = new HttpClient { BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30) };
            var token = await BenchRun.PrintLogin(http);
            var row = await RunAsync(Name, pdf, token, infra.App!, smoke ? 1 : 5, smoke ? 2 : 15);
            Console.WriteLine(row.ToJsonString());
            return row["errors"]!.GetValue<long>() == 0 && row["requests"]!.GetValue<long>() > 0 ? 0 : 1;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Funds the customer, warms up, runs <see cref="Workers"/> workers for <paramref name="durationSeconds"/> and returns the row.</summary>
    public static async Task<JsonObject> RunAsync(string name, string pdf, string customerToken, Process app, int warmupSeconds, int durationSeconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Workers * 2 })
        {
            BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", customerToken);

        // The app's own quote of the upload, which must see the 50 pages too; the orders are made for this amount.
        var cost = await QuoteAsync(http, pdf);
        var customerId = await CustomerIdAsync(http);
        await FundAsync(customerId, (long)(cost * 100) * FundedUploads);

        Console.WriteLine($"Scenario {name}: ₹{cost} per upload, warm-up {warmupSeconds} s, then {Workers} workers for {durationSeconds} s " +
                          $"(each: a wallet-paid payment order, then POST /upload of {new FileInfo(pdf).Length / 1048576.0:F2} MiB)...");
        await DriveAsync(http, pdf, cost, TimeSpan.FromSeconds(warmupSeconds));

        using var cts = new CancellationTokenSource();
        long rssMax = 0;
        var sampler = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                rssMax = Math.Max(rssMax, Infra.Rss(app).Current);
                try { await Task.Delay(100, cts.Token); } catch (OperationCanceledException) { }
            }
        });
        var (uploads, elapsed) = await DriveAsync(http, pdf, cost, TimeSpan.FromSeconds(durationSeconds));
        cts.Cancel();
        await sampler;
        var (peak, _) = Infra.Rss(app);

        var ok = uploads.Where(u => u.Ok).ToArray();
        var failed = uploads.Length - ok.Length;
        var latencies = ok.Select(u => u.Ms).Order().ToArray();
        double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var storage = ok.Select(u => u.Storage).Order().ToArray();
        var orderStorage = ok.Select(u => u.OrderStorage).Order().ToArray();
        int? Median(int[] sorted) => sorted.Length == 0 ? null : sorted[sorted.Length / 2];
        var rate = ok.Length / elapsed;
        Console.WriteLine($"  {rate:F2} uploads/s ({rate * new FileInfo(pdf).Length / 1048576.0:F1} MiB/s), upload p50 {Percentile(latencies, 0.5):F1} ms, " +
                          $"p99 {Percentile(latencies, 0.99):F1} ms; storage requests per upload {Median(storage)} " +
                          $"({storage.DefaultIfEmpty().Min()}–{storage.DefaultIfEmpty().Max()}), per payment order {Median(orderStorage)}; " +
                          $"app peak RSS {peak / 1024.0:F0} MiB; {failed} failed");
        if (uploads.FirstOrDefault(u => !u.Ok) is { Error: { } first })
            Console.Error.WriteLine($"  {name}: {failed} iterations failed; the first: {first}");
        return new JsonObject
        {
            ["scenario"] = name,
            ["driver"] = $"HTTP, {Workers} workers: POST /create-payment-order (wallet, untimed), then POST /upload (multipart, the PDF streamed from a file) with its payment_order_id; 201 and num_pages {Pages} required",
            ["method"] = "POST",
            ["path"] = "/upload",
            ["connections"] = Workers,
            ["pdf_bytes"] = new FileInfo(pdf).Length,
            ["pdf_pages"] = Pages,
            ["cost_per_upload_rupees"] = cost,
            ["requests"] = (long)uploads.Length,
            ["uploads"] = (long)ok.Length,
            ["rps"] = Math.Round(rate, 2),
            ["p50_ms"] = Math.Round(Percentile(latencies, 0.5), 2),
            ["p99_ms"] = Math.Round(Percentile(latencies, 0.99), 2),
            ["max_ms"] = Math.Round(latencies.DefaultIfEmpty().Max(), 2),
            ["errors"] = (long)failed,
            ["storage_requests_per_request"] = Median(storage),
            ["storage_requests_min"] = storage.Length == 0 ? null : storage[0],
            ["storage_requests_max"] = storage.Length == 0 ? null : storage[^1],
            ["storage_requests_payment_order"] = Median(orderStorage),
            ["app_peak_rss_mib"] = Math.Round(peak / 1024.0, 1),
            ["app_max_sampled_rss_mib"] = Math.Round(rssMax / 1024.0, 1),
        };
    }

    static async Task<(Upload[] Uploads, double Seconds)> DriveAsync(HttpClient http, string pdf, decimal cost, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            var done = new List<Upload>();
            while (clock.Elapsed < duration)
            {
                try
                {
                    done.Add(await OnceAsync(http, pdf, cost));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or JsonException or KeyNotFoundException)
                {
                    done.Add(new Upload(false, 0, 0, 0, $"{e.GetType().Name}: {e.Message}"));
                }
            }
            return done;
        })).ToArray();
        var all = (await Task.WhenAll(workers)).SelectMany(u => u).ToArray();
        return (all, clock.Elapsed.TotalSeconds);
    }

    static async Task<Upload> OnceAsync(HttpClient http, string pdf, decimal cost)
    {
        using var order = await http.PostAsJsonAsync("/create-payment-order", new { amount = cost, use_wallet = true, print_type = "private" });
        var orderBody = await order.Content.ReadAsStringAsync();
        if (order.StatusCode != HttpStatusCode.Created)
            return Failed($"create-payment-order answered {(int)order.StatusCode}: {Truncate(orderBody)}");
        var created = JsonDocument.Parse(orderBody).RootElement;
        if (created.GetProperty("status").GetString() != "paid")
            return Failed($"the payment order is {created.GetProperty("status").GetString()}, not paid from the wallet: {Truncate(orderBody)}");
        var orderId = created.GetProperty("id").GetInt64();

        await using var file = new FileStream(pdf, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("private"), "print_type" },
            { new StringContent(orderId.ToString(System.Globalization.CultureInfo.InvariantCulture)), "payment_order_id" },
        };
        var content = new StreamContent(file, 81_920);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(content, "file", "bench-50-pages.pdf");

        var started = Stopwatch.GetTimestamp();
        using var upload = await http.PostAsync("/upload", form);
        var body = await upload.Content.ReadAsStringAsync();
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (upload.StatusCode != HttpStatusCode.Created)
            return Failed($"upload answered {(int)upload.StatusCode}: {Truncate(body)}");
        var pages = JsonDocument.Parse(body).RootElement.GetProperty("num_pages").GetInt32();
        if (pages != Pages)
            return Failed($"upload counted {pages} pages, not {Pages}");
        return new Upload(true, ms, Storage(upload), Storage(order), null);
    }

    static Upload Failed(string error) => new(false, 0, 0, 0, error);

    static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "...";

    static int Storage(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Storage-Requests", out var values) && int.TryParse(values.First(), out var n) ? n : -1;

    /// <summary>The app's quote for the PDF (<c>POST /calculate-cost</c>, 1 copy, black and white), which must count its 50 pages.</summary>
    static async Task<decimal> QuoteAsync(HttpClient http, string pdf)
    {
        await using var file = File.OpenRead(pdf);
        using var form = new MultipartFormDataContent();
        var content = new StreamContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(content, "file", "bench-50-pages.pdf");
        using var response = await http.PostAsync("/calculate-cost", form);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"calculate-cost answered {(int)response.StatusCode}: {Truncate(body)}");
        var quote = JsonDocument.Parse(body).RootElement;
        if (quote.GetProperty("total_pages").GetInt32() != Pages)
            throw new InvalidOperationException($"calculate-cost counted {quote.GetProperty("total_pages").GetInt32()} pages, not {Pages}.");
        return quote.GetProperty("total_cost").GetDecimal();
    }

    static async Task<long> CustomerIdAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/profile");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    /// <summary>
    /// Credits the customer's wallet through the product's own ledger (one movement under a key of this run; a "seed-"
    /// key, which the wallet's statement shows as a top-up). The app's ledger meets the new balance row by its ETag.
    /// </summary>
    static async Task FundAsync(long customerId, long amountMinor)
    {
        var storage = LedgerRun.Storage();
        var ledger = new Ledger(storage, new Transitions(new Outbox(storage, [], NullLogger<Outbox>.Instance)), TimeProvider.System);
        var credited = await ledger.CreditAsync(PrintWallets.Account(customerId), $"{WalletKeys.Seed}bench-uploads-{Guid.NewGuid():N}", amountMinor,
            memo: "Bench: upload scenario funding");
        if (credited.Status != MovementStatus.Applied)
            throw new InvalidOperationException($"Funding the customer's wallet came to {credited.Status}.");
    }

    // ---- The PDF ----

    /// <summary>
    /// Writes the 50-page PDF into <paramref name="dir"/> and returns its path. Each page carries text and one noise
    /// image (random RGB pixels do not compress), sized so the file comes to about <see cref="TargetBytes"/>; the page
    /// count is checked by opening the file with PdfPig.
    /// </summary>
    public static string WritePdf(string dir)
    {
        var path = Path.Combine(dir, "bench-50-pages.pdf");
        // Noise pixels are stored about as they are: 3 bytes each. One correction if the first guess is far off.
        var side = (int)Math.Sqrt(TargetBytes / (double)Pages / 3);
        var bytes = BuildPdf(side);
        var off = bytes.Length / (double)TargetBytes;
        if (Math.Abs(off - 1) > 0.05)
            bytes = BuildPdf((int)(side / Math.Sqrt(off)));
        File.WriteAllBytes(path, bytes);
        using (var document = PdfDocument.Open(path))
        {
            if (document.NumberOfPages != Pages)
                throw new InvalidOperationException($"The generated PDF has {document.NumberOfPages} pages, not {Pages}.");
        }
        Console.WriteLine($"Wrote a {Pages}-page PDF of {bytes.Length / 1048576.0:F2} MiB ({bytes.Length:N0} bytes) for the upload scenario.");
        return path;
    }

    static byte[] BuildPdf(int side)
    {
        var random = new Random(50);
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        for (var i = 1; i <= Pages; i++)
        {
            var page = builder.AddPage(PageSize.A4);
            page.AddText($"Bench upload document, page {i} of {Pages}", 14, new PdfPoint(72, 780), font);
            for (var line = 0; line < 12; line++)
                page.AddText($"Line {line + 1}: the quick brown fox jumps over the lazy dog ({i}.{line + 1}).", 10, new PdfPoint(72, 750 - 14 * line), font);
            page.AddPng(NoisePng(side, random), new PdfRectangle(72, 120, 72 + 450, 120 + 450));
        }
        return builder.Build();
    }

    /// <summary>An 8-bit RGB PNG of random pixels, <paramref name="side"/> square.</summary>
    static byte[] NoisePng(int side, Random random)
    {
        var raw = new byte[side * (1 + side * 3)];
        for (var y = 0; y < side; y++)
        {
            var row = raw.AsSpan(y * (1 + side * 3), 1 + side * 3);
            row[0] = 0; // filter: none
            random.NextBytes(row[1..]);
        }
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, side);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), side);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", header);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            zlib.Write(raw);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc(Crc(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu);
        png.Write(number);
    }

    static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    static uint Crc(uint crc, byte[] data)
    {
        foreach (var b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
