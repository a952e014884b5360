using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Notifications;
using Serverless.Print.Payments;
using Serverless.Print.Payouts;

namespace Serverless.Print.Files;

/// <summary>
/// What follows a file's change outside the customer's partition, delivered from the outbox (so it happens however
/// the request ended, and more than once is harmless):
/// <list type="bullet">
/// <item><c>queued</c>: the queue order appears in the shop's queue;</item>
/// <item><c>confirmed</c>: the shop's earnings and the platform's commission are credited under the file's key, the
/// print goes into the shop's history, the content is deleted, and a first print counts for the referral;</item>
/// <item><c>released</c> (withdrawn, cancelled): the content is deleted;</item>
/// <item><c>cancelled</c>: the customer is notified.</item>
/// </list>
/// After a file stops being printable its queue order is closed once none of its files is.
/// </summary>
public sealed class PrintFileChannel(IServiceProvider services, StorageAccount storage, ILogger<PrintFileChannel> logger) : IOutboxChannel
{
    public string Name => PrintFiles.Channel;

    private TableClient Users => storage.Table(UserDirectory.TableName);

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Deserialize<FileEvent>(message.Body) ?? throw new InvalidOperationException($"Unreadable print file event {message.Key}.");
        var files = services.GetRequiredService<PrintFiles>();
        switch (message.Type)
        {
            case "queued":
                await Users.TryAddAsync(new ShopQueueRow
                {
                    PartitionKey = AccountKeys.Partition(body.ShopId!.Value), RowKey = FileKeys.Queue(body.OrderId), PaymentOrderId = body.OrderId,
                    CustomerId = body.CustomerId, FirstFileId = body.FileId, FileCount = body.Count, CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
                }, cancellationToken);
                break;
            case "confirmed":
                await ConfirmedAsync(files, body, cancellationToken);
                break;
            case "released":
                var released = await Users.FindAsync<PrintFileRow>(AccountKeys.Partition(body.CustomerId), FileKeys.File(body.OrderId, body.FileId), cancellationToken);
                if (released is not null)
                    await files.Blobs.DeleteBlobIfExistsAsync(released.BlobName, cancellationToken: cancellationToken);
                if (body.ShopId is { } shop && released?.PrintType == PrintTypes.Queue)
                    await CloseIfDoneAsync(files, shop, body.CustomerId, body.OrderId, cancellationToken);
                break;
            case "cancelled":
                var shopProfile = await services.GetRequiredService<PrintAccounts>().FindProfileAsync(body.ShopId!.Value, cancellationToken);
                await services.GetRequiredService<PrintNotifications>().NotifyOrderCancelledAsync(body.CustomerId, body.OrderId,
                    shopProfile?.ShopName ?? "The shop", body.Reason ?? "", PrintMoney.Rupees(body.RefundMinor), cancellationToken);
                break;
            default:
                logger.LogWarning("Print file event {Key} of unknown type {Type} ignored.", message.Key, message.Type);
                break;
        }
    }

    private async Task ConfirmedAsync(PrintFiles files, FileEvent body, CancellationToken cancellationToken)
    {
        var file = await Users.FindAsync<PrintFileRow>(AccountKeys.Partition(body.CustomerId), FileKeys.File(body.OrderId, body.FileId), cancellationToken);
        if (file is not { Status: FileStatus.Downloaded, PrintingBy: { } shop, PrintedAt: { } printedAt })
            return;
        var (share, _) = await services.GetRequiredService<PrintEarnings>().CreditJobAsync("file-" + file.Id, shop, file.CostMinor, cancellationToken);
        await Users.UpsertEntityAsync(new ShopHistoryRow
        {
            PartitionKey = AccountKeys.Partition(shop), RowKey = FileKeys.History(printedAt, file.Id), FileId = file.Id, CustomerId = file.CustomerId,
            PaymentOrderId = file.PaymentOrderId, Code = file.Code, PrintType = file.PrintType, FileName = file.FileName, NumPages = file.NumPages,
            Copies = file.Copies, ColorMode = file.ColorMode, PrintMode = file.PrintMode, PaperSize = file.PaperSize, CostMinor = file.CostMinor,
            EarnedMinor = share, PrintedAt = printedAt,
        }, TableUpdateMode.Replace, cancellationToken);
        await files.Blobs.DeleteBlobIfExistsAsync(file.BlobName, cancellationToken: cancellationToken);
        foreach (var action in services.GetServices<IPrintQualifyingAction>())
            await action.OnQualifyingActionAsync(file.CustomerId, cancellationToken);
        if (file.PrintType == PrintTypes.Queue)
            await CloseIfDoneAsync(files, shop, file.CustomerId, file.PaymentOrderId, cancellationToken);
    }

    /// <summary>Closes the shop's queue order once none of its files can still be printed.</summary>
    private async Task CloseIfDoneAsync(PrintFiles files, long shopId, long customerId, long orderId, CancellationToken cancellationToken)
    {
        var orderFiles = await files.OrderFilesAsync(customerId, orderId, cancellationToken);
        if (orderFiles.Any(f => FileStatus.IsOpen(f.Status)))
            return;
        var row = await Users.FindAsync<ShopQueueRow>(AccountKeys.Partition(shopId), FileKeys.Queue(orderId), cancellationToken);
        if (row is { Closed: false })
            await Users.TransitionAsync<ShopQueueRow>(row, current => current.Closed ? null : current with { Closed = true }, cancellationToken);
    }
}
