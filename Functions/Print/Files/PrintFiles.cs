using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Admin.Stats;
using Serverless.Print.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Print.Files;

/// <summary>What an upload asks for besides its files (the document's form fields, validated).</summary>
public sealed record PrintOptions(string PrintType, int Copies, string PrintMode, string ColorMode, string PaperSize, long? ShopId, string? Comment);

/// <summary>An upload that was stored and paid: its files, the order that paid it and what went back to the wallet.</summary>
public sealed record StoredUpload(IReadOnlyList<PrintFileRow> Files, PaymentOrderRow Order, long ExcessMinor, int? QueuePosition);

/// <summary>
/// Print files: an upload consumes a paid payment order and stores its files (content in Blob storage, rows in the
/// customer's partition); shops print and confirm them (by code, or from their queue); customers withdraw them; a shop
/// cancels a queue order. Every status change goes through the transition seam; every refund through the payment
/// order's refund (the ledger); what follows a change in other partitions (the shop's queue and history, the shop's
/// earnings, deleting content, notifying the customer) is published through the outbox (<see cref="PrintFileChannel"/>).
/// Keys: <see cref="FileKeys"/>.
/// </summary>
public sealed class PrintFiles(
    StorageAccount storage,
    Transitions transitions,
    IdBlockAllocator ids,
    PaymentOrders orders,
    PrintMoneySettings money,
    FileSettings settings,
    TimeProvider time)
{
    public const string PointerTable = "printfiles";
    public const string SweepTable = "printfilesweep";
    public const string Channel = "print-files";
    private const string Sequence = "print-files";
    private const string CodeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int CodeLength = 6;
    private const int OrdersScanned = 50;

    private TableClient Users => storage.Table(UserDirectory.TableName);
    private TableClient Pointers => storage.Table(PointerTable);
    private TableClient Sweep => storage.Table(SweepTable);
    internal BlobContainerClient Blobs => storage.Container(FileSettings.Container);

    public long PricePerPageMinor(string colorMode) => colorMode == "color" ? money.CostPerPageColorMinor : money.CostPerPageBwMinor;

    public long CostOf(int pages, PrintOptions options) => pages * (long)options.Copies * PricePerPageMinor(options.ColorMode);

    /// <summary>
    /// The payment order an upload uses: the one named (by id or <c>order_id</c>), else the caller's newest paid,
    /// unused order of the same print type (and shop) that covers the cost. An error says why none fits.
    /// </summary>
    public async Task<(PaymentOrderRow? Order, ApiError? Error)> ChooseOrderAsync(long customerId, string? named, PrintOptions options, long costMinor,
        CancellationToken cancellationToken)
    {
        var cost = Rupees(costMinor);
        if (named is not null)
        {
            var order = await orders.FindAsync(customerId, named, cancellationToken);
            ApiError? problem = order switch
            {
                null => new ApiError(404, "payment_order_not_found", $"Payment order '{named}' was not found."),
                { ConsumedBy: not null } => new ApiError(409, "payment_order_used", $"Payment order {order.Id} was already used for an upload."),
                { Status: not PaymentOrderStatus.Paid } => new ApiError(402, "payment_required", $"Payment order {order.Id} is {order.Status}, not paid."),
                _ when order.PrintType != options.PrintType => new ApiError(400, "payment_order_mismatch",
                    $"Payment order {order.Id} is for a {order.PrintType} print, not a {options.PrintType} print."),
                _ when options.PrintType == PrintTypes.Queue && order.ShopkeeperId != options.ShopId => new ApiError(400, "payment_order_mismatch",
                    $"Payment order {order.Id} was made for shop {order.ShopkeeperId}, not shop {options.ShopId}."),
                _ when order.AmountMinor < costMinor => new ApiError(402, "payment_required",
                    $"Payment order {order.Id} (₹{Rupees(order.AmountMinor)}) does not cover this upload (₹{cost})."),
                _ => null,
            };
            return problem is null ? (order, null) : (null, problem);
        }
        var scanned = 0;
        await foreach (var order in Users.QueryAsync<PaymentOrderRow>(AccountKeys.StartsWith(customerId, PaymentOrderRow.Prefix), maxPerPage: OrdersScanned,
                           cancellationToken: cancellationToken))
        {
            if (order is { Status: PaymentOrderStatus.Paid, ConsumedBy: null } && order.PrintType == options.PrintType && order.AmountMinor >= costMinor
                && (options.PrintType != PrintTypes.Queue || order.ShopkeeperId == options.ShopId))
                return (order, null);
            if (++scanned >= OrdersScanned)
                break;
        }
        return (null, new ApiError(402, "payment_required",
            $"No paid payment order covers this upload (₹{cost}, {options.PrintType} print): create one with POST /create-payment-order, pay it, then upload."));
    }

    /// <summary>
    /// Stores an inspected upload and uses <paramref name="order"/> to pay for it. Pointers (id, code) and the sweep's
    /// rows are written first and the content next, so whatever stops half-way leaves nothing the sweep cannot find;
    /// the files and the order's use are then one transaction (with the excess back to the wallet). When the order
    /// could not be used (another upload used it meanwhile) the content is deleted and the answer says why.
    /// </summary>
    public async Task<(StoredUpload? Upload, ApiError? Error)> StoreAsync(long customerId, PaymentOrderRow order, PrintOptions options,
        IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var partition = AccountKeys.Partition(customerId);
        var files = new List<PrintFileRow>(parts.Count);
        foreach (var part in parts)
        {
            var id = await ids.NextAsync(Sequence, cancellationToken);
            var inspected = part.Inspected ?? throw new InvalidOperationException("Files are inspected before they are stored.");
            files.Add(new PrintFileRow
            {
                PartitionKey = partition, RowKey = FileKeys.File(order.Id, id), Id = id, CustomerId = customerId, PaymentOrderId = order.Id,
                PrintType = options.PrintType, ShopId = options.PrintType == PrintTypes.Queue ? options.ShopId : null, FileName = part.FileName,
                Kind = inspected.Kind.ToString().ToLowerInvariant(), ContentType = inspected.ContentType, SizeBytes = part.Size, Sha256 = part.Sha256,
                BlobName = FileKeys.BlobName(customerId, id), NumPages = inspected.Pages, Copies = options.Copies, PrintMode = options.PrintMode,
                ColorMode = options.ColorMode, PaperSize = options.PaperSize, Comment = options.Comment, CostMinor = CostOf(inspected.Pages, options),
                CreatedAt = now,
            });
        }
        for (var i = 0; i < files.Count; i++)
            files[i] = files[i] with { Code = await ClaimCodeAsync(files[i], cancellationToken) };
        await Task.WhenAll(files.Select(f => Pointers.UpsertEntityAsync(Pointer(FileKeys.ById(f.Id), f), TableUpdateMode.Replace, cancellationToken)));
        await Task.WhenAll(files.Select(f => Sweep.UpsertEntityAsync(FileSweepRow.For(now + settings.Retention, customerId, order.Id, f.Id, f.BlobName),
            TableUpdateMode.Replace, cancellationToken)));
        await Parallel.ForEachAsync(files.Zip(parts), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (pair, token) =>
            {
                await using var content = pair.Second.OpenRead();
                await Blobs.GetBlobClient(pair.First.BlobName).UploadAsync(content, new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = pair.First.ContentType },
                    Metadata = new Dictionary<string, string> { ["sha256"] = pair.First.Sha256 },
                }, token);
            });

        var cost = files.Sum(f => f.CostMinor);
        var used = await orders.UseAsync(customerId, order.Id, cost, files[0].Id, (paid, step) =>
        {
            foreach (var file in files)
                step.Insert(file);
            step.Publish(PrintStatEvents.Uploaded(files, now));
            if (options.PrintType == PrintTypes.Queue && options.ShopId is { } shop)
                step.Publish(Event("queued", $"queued:{order.Id}", customerId, new FileEvent(customerId, order.Id, files[0].Id, shop, files.Count)));
        }, cancellationToken, known: order);
        if (used.Status != UseStatus.Used)
        {
            await Task.WhenAll(files.Select(f => Blobs.DeleteBlobIfExistsAsync(f.BlobName, cancellationToken: CancellationToken.None)));
            return (null, used.Status switch
            {
                UseStatus.AlreadyUsed => new ApiError(409, "payment_order_used", $"Payment order {order.Id} was already used for an upload."),
                UseStatus.TooSmall => new ApiError(402, "payment_required", $"Payment order {order.Id} does not cover this upload (₹{Rupees(cost)})."),
                UseStatus.NotFound => new ApiError(404, "payment_order_not_found", $"Payment order {order.Id} was not found."),
                _ => new ApiError(402, "payment_required", $"Payment order {order.Id} is not paid."),
            });
        }
        int? position = options.PrintType == PrintTypes.Queue && options.ShopId is { } queueShop
            ? await QueuePositionAsync(queueShop, order.Id, cancellationToken)
            : null;
        return (new StoredUpload(files, used.Order!, used.ExcessMinor, position), null);
    }

    private async Task<string> ClaimCodeAsync(PrintFileRow file, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var code = RandomNumberGenerator.GetString(CodeAlphabet, CodeLength);
            if (await Pointers.TryAddAsync(Pointer(FileKeys.ByCode(code), file), cancellationToken))
                return code;
        }
        throw new InvalidOperationException("No free file code after 8 tries: the code space is nearly full.");
    }

    private static FilePointerRow Pointer(string partition, PrintFileRow file) =>
        new() { PartitionKey = partition, CustomerId = file.CustomerId, PaymentOrderId = file.PaymentOrderId, FileId = file.Id };

    public static bool IsCode(string code) => code.Length == CodeLength && code.All(c => CodeAlphabet.Contains(c, StringComparison.Ordinal));

    /// <summary>A file by its code: two point reads (the code's pointer, then the file).</summary>
    public async Task<PrintFileRow?> FindByCodeAsync(string code, CancellationToken cancellationToken) =>
        IsCode(code) ? await FollowAsync(await Pointers.FindAsync<FilePointerRow>(FileKeys.ByCode(code), FileKeys.PointerRow, cancellationToken), cancellationToken) : null;

    /// <summary>A file by its id: two point reads.</summary>
    public async Task<PrintFileRow?> FindByIdAsync(long fileId, CancellationToken cancellationToken) =>
        fileId <= 0 ? null : await FollowAsync(await Pointers.FindAsync<FilePointerRow>(FileKeys.ById(fileId), FileKeys.PointerRow, cancellationToken), cancellationToken);

    /// <summary>A file of the customer's own, by id: one point read when the caller knows the order, else two.</summary>
    private async Task<PrintFileRow?> FollowAsync(FilePointerRow? pointer, CancellationToken cancellationToken) =>
        pointer is null ? null : await Users.FindAsync<PrintFileRow>(AccountKeys.Partition(pointer.CustomerId), FileKeys.File(pointer.PaymentOrderId, pointer.FileId),
            cancellationToken);

    /// <summary>The files of one payment order (one range read).</summary>
    public async Task<List<PrintFileRow>> OrderFilesAsync(long customerId, long orderId, CancellationToken cancellationToken)
    {
        var files = new List<PrintFileRow>();
        await foreach (var file in Users.QueryAsync<PrintFileRow>(FileKeys.StartsWith(AccountKeys.Partition(customerId), FileKeys.OrderFiles(orderId)),
                           cancellationToken: cancellationToken))
            files.Add(file);
        return files;
    }

    /// <summary>A customer's files, newest first, and how many there are.</summary>
    public async Task<(List<PrintFileRow> Page, int Total)> CustomerFilesAsync(long customerId, int limit, int offset, CancellationToken cancellationToken)
    {
        var all = new List<PrintFileRow>();
        await foreach (var file in Users.QueryAsync<PrintFileRow>(FileKeys.StartsWith(AccountKeys.Partition(customerId), FileKeys.FilePrefix),
                           cancellationToken: cancellationToken))
            all.Add(file);
        return (all.Skip(offset).Take(limit).ToList(), all.Count);
    }

    public async Task<Stream?> OpenContentAsync(PrintFileRow file, CancellationToken cancellationToken)
    {
        try
        {
            return await Blobs.GetBlobClient(file.BlobName).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    // ---- The shop's side: print started, print failed, confirmed ----

    public enum ShopMove
    {
        Started,
        Failed,
        Confirmed,
    }

    /// <summary>
    /// A shop moves a file: print started (uploaded → printing), print failed (printing → uploaded), confirmed
    /// (uploaded or printing → downloaded, its earnings credited and its content deleted through the outbox). Asking
    /// again for the move already made answers the file as it is; a file another shop is printing, or in a final
    /// status, is a 409 naming why.
    /// </summary>
    public async Task<(PrintFileRow? File, ApiError? Error)> MoveAsync(PrintFileRow known, long shopId, ShopMove move, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var moved = await transitions.ApplyAsync<PrintFileRow, ApiError?>(Users, known.PartitionKey, known.RowKey, change =>
        {
            if (change.Current is not { } file)
                return new ApiError(404, "file_not_found", "File not found.");
            if (file.PrintingBy is { } other && other != shopId && file.Status is FileStatus.Printing or FileStatus.Downloaded)
                return new ApiError(409, "file_taken", file.Status == FileStatus.Printing
                    ? "Another shop is printing this file." : "Another shop printed this file.");
            switch (move, file.Status)
            {
                case (ShopMove.Started, FileStatus.Printing):
                case (ShopMove.Failed, FileStatus.Uploaded):
                case (ShopMove.Confirmed, FileStatus.Downloaded):
                    return null;
                case (ShopMove.Started, FileStatus.Uploaded):
                    change.Write(file with { Status = FileStatus.Printing, PrintingBy = shopId, PrintStartedAt = now });
                    return null;
                case (ShopMove.Failed, FileStatus.Printing):
                    change.Write(file with { Status = FileStatus.Uploaded, PrintingBy = null });
                    return null;
                case (ShopMove.Confirmed, FileStatus.Uploaded or FileStatus.Printing):
                    change.Write(file with { Status = FileStatus.Downloaded, PrintingBy = shopId, PrintedAt = now }).Publish(PrintStatEvents.Confirmed(file.Id, now));
                    change.Publish(Event("confirmed", $"confirmed:{file.Id}", file.CustomerId,
                        new FileEvent(file.CustomerId, file.PaymentOrderId, file.Id, shopId, 1)));
                    return null;
                default:
                    return FinalStatus(file);
            }
        }, cancellationToken);
        return moved.Outcome is { } error ? (null, error) : (moved.Row, null);
    }

    private static ApiError FinalStatus(PrintFileRow file) => file.Status switch
    {
        FileStatus.Downloaded => new ApiError(409, "file_printed", "This file was already printed."),
        FileStatus.Withdrawn => new ApiError(409, "file_withdrawn", "The customer withdrew this file."),
        FileStatus.Cancelled => new ApiError(409, "file_cancelled", "This order was cancelled."),
        _ => new ApiError(409, "file_state", $"This file is {file.Status}."),
    };

    // ---- The customer's withdrawal and the shop's cancellation: both refund through the payment order ----

    /// <summary>
    /// The customer withdraws a file that is waiting (uploaded): the file is withdrawn and its cost refunded (the
    /// wallet part at once, the provider part through the provider unless <paramref name="toWallet"/>) in one
    /// transaction; its content is deleted through the outbox. A file being printed is a 409.
    /// </summary>
    public async Task<(PrintFileRow? File, OrderRefund? Refund, ApiError? Error)> WithdrawAsync(PrintFileRow known, bool toWallet, string reason,
        CancellationToken cancellationToken)
    {
        ApiError? refusal = null;
        PrintFileRow? withdrawn = null;
        var refund = await orders.RefundPartAsync(known.CustomerId, known.PaymentOrderId, "file-" + known.Id, toWallet, async order =>
        {
            var file = await Users.FindAsync<PrintFileRow>(known.PartitionKey, known.RowKey, CancellationToken.None);
            refusal = file switch
            {
                null => new ApiError(404, "file_not_found", "File not found."),
                { Status: FileStatus.Uploaded } => null,
                { Status: FileStatus.Printing } => new ApiError(409, "file_printing", "The shop has started printing this file; it can no longer be withdrawn."),
                _ => FinalStatus(file),
            };
            if (refusal is not null)
                return null;
            return new RefundPlan(file!.CostMinor, (_, step) =>
            {
                withdrawn = file with { Status = FileStatus.Withdrawn, WithdrawnAt = time.GetUtcNow(), PrintingBy = null, CancelReason = reason };
                step.Replace(withdrawn);
                step.Publish(Event("released", $"released:{file.Id}", file.CustomerId, new FileEvent(file.CustomerId, file.PaymentOrderId, file.Id, file.ShopId, 1)));
            });
        }, "Refund for withdrawal", cancellationToken);
        if (refund.Outcome == OrderRefundOutcome.Refunded)
            return (withdrawn, refund, null);
        if (refusal is not null)
            return (null, null, refusal);
        var now = await Users.FindAsync<PrintFileRow>(known.PartitionKey, known.RowKey, cancellationToken);
        return (null, null, now is null ? new ApiError(404, "file_not_found", "File not found.") : FinalStatus(now));
    }

    /// <summary>
    /// A shop cancels a queue order: every file of the payment order that is waiting becomes cancelled (with the reason,
    /// the time and the shop), and what they cost is refunded once (key <c>cancel-{order}</c>), in one transaction; the
    /// customer is notified and the content deleted through the outbox. Refused (400) while any file is printing.
    /// </summary>
    public async Task<(List<PrintFileRow>? Files, OrderRefund? Refund, ApiError? Error)> CancelOrderAsync(long customerId, long orderId, long shopId,
        string reason, CancellationToken cancellationToken)
    {
        ApiError? refusal = null;
        List<PrintFileRow>? cancelled = null;
        var now = time.GetUtcNow();
        var refund = await orders.RefundPartAsync(customerId, orderId, "cancel-" + orderId, toWallet: false, async order =>
        {
            var files = (await OrderFilesAsync(customerId, orderId, CancellationToken.None)).Where(f => f.ShopId == shopId).ToList();
            refusal = files.Count == 0 ? new ApiError(404, "order_not_found", "Order not found.")
                : files.Any(f => f.Status == FileStatus.Printing) ? new ApiError(400, "order_printing",
                    "A file of this order is already printing; an order can only be cancelled before printing starts.")
                : files.All(f => f.Status != FileStatus.Uploaded) ? new ApiError(409, "order_closed", "Nothing in this order is waiting to be printed.")
                : null;
            if (refusal is not null)
                return null;
            var waiting = files.Where(f => f.Status == FileStatus.Uploaded).ToList();
            return new RefundPlan(waiting.Sum(f => f.CostMinor), (_, step) =>
            {
                cancelled = waiting.Select(f => f with { Status = FileStatus.Cancelled, CancelReason = reason, CancelledAt = now, CancelledBy = shopId }).ToList();
                foreach (var file in cancelled)
                {
                    step.Replace(file);
                    step.Publish(Event("released", $"released:{file.Id}", customerId, new FileEvent(customerId, orderId, file.Id, shopId, 1)));
                }
                step.Publish(Event("cancelled", $"cancelled:{orderId}", customerId,
                    new FileEvent(customerId, orderId, cancelled[0].Id, shopId, cancelled.Count, reason, waiting.Sum(f => f.CostMinor))));
            });
        }, "Refund for an order the shop cancelled", cancellationToken);
        if (refund.Outcome == OrderRefundOutcome.Refunded)
            return (cancelled, refund, null);
        if (refusal is not null)
            return (null, null, refusal);
        // Refunded before under this key: the order was cancelled already.
        return (null, null, new ApiError(409, "order_closed", refund.Outcome == OrderRefundOutcome.AlreadyRefunded
            ? "This order was cancelled already." : "Nothing in this order is waiting to be printed."));
    }

    // ---- The shop's queue and history ----

    /// <summary>How many open queue orders of the shop are at or before this one.</summary>
    public async Task<int> QueuePositionAsync(long shopId, long orderId, CancellationToken cancellationToken)
    {
        var position = 0;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {AccountKeys.Partition(shopId)} and RowKey ge {FileKeys.QueuePrefix} and RowKey le {FileKeys.Queue(orderId)} and Closed eq false");
        await foreach (var _ in Users.QueryAsync<ShopQueueRow>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
            position++;
        return Math.Max(position, 1);
    }

    /// <summary>The shop's open queue orders, oldest first, each with its files (one range read, then one per order).</summary>
    public async Task<List<(ShopQueueRow Order, List<PrintFileRow> Files)>> QueueAsync(long shopId, CancellationToken cancellationToken)
    {
        var open = new List<ShopQueueRow>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {AccountKeys.Partition(shopId)} and RowKey ge {FileKeys.QueuePrefix} and RowKey lt {FileKeys.QueuePrefix + '\uffff'} and Closed eq false");
        await foreach (var row in Users.QueryAsync<ShopQueueRow>(filter, cancellationToken: cancellationToken))
            open.Add(row);
        var groups = await Task.WhenAll(open.Select(async q => (q, Files: (await OrderFilesAsync(q.CustomerId, q.PaymentOrderId, cancellationToken))
            .Where(f => f.ShopId == shopId).ToList())));
        // Cancelled orders are left out; an order whose files are all done is closed by the outbox soon after.
        return groups.Where(g => g.Files.Any(f => FileStatus.IsOpen(f.Status))).Select(g => (g.q, g.Files)).ToList();
    }

    /// <summary>One queue order of the shop, or null when it is not this shop's or was cancelled.</summary>
    public async Task<List<PrintFileRow>?> QueueOrderAsync(long shopId, long orderId, CancellationToken cancellationToken)
    {
        var row = await Users.FindAsync<ShopQueueRow>(AccountKeys.Partition(shopId), FileKeys.Queue(orderId), cancellationToken);
        if (row is null)
            return null;
        var files = (await OrderFilesAsync(row.CustomerId, orderId, cancellationToken)).Where(f => f.ShopId == shopId && f.Status != FileStatus.Cancelled).ToList();
        return files.Count == 0 ? null : files;
    }

    public async Task<(List<ShopHistoryRow> Page, int Total)> HistoryAsync(long shopId, int limit, int offset, CancellationToken cancellationToken)
    {
        var all = new List<ShopHistoryRow>();
        await foreach (var row in Users.QueryAsync<ShopHistoryRow>(FileKeys.StartsWith(AccountKeys.Partition(shopId), FileKeys.HistoryPrefix),
                           cancellationToken: cancellationToken))
            all.Add(row);
        return (all.Skip(offset).Take(limit).ToList(), all.Count);
    }

    internal static OutboxEvent Event(string type, string key, long customerId, FileEvent body) =>
        new(Channel, key, customerId.ToString(CultureInfo.InvariantCulture), type, JsonSerializer.Serialize(body));

    internal static decimal Rupees(long paise) => PrintMoney.Rupees(paise);
}

/// <summary>What the outbox carries about a file or a queue order; the rows themselves are read when it is handled.</summary>
public sealed record FileEvent(long CustomerId, long OrderId, long FileId, long? ShopId, int Count, string? Reason = null, long RefundMinor = 0);
