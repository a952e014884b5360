using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Print.Files;

/// <summary>The document's file statuses and the moves between them.</summary>
public static class FileStatus
{
    public const string Uploaded = "uploaded";

    /// <summary>A shop started the print: the customer cannot withdraw until it fails or is confirmed.</summary>
    public const string Printing = "printing";

    /// <summary>Printed and confirmed by the shop; the content is deleted.</summary>
    public const string Downloaded = "downloaded";
    public const string Withdrawn = "withdrawn";

    /// <summary>The shop cancelled the queue order; the customer is notified and refunded.</summary>
    public const string Cancelled = "cancelled";

    public static readonly StateMachine Machine = new("print file",
        (Uploaded, Printing), (Printing, Uploaded), (Uploaded, Downloaded), (Printing, Downloaded),
        (Uploaded, Withdrawn), (Uploaded, Cancelled));

    /// <summary>A file in one of these still has its content and may still be printed.</summary>
    public static bool IsOpen(string status) => status is Uploaded or Printing;
}

public static class PrintTypes
{
    public const string Private = "private";
    public const string Queue = "queue";
}

/// <summary>
/// Key design of print files. A file lives in its customer's partition of the users table (beside the wallet and the
/// payment order that paid it, so an upload, a withdrawal or a shop's cancellation is one entity-group transaction
/// with the money it moves): RK = <c>print-file|{payment order id, counted down}|{file id}</c>, so the files of one payment
/// order (the queue's "order group") are one range read and a customer's files come newest first. Pointers in partitions of their own find a file by its id
/// (<c>printfile-{id}</c>) or its code (<c>printcode-{CODE}</c>) with one point read. A queue order is indexed in its
/// shop's partition (<c>print-queue|{order id}</c>, oldest first), and a confirmed print in the shop's history
/// (<c>print-history|{newest first}|{file id}</c>); both are written from the outbox, so they follow the file
/// whatever crashes in between.
/// </summary>
public static class FileKeys
{
    public const string FilePrefix = "print-file|";
    public const string QueuePrefix = "print-queue|";
    public const string HistoryPrefix = "print-history|";
    public const string PointerRow = "";

    public static string File(long orderId, long fileId) => OrderFiles(orderId) + TableKeys.Number(fileId);

    /// <summary>The key prefix of one payment order's files; newest orders first.</summary>
    public static string OrderFiles(long orderId) => FilePrefix + TableKeys.Number(long.MaxValue - orderId) + "|";

    public static string ById(long fileId) => "printfile-" + TableKeys.Number(fileId);

    public static string ByCode(string code) => "printcode-" + code;

    public static string Queue(long orderId) => QueuePrefix + TableKeys.Number(orderId);

    public static string History(DateTimeOffset printedAt, long fileId) => HistoryPrefix + TableKeys.NewestFirst(printedAt) + "|" + TableKeys.Number(fileId);

    public static string BlobName(long customerId, long fileId) =>
        TableKeys.Number(customerId) + "/" + fileId.ToString(CultureInfo.InvariantCulture);

    public static string CustomerBlobPrefix(long customerId) => TableKeys.Number(customerId) + "/";

    /// <summary>An OData filter for the rows of <paramref name="partition"/> whose key starts with <paramref name="prefix"/>.</summary>
    public static string StartsWith(string partition, string prefix) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {prefix + '\uffff'}");
}

/// <summary>One uploaded file to print: what it is, what it cost, where its content is, and where it stands.</summary>
public sealed record PrintFileRow : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public long Id { get; set; }
    public long CustomerId { get; set; }
    public long PaymentOrderId { get; set; }
    public string Code { get; set; } = "";
    public string PrintType { get; set; } = PrintTypes.Private;

    /// <summary>The shop a queue print was sent to; null for a private print (any shop with the code).</summary>
    public long? ShopId { get; set; }
    public string FileName { get; set; } = "";
    public string Kind { get; set; } = "";
    public string ContentType { get; set; } = "";
    public long SizeBytes { get; set; }
    public string Sha256 { get; set; } = "";
    public string BlobName { get; set; } = "";
    public int NumPages { get; set; }
    public int Copies { get; set; } = 1;
    public string PrintMode { get; set; } = "single";
    public string ColorMode { get; set; } = "bw";
    public string PaperSize { get; set; } = "A4";
    public string? Comment { get; set; }
    public long CostMinor { get; set; }
    public string Status { get; set; } = FileStatus.Uploaded;

    /// <summary>The shop printing it now, or that printed it.</summary>
    public long? PrintingBy { get; set; }
    public string? CancelReason { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public long? CancelledBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? PrintStartedAt { get; set; }
    public DateTimeOffset? PrintedAt { get; set; }
    public DateTimeOffset? WithdrawnAt { get; set; }

    StateMachine IStatefulRow.Moves => FileStatus.Machine;
}

/// <summary>Finds a file by its id or its code: the only row of its partition. Written before the file, never changed.</summary>
public sealed record FilePointerRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = FileKeys.PointerRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long CustomerId { get; set; }
    public long PaymentOrderId { get; set; }
    public long FileId { get; set; }
}

/// <summary>A queue order at a shop, in the shop's partition; closed once none of its files can be printed any more.</summary>
public sealed record ShopQueueRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long PaymentOrderId { get; set; }
    public long CustomerId { get; set; }
    public long FirstFileId { get; set; }
    public int FileCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public bool Closed { get; set; }
}

/// <summary>A print a shop confirmed, in the shop's partition, newest first.</summary>
public sealed record ShopHistoryRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long FileId { get; set; }
    public long CustomerId { get; set; }
    public long PaymentOrderId { get; set; }
    public string Code { get; set; } = "";
    public string PrintType { get; set; } = PrintTypes.Private;
    public string FileName { get; set; } = "";
    public int NumPages { get; set; }
    public int Copies { get; set; }
    public string ColorMode { get; set; } = "bw";
    public string PrintMode { get; set; } = "single";
    public string PaperSize { get; set; } = "A4";
    public long CostMinor { get; set; }
    public long EarnedMinor { get; set; }
    public DateTimeOffset PrintedAt { get; set; }
}

/// <summary>
/// The sweep's to-do list (table <c>printfilesweep</c>): a row per stored file, written before its content, in the
/// partition of the hour its retention ends (sharded by file id), so the sweep reads only hours that are due and
/// finds content whose upload never finished as well as files nobody printed.
/// </summary>
public sealed record FileSweepRow : ITableEntity
{
    public const int Shards = 8;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long CustomerId { get; set; }
    public long PaymentOrderId { get; set; }
    public long FileId { get; set; }
    public string BlobName { get; set; } = "";

    public static string PartitionFor(DateTimeOffset due, long fileId) =>
        HourOf(due) + "-" + (fileId % Shards).ToString(CultureInfo.InvariantCulture);

    public static string HourOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    public static FileSweepRow For(DateTimeOffset due, long customerId, long orderId, long fileId, string blobName) => new()
    {
        PartitionKey = PartitionFor(due, fileId), RowKey = TableKeys.Number(fileId), CustomerId = customerId, PaymentOrderId = orderId,
        FileId = fileId, BlobName = blobName,
    };
}

/// <summary>Where the sweep got to: the next hour it has not swept.</summary>
public sealed record FileSweepCursor : ITableEntity
{
    public string PartitionKey { get; set; } = "cursor";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public DateTimeOffset NextHour { get; set; }
}
