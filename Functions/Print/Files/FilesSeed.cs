using System.Security.Cryptography;
using Serverless.Platform.Identity;
using Serverless.Print.Files.Inspection;
using Serverless.Print.Payments;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Serverless.Print.Files;

/// <summary>
/// Development seed (after <see cref="PrintSeed"/>): the demo shop's queue holds one order of the demo customer, paid
/// from the wallet, of two real PDFs made now (2 and 3 pages), so the queue, downloads, print-started, confirm and
/// cancel can be tried at once. Seeded once: a demo customer who has files already is left alone, and a start cut short
/// between paying and storing is finished with the order it paid.
/// </summary>
public sealed class FilesSeed : IDevelopmentSeed
{
    public IEnumerable<string> Credentials => [];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var users = services.GetRequiredService<UserDirectory>();
        if (await users.FindByLoginAsync(PrintSeed.Customer, cancellationToken) is not { } customer
            || await users.FindByLoginAsync(PrintSeed.Shopkeeper, cancellationToken) is not { } shop)
            return;
        var files = services.GetRequiredService<PrintFiles>();
        if ((await files.CustomerFilesAsync(customer.Id, 1, 0, cancellationToken)).Total > 0)
            return;

        var options = new PrintOptions(PrintTypes.Queue, 1, "single", "bw", "A4", shop.Id, "Demo order: please staple");
        var directory = Directory.CreateTempSubdirectory("print-seed-");
        try
        {
            var parts = new List<UploadedPart>();
            foreach (var (name, pages) in new[] { ("demo-handout.pdf", 2), ("demo-report.pdf", 3) })
            {
                var path = Path.Combine(directory.FullName, name);
                var content = DemoPdf(name, pages);
                await File.WriteAllBytesAsync(path, content, cancellationToken);
                var part = new UploadedPart { FileName = name, Kind = PrintFileKind.Pdf, TempPath = path, Size = content.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)) };
                await using (var stream = part.OpenRead())
                    part.Inspected = (await PrintFileInspector.InspectAsync(stream, name, PrintFileKind.Pdf, cancellationToken)).File
                                     ?? throw new InvalidOperationException($"The demo file {name} did not pass inspection.");
                parts.Add(part);
            }
            var cost = parts.Sum(p => files.CostOf(p.Inspected!.Pages, options));
            // A start cut short after paying and before storing the files left a paid order of the demo shop: the files
            // go to that one rather than paying again.
            var orders = services.GetRequiredService<PaymentOrders>();
            var (earlier, _) = await orders.ListAsync(customer.Id, 100, 0, cancellationToken);
            var paid = earlier.FirstOrDefault(o => o.Status == PaymentOrderStatus.Paid && o.PrintType == PrintTypes.Queue && o.ShopkeeperId == shop.Id
                                                   && o.Comment == options.Comment && o.AmountMinor == cost)
                       ?? (await orders.CreateAsync(customer.Id, customer.Email, cost, useWallet: true,
                           new PaymentOrderRow { PrintType = PrintTypes.Queue, ShopkeeperId = shop.Id, Comment = options.Comment }, "", cancellationToken)).Order;
            if (paid.Status != PaymentOrderStatus.Paid)
                throw new InvalidOperationException("The demo customer's wallet could not pay the demo queue order.");
            var (_, error) = await files.StoreAsync(customer.Id, paid, options, parts, cancellationToken);
            if (error is not null)
                throw new InvalidOperationException("The demo queue order could not be stored: " + error.Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static byte[] DemoPdf(string title, int pages)
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        for (var page = 1; page <= pages; page++)
            builder.AddPage(PageSize.A4).AddText($"{title}: page {page} of {pages}", 14, new PdfPoint(72, 760), font);
        return builder.Build();
    }
}
