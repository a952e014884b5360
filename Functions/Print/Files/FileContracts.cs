using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Serverless.Print.Accounts;

namespace Serverless.Print.Files;

public sealed record UploadedFileView(
    [property: JsonPropertyName("file_id")] long FileId,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("file_name")] string FileName,
    [property: JsonPropertyName("num_pages")] int NumPages,
    [property: JsonPropertyName("cost")] decimal Cost);

/// <summary>The document's upload answer (for a batch: the first file's id and code, the batch's pages and cost), plus every file.</summary>
public sealed record UploadResponse(
    [property: JsonPropertyName("file_id")] long FileId,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("num_pages")] int NumPages,
    [property: JsonPropertyName("total_cost")] decimal TotalCost,
    [property: JsonPropertyName("queue_position")] int? QueuePosition,
    [property: JsonPropertyName("payment_order_id")] long PaymentOrderId,
    [property: JsonPropertyName("refunded_to_wallet")] decimal RefundedToWallet,
    [property: JsonPropertyName("files")] IReadOnlyList<UploadedFileView> Files);

public sealed record CostedFileView(
    [property: JsonPropertyName("file_name")] string FileName,
    [property: JsonPropertyName("num_pages")] int NumPages,
    [property: JsonPropertyName("cost")] decimal Cost);

public sealed record CalculateCostResponse(
    [property: JsonPropertyName("files")] IReadOnlyList<CostedFileView> Files,
    [property: JsonPropertyName("total_pages")] int TotalPages,
    [property: JsonPropertyName("copies")] int Copies,
    [property: JsonPropertyName("color_mode")] string ColorMode,
    [property: JsonPropertyName("price_per_page")] decimal PricePerPage,
    [property: JsonPropertyName("total_cost")] decimal TotalCost);

/// <summary><c>GET /file/:code/status</c>: the status, and why and when when a shop cancelled it.</summary>
public sealed record FileStatusResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("cancel_reason")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CancelReason = null,
    [property: JsonPropertyName("cancelled_at")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CancelledAt = null);

public sealed record PrintFileView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("file_name")] string FileName,
    [property: JsonPropertyName("num_pages")] int NumPages,
    [property: JsonPropertyName("copies")] int Copies,
    [property: JsonPropertyName("print_mode")] string PrintMode,
    [property: JsonPropertyName("color_mode")] string ColorMode,
    [property: JsonPropertyName("paper_size")] string PaperSize,
    [property: JsonPropertyName("print_type")] string PrintType,
    [property: JsonPropertyName("shop_id")] long? ShopId,
    [property: JsonPropertyName("comment")] string? Comment,
    [property: JsonPropertyName("total_cost")] decimal TotalCost,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("payment_order_id")] long PaymentOrderId,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("printed_at")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrintedAt,
    [property: JsonPropertyName("cancel_reason")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CancelReason,
    [property: JsonPropertyName("cancelled_at")] [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CancelledAt)
{
    public static PrintFileView Of(PrintFileRow f) => new(f.Id, f.Code, f.FileName, f.NumPages, f.Copies, f.PrintMode, f.ColorMode, f.PaperSize,
        f.PrintType, f.ShopId, f.Comment, PrintMoney.Rupees(f.CostMinor), f.Status, f.PaymentOrderId, f.SizeBytes, PrintTimes.Format(f.CreatedAt),
        f.PrintedAt is { } printed ? PrintTimes.Format(printed) : null, f.Status == FileStatus.Cancelled ? f.CancelReason : null,
        f.CancelledAt is { } cancelled ? PrintTimes.Format(cancelled) : null);
}

public sealed record MyFilesResponse(
    [property: JsonPropertyName("files")] IReadOnlyList<PrintFileView> Files,
    [property: JsonPropertyName("total")] int Total);

/// <summary>A queue order: the files one payment order sent to this shop, oldest order first.</summary>
public sealed record QueueOrderView(
    [property: JsonPropertyName("order_group_id")] long OrderGroupId,
    [property: JsonPropertyName("first_file_id")] long FirstFileId,
    [property: JsonPropertyName("customer_id")] long CustomerId,
    [property: JsonPropertyName("file_count")] int FileCount,
    [property: JsonPropertyName("total_pages")] int TotalPages,
    [property: JsonPropertyName("total_cost")] decimal TotalCost,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("comment")] string? Comment,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("files")] IReadOnlyList<PrintFileView> Files);

public sealed record ShopHistoryView(
    [property: JsonPropertyName("file_id")] long FileId,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("file_name")] string FileName,
    [property: JsonPropertyName("print_type")] string PrintType,
    [property: JsonPropertyName("num_pages")] int NumPages,
    [property: JsonPropertyName("copies")] int Copies,
    [property: JsonPropertyName("color_mode")] string ColorMode,
    [property: JsonPropertyName("print_mode")] string PrintMode,
    [property: JsonPropertyName("paper_size")] string PaperSize,
    [property: JsonPropertyName("total_cost")] decimal TotalCost,
    [property: JsonPropertyName("earned")] decimal Earned,
    [property: JsonPropertyName("printed_at")] string PrintedAt);

public sealed record ShopHistoryResponse(
    [property: JsonPropertyName("history")] IReadOnlyList<ShopHistoryView> History,
    [property: JsonPropertyName("total")] int Total);

/// <summary>What a shop's move (print started, print failed, confirmed) left the file at.</summary>
public sealed record FileMoveResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message")] string Message);

/// <summary>
/// <c>POST /withdraw/:fileId</c>, optional body: <c>refund_to</c> <c>original</c> (default: the wallet part to the
/// wallet, an online part back through Razorpay, 5–7 business days) or <c>wallet</c> (all of it to the wallet, at once).
/// </summary>
public sealed record WithdrawFileRequest(
    [property: JsonPropertyName("refund_to"), AllowedValues("original", "wallet")] string? RefundTo = null);

public sealed record WithdrawFileResponse(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("file_id")] long FileId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("refund_amount")] decimal RefundAmount,
    [property: JsonPropertyName("refunded_to_wallet")] decimal RefundedToWallet,
    [property: JsonPropertyName("refunded_to_source")] decimal RefundedToSource);

public sealed record CancelQueueOrderRequest(
    [property: JsonPropertyName("reason"), Required, MinLength(1),
     Description("Why the order is cancelled, told to the customer: 1 to 500 characters once surrounding spaces are trimmed.")] string? Reason);

public sealed record CancelQueueOrderResponse(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("order_group_id")] long OrderGroupId,
    [property: JsonPropertyName("cancelled_files")] IReadOnlyList<long> CancelledFiles,
    [property: JsonPropertyName("refund_amount")] decimal RefundAmount);
