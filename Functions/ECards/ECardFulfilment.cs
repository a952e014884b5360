using System.Net;
using System.Text;
using Azure.Data.Tables;
using Serverless.Platform.Email;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

/// <summary>
/// Behind the statuses after Payed: assign codes from stock (→ ReadyForDelivery, or AwaitingCertificateAssignment
/// when stock runs short), then email the assigned codes to the participant (→ Delivered, or PartiallyDelivered
/// while codes are missing). Every step is a change of the order row through the transition seam (its moves checked
/// against <see cref="ECardOrderStatus.Machine"/>) and safe to run again: codes claimed but not recorded are found by
/// their order key, and each delivery batch is one email (idempotency key per batch). An order stays in the pending
/// list until it is final, and loading stock runs the list again.
/// </summary>
public sealed class ECardFulfilment(StorageAccount storage, PartnerAccounts accounts, CertificateStock stock, Mailer mailer,
    ILogger<ECardFulfilment> logger)
{
    public const string TableName = "ecardfulfilment";

    private TableClient Pending => storage.Table(TableName);

    public static string OrderKey(string partnerId, string orderId) => PartnerAccounts.Partition(partnerId) + "|" + orderId;

    /// <summary>Remembers that an order needs fulfilment; written before the debit, so a crash after it is never forgotten.</summary>
    public Task MarkPendingAsync(string partnerId, string orderId, CancellationToken cancellationToken = default) =>
        Pending.UpsertEntityAsync(new PendingFulfilmentRow { RowKey = OrderKey(partnerId, orderId), PartnerId = partnerId, OrderId = orderId },
            TableUpdateMode.Replace, cancellationToken);

    /// <summary>
    /// Fulfils every order that is not finished yet (after stock arrived). An order whose fulfilment fails stays
    /// pending and does not hold up the orders after it.
    /// </summary>
    public async Task<int> RunPendingAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<PendingFulfilmentRow>();
        await foreach (var row in Pending.QueryAsync<PendingFulfilmentRow>(r => r.PartitionKey == PendingFulfilmentRow.Partition, cancellationToken: cancellationToken))
            rows.Add(row);
        foreach (var row in rows)
            await TryFulfilAsync(row.PartnerId, row.OrderId, cancellationToken);
        return rows.Count;
    }

    /// <summary>
    /// <see cref="FulfilAsync(string, string, CancellationToken)"/> for callers whose own work is done whatever
    /// happens here (the order is paid, or cancelled): a failure is logged and the order stays pending for the next
    /// run. Returns null then.
    /// </summary>
    public Task<ECardOrderRow?> TryFulfilAsync(string partnerId, string orderId, CancellationToken cancellationToken = default) =>
        TryAsync(partnerId, orderId, () => FulfilAsync(partnerId, orderId, cancellationToken), cancellationToken);

    /// <summary>The same, from the order row just read or written.</summary>
    public Task<ECardOrderRow?> TryFulfilAsync(ECardOrderRow order, CancellationToken cancellationToken = default) =>
        TryAsync(order.PartnerId, order.OrderId, () => FulfilAsync(order, cancellationToken), cancellationToken);

    private async Task<ECardOrderRow?> TryAsync(string partnerId, string orderId, Func<Task<ECardOrderRow?>> fulfil, CancellationToken cancellationToken)
    {
        try
        {
            return await fulfil();
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning(ex, "Fulfilment of e-card order {OrderId} of partner {PartnerId} stopped; it stays pending", orderId, partnerId);
            return null;
        }
    }

    /// <summary>Takes one order as far as stock allows. Returns the order as stored afterwards.</summary>
    public async Task<ECardOrderRow?> FulfilAsync(string partnerId, string orderId, CancellationToken cancellationToken = default)
    {
        var order = await accounts.FindAsync(partnerId, orderId, cancellationToken);
        if (order is not null)
            return await FulfilAsync(order, cancellationToken);
        await Pending.DeleteEntityAsync(PendingFulfilmentRow.Partition, OrderKey(partnerId, orderId), cancellationToken: cancellationToken);
        return null;
    }

    /// <summary>
    /// The same, from an order row just read or written (placing or cancelling it), without reading it again:
    /// every step is ETag-conditional, so a row changed meanwhile is read again by the step that meets it.
    /// </summary>
    public async Task<ECardOrderRow?> FulfilAsync(ECardOrderRow order, CancellationToken cancellationToken = default)
    {
        var (partnerId, orderId) = (order.PartnerId, order.OrderId);
        ECardOrderRow? current = order;
        if (!ECardOrderStatus.IsFinal(current.Status))
            current = await AssignAsync(current, cancellationToken);
        if (current is not null && !ECardOrderStatus.IsFinal(current.Status))
            current = await DeliverAsync(current, cancellationToken);
        if (current is not null)
            current = await EmailAsync(current, cancellationToken);
        if (current is not null && ECardOrderStatus.IsFinal(current.Status))
        {
            // A cancelled order's codes go back to stock before it leaves the list: a cancel cut short after its
            // transaction (a crash, a lost answer) is finished by the next run.
            if (current.Status == ECardOrderStatus.Cancelled)
                await stock.ReleaseAsync(current.Lines().Select(l => (l.ECardId, l.FaceValue)), OrderKey(partnerId, orderId), cancellationToken);
            await Pending.DeleteEntityAsync(PendingFulfilmentRow.Partition, OrderKey(partnerId, orderId), cancellationToken: cancellationToken);
        }
        else if (current is not null && current.Status != ECardOrderStatus.Payed)
            // Still waiting for codes: make sure it is listed (a refused concurrent request may have removed the row).
            await MarkPendingAsync(partnerId, orderId, cancellationToken);
        return current;
    }

    private async Task<ECardOrderRow?> AssignAsync(ECardOrderRow order, CancellationToken cancellationToken)
    {
        var key = OrderKey(order.PartnerId, order.OrderId);
        var certificates = order.Certificates().ToList();
        var known = certificates.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
        var claimed = new List<AssignedCertificate>();
        foreach (var slot in order.Lines().GroupBy(l => (l.ECardId, l.FaceValue)))
        {
            var wanted = slot.Sum(l => l.Quantity) - certificates.Count(c => c.ECardId == slot.Key.ECardId && c.FaceValue == slot.Key.FaceValue);
            if (wanted <= 0)
                continue;
            var codes = await stock.ClaimAsync(slot.Key.ECardId, slot.Key.FaceValue, key, wanted, known, cancellationToken);
            claimed.AddRange(codes.Select(code => new AssignedCertificate(slot.Key.ECardId, slot.Key.FaceValue, code, 0)));
        }
        // The outcome is the codes the order holds as stored (by the attempt that wrote, or as last read when nothing
        // was written): what was claimed beyond them goes back to stock.
        var assigned = await accounts.ChangeOrderAsync(order, change => RecordClaims(change, claimed), cancellationToken);
        var recorded = assigned.Outcome;
        if (assigned.Row is not null && claimed.Where(c => !recorded.Contains(c.Code)).ToList() is { Count: > 0 } surplus)
            await stock.ReleaseCodesAsync(surplus.Select(c => (c.ECardId, c.FaceValue, c.Code)), key, cancellationToken);
        return assigned.Row;
    }

    private static IReadOnlySet<string> RecordClaims(Change<ECardOrderRow> change, IReadOnlyList<AssignedCertificate> claimed)
    {
        if (change.Current is not { } o)
            return new HashSet<string>(StringComparer.Ordinal);
        var current = o.Certificates().ToList();
        // Final: nothing to record; what was claimed is released (and a cancelled order's codes by FulfilAsync).
        if (ECardOrderStatus.IsFinal(o.Status))
            return current.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
        var have = current.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
        // Never more codes than the line asks for: a concurrent run may have recorded its own claims first.
        foreach (var slot in o.Lines().GroupBy(l => (l.ECardId, l.FaceValue)))
        {
            var room = slot.Sum(l => l.Quantity) - current.Count(c => c.ECardId == slot.Key.ECardId && c.FaceValue == slot.Key.FaceValue);
            current.AddRange(claimed.Where(c => c.ECardId == slot.Key.ECardId && c.FaceValue == slot.Key.FaceValue && !have.Contains(c.Code)).Take(Math.Max(0, room)));
        }
        var complete = o.Lines().Sum(l => l.Quantity) == current.Count;
        var status = complete ? ECardOrderStatus.ReadyForDelivery
            : o.DeliveryBatches > 0 ? ECardOrderStatus.PartiallyDelivered
            : ECardOrderStatus.AwaitingCertificateAssignment;
        if (status != o.Status || current.Count != have.Count)
            change.Write(o.WithCertificates(current) with { Status = status });
        return current.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Puts the codes not yet delivered into the next delivery batch: Delivered, or PartiallyDelivered while codes are missing.</summary>
    private async Task<ECardOrderRow?> DeliverAsync(ECardOrderRow order, CancellationToken cancellationToken) =>
        (await accounts.ChangeOrderAsync(order, change =>
        {
            if (change.Current is not { } o || ECardOrderStatus.IsFinal(o.Status))
                return false;
            var certificates = o.Certificates().ToList();
            if (!certificates.Any(c => c.Batch == 0))
                return false;
            var batch = o.DeliveryBatches + 1;
            var delivered = certificates.Select(c => c.Batch == 0 ? c with { Batch = batch } : c).ToList();
            var complete = o.Lines().Sum(l => l.Quantity) == delivered.Count;
            change.Write(o.WithCertificates(delivered) with
            {
                DeliveryBatches = batch,
                Status = complete ? ECardOrderStatus.Delivered : ECardOrderStatus.PartiallyDelivered,
            });
            return true;
        }, cancellationToken)).Row;

    /// <summary>Queues the email of every delivery batch not yet emailed, one email per batch.</summary>
    private async Task<ECardOrderRow?> EmailAsync(ECardOrderRow order, CancellationToken cancellationToken)
    {
        var current = order;
        while (current is not null && current.EmailedBatches < current.DeliveryBatches)
        {
            var batch = current.EmailedBatches + 1;
            var certificates = current.Certificates().Where(c => c.Batch == batch).ToList();
            try
            {
                await mailer.EnqueueAsync(Email(current, certificates), $"ecard-order/{current.PartitionKey}/{current.OrderId}/{batch}", cancellationToken);
            }
            catch (ArgumentException ex)
            {
                // An address that can never receive mail: recorded as emailed so it is not retried forever.
                logger.LogWarning("E-card order {OrderId} batch {Batch} cannot be emailed: {Reason}", current.OrderId, batch, ex.Message);
            }
            current = (await accounts.ChangeOrderAsync(current, change =>
            {
                if (change.Current is not { } o || o.EmailedBatches >= batch)
                    return false;
                change.Write(o with { EmailedBatches = batch });
                return true;
            }, cancellationToken)).Row;
        }
        return current;
    }

    private static EmailMessage Email(ECardOrderRow order, IReadOnlyList<AssignedCertificate> certificates)
    {
        var names = order.Lines().GroupBy(l => l.ECardId).ToDictionary(g => g.Key, g => g.First().Name);
        var text = new StringBuilder($"Hello {order.ParticipantName},\n\nYour e-cards from order {order.Number}:\n\n");
        var html = new StringBuilder($"<p>Hello {WebUtility.HtmlEncode(order.ParticipantName)},</p><p>Your e-cards from order {order.Number}:</p><ul>");
        foreach (var certificate in certificates)
        {
            var name = names.GetValueOrDefault(certificate.ECardId, "E-card");
            text.Append($"- {name} ({certificate.FaceValue}): {certificate.Code}\n");
            html.Append($"<li>{WebUtility.HtmlEncode(name)} ({WebUtility.HtmlEncode(certificate.FaceValue)}): <b>{WebUtility.HtmlEncode(certificate.Code)}</b></li>");
        }
        html.Append("</ul>");
        return new EmailMessage([order.ParticipantEmail], $"Your e-cards (order {order.Number})", html.ToString(), text.ToString());
    }
}
