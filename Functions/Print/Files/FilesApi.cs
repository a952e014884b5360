using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Print.Accounts;
using Serverless.Print.Files.Inspection;
using Serverless.Print.Payments;

namespace Serverless.Print.Files;

/// <summary>Limits lookups of files by code per caller, so codes cannot be enumerated.</summary>
public sealed class CodeLookupThrottle(FileSettings settings)
{
    private readonly IdentifierThrottle _throttle = new(settings.CodeLookups);

    public TimeSpan Window => settings.CodeLookups.Window;

    public bool TryAcquire(long userId) => _throttle.TryAcquire("print-code", userId.ToString(CultureInfo.InvariantCulture));
}

/// <summary>
/// The print-shop document's files and queue: <c>POST /upload</c>, <c>POST /calculate-cost</c>, <c>GET /my-files</c>,
/// <c>POST /withdraw/:fileId</c> (customers); <c>GET /file/:code</c>, <c>GET /file/:code/status</c> (the owner, or a
/// shop); <c>POST /file/:code/print-started|print-failed|confirm</c>, <c>GET /queue</c>, <c>GET /queue/:orderGroupId/files</c>,
/// <c>GET /queue/download/:fileId</c>, <c>POST /queue/:fileId/print-started|print-failed|confirm|cancel</c>,
/// <c>GET /shop/history</c> (shopkeepers). A file that is not the caller's to see answers 404.
/// </summary>
public static class FilesApi
{
    public static void MapPrintFiles(this IEndpointRouteBuilder app)
    {
        var customer = Group(app, PrintAuth.CustomerPolicy);
        var user = Group(app, PrintAuth.UserPolicy);
        var shop = Group(app, PrintAuth.ShopkeeperPolicy);
        var settings = app.ServiceProvider.GetRequiredService<FileSettings>();
        var uploadLimit = new RequestSizeLimitAttribute(settings.MaxRequestBytes);

        customer.MapPost("/upload", Upload).WithName("PrintUpload").ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status402PaymentRequired, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType).WithMetadata(uploadLimit).DisableAntiforgery().DocumentUploadForm(upload: true, settings)
            .WithSummary("Upload files to print; the upload uses a paid payment order of the caller's (payment_order_id, else the newest that covers it)")
            .WithDescription("Uploads files to print (multipart/form-data, within the limits the form states) and pays for them with a paid, unused " +
                             "payment order of the caller's: the one named by payment_order_id, else the newest of the same print type (and shop) " +
                             "that covers the cost; what the order paid beyond the cost goes back to the wallet. Answers 201 with each file's " +
                             "6-character code, the cost and, for a queue print, the order's place in the shop's queue. Customers only (bearer token" +
                             " or sign-in cookie). 400 for a form field outside its choices, a shop_id that is not a shop, a file whose content is " +
                             "not a PDF, PNG, JPEG, Word or PowerPoint file or whose pages cannot be counted, or a named order made for another " +
                             "print type or shop; 402 when no paid order covers the cost (or the named one is unpaid or too small); 404 when the " +
                             "named order is not the caller's; 409 when it was already used; 413 when a file or the upload is too large; 415 when " +
                             "the body is not multipart/form-data.");
        user.MapPost("/calculate-cost", CalculateCost).WithName("PrintCalculateCost").ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType).WithMetadata(uploadLimit).DisableAntiforgery()
            .DocumentUploadForm(upload: false, settings).WithSummary("Pages per file and the cost: pages × copies × the price per page of the colour mode")
            .WithDescription("Counts the pages of the files sent as an upload would send them (multipart/form-data) and prices them: pages × copies " +
                             "× the price per page of the colour mode, per file and in all; nothing is stored or charged. Any signed-in print-shop " +
                             "account (customer, shopkeeper or admin). 400 for a form field outside its choices or a file whose content is not a " +
                             "PDF, PNG, JPEG, Word or PowerPoint file or whose pages cannot be counted; 413 when a file or the upload is too large; " +
                             "415 when the body is not multipart/form-data.");
        customer.MapGet("/my-files", MyFiles).WithName("PrintMyFiles").WithSummary("The caller's uploaded files, newest first")
            .WithDescription("The caller's uploaded files, newest first, with their status, print options and cost, and how many there are in all. " +
                             "limit (default 50) is held to 1-100 and offset to 0 or more: values outside are clamped, not refused. Customers only.");
        customer.MapPost("/withdraw/{fileId}", Withdraw).WithName("PrintWithdrawFile").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Withdraw a file that is waiting (uploaded) and get its cost back; 409 once the shop started printing it")
            .WithDescription("Withdraws one of the caller's files that is still waiting to be printed (uploaded) and refunds its cost: by default " +
                             "the wallet-paid part to the wallet at once and an online part back to its source in 5-7 business days; with refund_to " +
                             "\"wallet\" all of it goes to the wallet at once. The body is optional. Customers only. 400 when refund_to is neither " +
                             "\"original\" nor \"wallet\"; 404 when the file is not the caller's; 409 once a shop started printing it, or when it " +
                             "was already printed, withdrawn (a repeat) or cancelled.");
        user.MapGet("/file/{code}", Download).WithName("PrintDownloadFile").ProducesErrors(StatusCodes.Status410Gone).WithSummary("Download a file by its 6-character code (its owner, or a shop)")
            .WithDescription("Streams a file's content by its 6-character code, with its content type and file name. Its owner may download it, and " +
                             "shopkeepers: any shop a private print, only the chosen shop a queue print. 404 when the code is malformed, unknown or " +
                             "not the caller's to see; 410 when the file was printed, withdrawn or cancelled and its content is no longer kept; 429 " +
                             "after too many code lookups by the caller in a minute.").ProducesPrintFile();
        user.MapGet("/file/{code}/status", Status).WithName("PrintFileStatus").WithSummary("A file's status by its code")
            .WithDescription("A file's status by its 6-character code: uploaded, printing, downloaded (printed), withdrawn or cancelled, with the " +
                             "reason and time when a shop cancelled it. The same callers as the download: its owner, or a shopkeeper (any shop for a" +
                             " private print, the chosen shop for a queue print). 404 when the code is malformed, unknown or not the caller's to " +
                             "see; 429 after too many code lookups by the caller in a minute.");
        shop.MapPost("/file/{code}/print-started", (string code, PrintSession session, PrintFiles files, CodeLookupThrottle throttle, HttpContext context) =>
            MoveByCode(code, PrintFiles.ShopMove.Started, session, files, throttle, context)).WithName("PrintFilePrintStarted").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("A shop started printing the file (uploaded → printing): the customer can no longer withdraw it")
            .WithDescription("A shopkeeper marks the file with this code as being printed (uploaded → printing); from then on its customer can no " +
                             "longer withdraw it. Any shop may take a private print, only the chosen shop a queue print; asking again while the shop" +
                             " prints it answers the file unchanged. 404 when the code is malformed, unknown or not the shop's to see; 409 when " +
                             "another shop is printing it or it was printed, withdrawn or cancelled; 429 after too many code lookups in a minute.");
        shop.MapPost("/file/{code}/print-failed", (string code, PrintSession session, PrintFiles files, CodeLookupThrottle throttle, HttpContext context) =>
            MoveByCode(code, PrintFiles.ShopMove.Failed, session, files, throttle, context)).WithName("PrintFilePrintFailed").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("The print failed or timed out (printing → uploaded): the customer can withdraw again")
            .WithDescription("A shopkeeper reports that the print of the file with this code failed or timed out (printing → uploaded): the file " +
                             "waits again and its customer can withdraw it. A file already waiting is answered unchanged. 404 when the code is " +
                             "malformed, unknown or not the shop's to see; 409 when another shop is printing it or it was printed, withdrawn or " +
                             "cancelled; 429 after too many code lookups in a minute.");
        shop.MapPost("/file/{code}/confirm", (string code, PrintSession session, PrintFiles files, CodeLookupThrottle throttle, HttpContext context) =>
            MoveByCode(code, PrintFiles.ShopMove.Confirmed, session, files, throttle, context)).WithName("PrintFileConfirm").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("The print is done (uploaded or printing → downloaded): the content is deleted and the shop's earnings credited")
            .WithDescription("A shopkeeper confirms that the file with this code is printed (uploaded or printing → downloaded): its content is " +
                             "deleted and the shop's earnings for it credited. Confirming again answers the file unchanged. 404 when the code is " +
                             "malformed, unknown or not the shop's to see; 409 when another shop is printing or printed it, or it was withdrawn or " +
                             "cancelled; 429 after too many code lookups in a minute.");
        shop.MapGet("/queue", Queue).WithName("PrintQueue").WithSummary("The shop's queue: open orders, oldest first, each with first_file_id and its files")
            .WithDescription("The calling shop's open queue orders, oldest first: for each payment order sent to this shop, its files with " +
                             "first_file_id, the file count, total pages and cost, the customer's comment, and status printing when any file is " +
                             "printing (else uploaded). Cancelled orders are left out; there is no paging. Shopkeepers only.");
        shop.MapGet("/queue/{orderGroupId}/files", QueueFiles).WithName("PrintQueueOrderFiles").WithSummary("The files of one queue order of the shop")
            .WithDescription("The files one queue order sent to the calling shop (orderGroupId is the order's payment order id), cancelled files " +
                             "left out. Shopkeepers only. 404 when the order is not in this shop's queue or all its files were cancelled.");
        shop.MapGet("/queue/download/{fileId}", QueueDownload).WithName("PrintQueueDownload").ProducesErrors(StatusCodes.Status410Gone).WithSummary("Download a file of the shop's queue")
            .WithDescription("Streams the content of a file in the calling shop's queue, by its id, with its content type and file name. Shopkeepers" +
                             " only. 404 when the file is not a queue print sent to this shop; 410 when it was printed, withdrawn or cancelled and " +
                             "its content is no longer kept.").ProducesPrintFile();
        shop.MapPost("/queue/{fileId}/print-started", (string fileId, PrintSession session, PrintFiles files, HttpContext context) =>
            MoveInQueue(fileId, PrintFiles.ShopMove.Started, session, files, context)).WithName("PrintQueuePrintStarted").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("A queue file's print started (uploaded → printing)")
            .WithDescription("The calling shop marks a file of its queue as being printed (uploaded → printing); from then on its customer can no " +
                             "longer withdraw it. Asking again while the shop prints it answers the file unchanged. Shopkeepers only. 404 when the " +
                             "file is not a queue print sent to this shop; 409 when it was printed, withdrawn or cancelled.");
        shop.MapPost("/queue/{fileId}/print-failed", (string fileId, PrintSession session, PrintFiles files, HttpContext context) =>
            MoveInQueue(fileId, PrintFiles.ShopMove.Failed, session, files, context)).WithName("PrintQueuePrintFailed").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("A queue file's print failed (printing → uploaded)")
            .WithDescription("The calling shop reports that the print of a file of its queue failed (printing → uploaded): the file waits again and " +
                             "its customer can withdraw it. A file already waiting is answered unchanged. Shopkeepers only. 404 when the file is not" +
                             " a queue print sent to this shop; 409 when it was printed, withdrawn or cancelled.");
        shop.MapPost("/queue/{fileId}/confirm", (string fileId, PrintSession session, PrintFiles files, HttpContext context) =>
            MoveInQueue(fileId, PrintFiles.ShopMove.Confirmed, session, files, context)).WithName("PrintQueueConfirm").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("A queue file is printed (→ downloaded): the content is deleted and the shop's earnings credited")
            .WithDescription("The calling shop confirms that a file of its queue is printed (uploaded or printing → downloaded): its content is " +
                             "deleted and the shop's earnings for it credited. Confirming again answers the file unchanged. Shopkeepers only. 404 " +
                             "when the file is not a queue print sent to this shop; 409 when it was withdrawn or cancelled.");
        shop.MapPost("/queue/{fileId}/cancel", Cancel).WithName("PrintQueueCancel").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Cancel the queue order a file belongs to, before printing: every waiting file is cancelled, the customer refunded once and notified")
            .WithDescription("Cancels, before printing, the whole queue order the file belongs to: every file of it still waiting is cancelled with " +
                             "the reason (1-500 characters, required), what they cost is refunded to the customer once (the wallet part to the " +
                             "wallet, an online part to its source), and the customer is notified. Shopkeepers only. 400 when reason is missing, " +
                             "blank or longer than 500 characters, or a file of the order is already printing; 404 when the file is not a queue " +
                             "print sent to this shop; 409 when nothing in the order is waiting any more or the order was cancelled already.");
        shop.MapGet("/shop/history", History).WithName("PrintShopHistory").WithSummary("The prints the shop confirmed, newest first")
            .WithDescription("The prints the calling shop confirmed, newest first, with what each cost and what the shop earned, and how many there " +
                             "are in all. limit (default 50) is held to 1-100 and offset to 0 or more: values outside are clamped, not refused. " +
                             "Shopkeepers only.");
    }

    /// <summary>A download's 200 in the document: the file's content, as one of the types an upload accepts.</summary>
    private static RouteHandlerBuilder ProducesPrintFile(this RouteHandlerBuilder builder) =>
        builder.Produces<Stream>(StatusCodes.Status200OK, "application/pdf", "image/png", "image/jpeg", "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation");

    private static RouteGroupBuilder Group(IEndpointRouteBuilder app, string policy) =>
        app.MapGroup("").WithTags("Print-shop files and queue").WithErrorShape(PrintErrorShape.Instance).RequireAuthorization(policy)
            .WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);

    // ---- Customers ----

    public static async Task<Results<Created<UploadResponse>, ErrorResult>> Upload(HttpRequest request, PrintSession session, PrintFiles files,
        PaymentOrders orders, FileSettings settings, CancellationToken cancellationToken)
    {
        var (form, formError) = await UploadForm.ReadAsync(request, settings, cancellationToken);
        if (formError is not null)
            return ApiErrors.Result(formError);
        using (form)
        {
            var (options, optionsError) = Options(form!, upload: true);
            if (optionsError is not null)
                return ApiErrors.Result(optionsError);
            if (options!.ShopId is { } shopId && !await orders.IsShopkeeperAsync(shopId, cancellationToken))
                return Invalid($"'shop_id' {shopId} is not a shop.");
            if (await InspectAsync(form!, cancellationToken) is { } problem)
                return ApiErrors.Result(problem);
            var cost = form!.Files.Sum(f => files.CostOf(f.Inspected!.Pages, options));
            var (order, orderError) = await files.ChooseOrderAsync(session.UserId, Blank(form.Field("payment_order_id")), options, cost, cancellationToken);
            if (orderError is not null)
                return ApiErrors.Result(orderError);
            var (stored, storeError) = await files.StoreAsync(session.UserId, order!, options, form.Files, cancellationToken);
            if (storeError is not null)
                return ApiErrors.Result(storeError);
            var first = stored!.Files[0];
            return TypedResults.Created($"/file/{first.Code}/status", new UploadResponse(first.Id, first.Code, stored.Files.Sum(f => f.NumPages),
                PrintMoney.Rupees(stored.Files.Sum(f => f.CostMinor)), stored.QueuePosition, stored.Order.Id, PrintMoney.Rupees(stored.ExcessMinor),
                stored.Files.Select(f => new UploadedFileView(f.Id, f.Code, f.FileName, f.NumPages, PrintMoney.Rupees(f.CostMinor))).ToList()));
        }
    }

    public static async Task<Results<Ok<CalculateCostResponse>, ErrorResult>> CalculateCost(HttpRequest request, PrintFiles files, FileSettings settings,
        CancellationToken cancellationToken)
    {
        var (form, formError) = await UploadForm.ReadAsync(request, settings, cancellationToken);
        if (formError is not null)
            return ApiErrors.Result(formError);
        using (form)
        {
            var (options, optionsError) = Options(form!, upload: false);
            if (optionsError is not null)
                return ApiErrors.Result(optionsError);
            if (await InspectAsync(form!, cancellationToken) is { } problem)
                return ApiErrors.Result(problem);
            var costed = form!.Files.Select(f => new CostedFileView(f.FileName, f.Inspected!.Pages, PrintMoney.Rupees(files.CostOf(f.Inspected.Pages, options!))))
                .ToList();
            return TypedResults.Ok(new CalculateCostResponse(costed, costed.Sum(f => f.NumPages), options!.Copies, options.ColorMode,
                PrintMoney.Rupees(files.PricePerPageMinor(options.ColorMode)), costed.Sum(f => f.Cost)));
        }
    }

    public static async Task<Ok<MyFilesResponse>> MyFiles(PrintSession session, PrintFiles files, CancellationToken cancellationToken, int? limit = null,
        int? offset = null)
    {
        var (page, total) = await files.CustomerFilesAsync(session.UserId, Math.Clamp(limit ?? 50, 1, 100), Math.Max(offset ?? 0, 0), cancellationToken);
        return TypedResults.Ok(new MyFilesResponse(page.Select(PrintFileView.Of).ToList(), total));
    }

    public static async Task<Results<Ok<WithdrawFileResponse>, ErrorResult>> Withdraw(string fileId, PrintSession session, PrintFiles files,
        CancellationToken cancellationToken, [FromBody] WithdrawFileRequest? body = null)
    {
        if (body?.RefundTo is not (null or "original" or "wallet"))
            return Invalid("'refund_to' must be \"original\" or \"wallet\".");
        var file = long.TryParse(fileId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? await files.FindByIdAsync(id, cancellationToken) : null;
        if (file is null || file.CustomerId != session.UserId)
            return ApiErrors.NotFound("File not found.");
        var (withdrawn, refund, error) = await files.WithdrawAsync(file, body?.RefundTo == "wallet", "withdrawn by the customer", cancellationToken);
        if (error is not null)
            return ApiErrors.Result(error);
        var toWallet = refund?.WalletMinor ?? 0;
        var toSource = refund?.ProviderMinor ?? 0;
        return TypedResults.Ok(new WithdrawFileResponse(
            toSource > 0 ? "File withdrawn. The online payment is refunded to its source in 5-7 business days." : "File withdrawn and refunded to your wallet.",
            withdrawn!.Id, withdrawn.Status, PrintMoney.Rupees(withdrawn.CostMinor), PrintMoney.Rupees(toWallet), PrintMoney.Rupees(toSource)));
    }

    // ---- By code: the owner or a shop ----

    public static async Task<Results<FileStreamHttpResult, ErrorResult>> Download(string code, PrintSession session, PrintFiles files,
        CodeLookupThrottle throttle, HttpContext context)
    {
        var (file, error) = await ByCodeAsync(code, session, files, throttle, context, ownerMay: true);
        if (error is not null)
            return error;
        return await StreamAsync(file!, files, context);
    }

    public static async Task<Results<Ok<FileStatusResponse>, ErrorResult>> Status(string code, PrintSession session, PrintFiles files,
        CodeLookupThrottle throttle, HttpContext context)
    {
        var (file, error) = await ByCodeAsync(code, session, files, throttle, context, ownerMay: true);
        if (error is not null)
            return error;
        return TypedResults.Ok(file!.Status == FileStatus.Cancelled
            ? new FileStatusResponse(file.Status, file.CancelReason, file.CancelledAt is { } at ? PrintTimes.Format(at) : null)
            : new FileStatusResponse(file.Status));
    }

    private static async Task<Results<Ok<FileMoveResponse>, ErrorResult>> MoveByCode(string code, PrintFiles.ShopMove move, PrintSession session,
        PrintFiles files, CodeLookupThrottle throttle, HttpContext context)
    {
        var (file, error) = await ByCodeAsync(code, session, files, throttle, context, ownerMay: false);
        if (error is not null)
            return error;
        return await MoveAsync(file!, move, session, files, context.RequestAborted);
    }

    /// <summary>
    /// A file by its code, if the caller may see it: its owner (when <paramref name="ownerMay"/>), any shop for a private
    /// print, only its shop for a queue print. Lookups are limited per caller.
    /// </summary>
    private static async Task<(PrintFileRow? File, ErrorResult? Error)> ByCodeAsync(string code, PrintSession session, PrintFiles files,
        CodeLookupThrottle throttle, HttpContext context, bool ownerMay)
    {
        if (!throttle.TryAcquire(session.UserId))
            return (null, RateLimitPolicies.TooManyRequests(context, throttle.Window, "too_many_lookups", "Too many file code lookups; wait a minute and try again."));
        if (!PrintFiles.IsCode(code))
            return (null, ApiErrors.NotFound("File not found: a code is 6 letters or digits."));
        var file = await files.FindByCodeAsync(code, context.RequestAborted);
        var allowed = file is not null && ((ownerMay && file.CustomerId == session.UserId)
                                           || (session.Role == PrintRoles.Shopkeeper && (file.PrintType == PrintTypes.Private || file.ShopId == session.UserId)));
        return allowed ? (file, null) : (null, ApiErrors.NotFound("File not found."));
    }

    // ---- The shop's queue ----

    public static async Task<Ok<List<QueueOrderView>>> Queue(PrintSession session, PrintFiles files, CancellationToken cancellationToken)
    {
        var queue = await files.QueueAsync(session.UserId, cancellationToken);
        return TypedResults.Ok(queue.Select(q => OrderView(q.Order.PaymentOrderId, q.Order.CustomerId, q.Order.CreatedAt, q.Files)).ToList());
    }

    public static async Task<Results<Ok<List<PrintFileView>>, ErrorResult>> QueueFiles(string orderGroupId, PrintSession session, PrintFiles files,
        CancellationToken cancellationToken)
    {
        var order = long.TryParse(orderGroupId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? await files.QueueOrderAsync(session.UserId, id, cancellationToken)
            : null;
        return order is null ? ApiErrors.NotFound("Order not found in this shop's queue.") : TypedResults.Ok(order.Select(PrintFileView.Of).ToList());
    }

    public static async Task<Results<FileStreamHttpResult, ErrorResult>> QueueDownload(string fileId, PrintSession session, PrintFiles files,
        HttpContext context)
    {
        var file = await QueueFileAsync(fileId, session, files, context.RequestAborted);
        return file is null ? ApiErrors.NotFound("File not found in this shop's queue.") : await StreamAsync(file, files, context);
    }

    private static async Task<Results<Ok<FileMoveResponse>, ErrorResult>> MoveInQueue(string fileId, PrintFiles.ShopMove move, PrintSession session,
        PrintFiles files, HttpContext context)
    {
        var file = await QueueFileAsync(fileId, session, files, context.RequestAborted);
        return file is null ? ApiErrors.NotFound("File not found in this shop's queue.") : await MoveAsync(file, move, session, files, context.RequestAborted);
    }

    public static async Task<Results<Ok<CancelQueueOrderResponse>, ErrorResult>> Cancel(string fileId, CancelQueueOrderRequest body, PrintSession session,
        PrintFiles files, CancellationToken cancellationToken)
    {
        var reason = body.Reason?.Trim();
        if (string.IsNullOrEmpty(reason))
            return Invalid("'reason' is required: tell the customer why the order is cancelled.");
        if (reason.Length > 500)
            return Invalid("'reason' must be at most 500 characters.");
        var file = await QueueFileAsync(fileId, session, files, cancellationToken);
        if (file is null)
            return ApiErrors.NotFound("File not found in this shop's queue.");
        var (cancelled, refund, error) = await files.CancelOrderAsync(file.CustomerId, file.PaymentOrderId, session.UserId, reason, cancellationToken);
        if (error is not null)
            return ApiErrors.Result(error);
        var ids = cancelled!.Where(f => f.Status == FileStatus.Cancelled).Select(f => f.Id).ToList();
        return TypedResults.Ok(new CancelQueueOrderResponse("Order cancelled; the customer is refunded and notified.", file.PaymentOrderId, ids,
            PrintMoney.Rupees((refund?.WalletMinor ?? 0) + (refund?.ProviderMinor ?? 0))));
    }

    public static async Task<Ok<ShopHistoryResponse>> History(PrintSession session, PrintFiles files, CancellationToken cancellationToken, int? limit = null,
        int? offset = null)
    {
        var (page, total) = await files.HistoryAsync(session.UserId, Math.Clamp(limit ?? 50, 1, 100), Math.Max(offset ?? 0, 0), cancellationToken);
        return TypedResults.Ok(new ShopHistoryResponse(page.Select(h => new ShopHistoryView(h.FileId, h.Code, h.FileName, h.PrintType, h.NumPages, h.Copies,
            h.ColorMode, h.PrintMode, h.PaperSize, PrintMoney.Rupees(h.CostMinor), PrintMoney.Rupees(h.EarnedMinor), PrintTimes.Format(h.PrintedAt))).ToList(), total));
    }

    /// <summary>A queue file of this shop by its id, else null.</summary>
    private static async Task<PrintFileRow?> QueueFileAsync(string fileId, PrintSession session, PrintFiles files, CancellationToken cancellationToken)
    {
        if (!long.TryParse(fileId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return null;
        var file = await files.FindByIdAsync(id, cancellationToken);
        return file is { PrintType: PrintTypes.Queue } && file.ShopId == session.UserId ? file : null;
    }

    private static async Task<Results<Ok<FileMoveResponse>, ErrorResult>> MoveAsync(PrintFileRow file, PrintFiles.ShopMove move, PrintSession session,
        PrintFiles files, CancellationToken cancellationToken)
    {
        var (moved, error) = await files.MoveAsync(file, session.UserId, move, cancellationToken);
        if (error is not null)
            return ApiErrors.Result(error);
        var message = move switch
        {
            PrintFiles.ShopMove.Started => "Print started.",
            PrintFiles.ShopMove.Failed => "Print marked as failed; the file is waiting again.",
            _ => "Print confirmed; the file is deleted.",
        };
        return TypedResults.Ok(new FileMoveResponse(moved!.Id, moved.Code, moved.Status, message));
    }

    private static async Task<Results<FileStreamHttpResult, ErrorResult>> StreamAsync(PrintFileRow file, PrintFiles files, HttpContext context)
    {
        if (!FileStatus.IsOpen(file.Status))
            return ApiErrors.Result(new ApiError(410, "file_gone", $"This file is {file.Status}; its content is no longer kept."));
        var content = await files.OpenContentAsync(file, context.RequestAborted);
        if (content is null)
            return ApiErrors.Result(new ApiError(410, "file_gone", "This file's content is no longer kept."));
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Stream(content, file.ContentType, file.FileName);
    }

    private static QueueOrderView OrderView(long orderId, long customerId, DateTimeOffset createdAt, List<PrintFileRow> orderFiles)
    {
        var ordered = orderFiles.OrderBy(f => f.Id).ToList();
        var status = ordered.Any(f => f.Status == FileStatus.Printing) ? FileStatus.Printing : FileStatus.Uploaded;
        return new QueueOrderView(orderId, ordered[0].Id, customerId, ordered.Count, ordered.Sum(f => f.NumPages), PrintMoney.Rupees(ordered.Sum(f => f.CostMinor)),
            status, ordered[0].Comment, PrintTimes.Format(createdAt), ordered.Select(PrintFileView.Of).ToList());
    }

    // ---- The form ----

    private static readonly string[] PaperSizes = ["A4", "A3", "A5", "Letter", "Legal"];

    private static (PrintOptions? Options, ApiError? Error) Options(UploadForm form, bool upload)
    {
        static ApiError Bad(string message) => ApiError.BadRequest(message, "validation_error");
        var printType = Blank(form.Field("print_type"));
        if (upload && printType is not (PrintTypes.Private or PrintTypes.Queue))
            return (null, Bad("'print_type' must be \"private\" or \"queue\"."));
        var copiesText = Blank(form.Field("copies"));
        var copies = 1;
        if (copiesText is not null && (!int.TryParse(copiesText, NumberStyles.None, CultureInfo.InvariantCulture, out copies) || copies is < 1 or > 100))
            return (null, Bad("'copies' must be a whole number between 1 and 100."));
        var printMode = Blank(form.Field("print_mode")) ?? "single";
        if (printMode is not ("single" or "double"))
            return (null, Bad("'print_mode' must be \"single\" or \"double\"."));
        var colorMode = Blank(form.Field("color_mode")) ?? "bw";
        if (colorMode is not ("bw" or "color"))
            return (null, Bad("'color_mode' must be \"bw\" or \"color\"."));
        var paperSize = Blank(form.Field("paper_size")) ?? "A4";
        if (!PaperSizes.Contains(paperSize))
            return (null, Bad($"'paper_size' must be one of {string.Join(", ", PaperSizes)}."));
        var comment = Blank(form.Field("comment"));
        if (comment is { Length: > 500 })
            return (null, Bad("'comment' must be at most 500 characters."));
        long? shopId = null;
        if (Blank(form.Field("shop_id")) is { } shopText)
        {
            if (!long.TryParse(shopText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed <= 0)
                return (null, Bad("'shop_id' must be a shop's numeric id."));
            shopId = parsed;
        }
        if (upload && printType == PrintTypes.Queue && shopId is null)
            return (null, Bad("'shop_id' is required for queue prints."));
        return (new PrintOptions(printType ?? PrintTypes.Private, copies, printMode, colorMode, paperSize, printType == PrintTypes.Queue ? shopId : null, comment),
            null);
    }

    /// <summary>Inspects every file (type, hostile structure, page count); the first problem is the answer.</summary>
    private static async Task<ApiError?> InspectAsync(UploadForm form, CancellationToken cancellationToken)
    {
        foreach (var part in form.Files)
        {
            await using var content = part.OpenRead();
            var inspection = await PrintFileInspector.InspectAsync(content, part.FileName, part.Kind, cancellationToken);
            if (inspection.Problem is { } problem)
                return ApiError.BadRequest(problem, problem == PrintFileInspector.PageCountUnavailable ? "page_count_unavailable" : "invalid_file");
            part.Inspected = inspection.File;
        }
        return null;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static ErrorResult Invalid(string message) => ApiErrors.BadRequest(message, "validation_error");
}
