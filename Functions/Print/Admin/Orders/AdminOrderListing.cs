using System.Globalization;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Payments;

namespace Serverless.Print.Admin.Orders;

/// <summary>What the admin asked for: creation days <c>[From, To]</c> (UTC, inclusive) and optional filters.</summary>
public sealed record AdminOrderQuery(DateOnly From, DateOnly To, string? Status, string? Method, int Limit, int Offset)
{
    public DateTimeOffset Start => new(From.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public DateTimeOffset End => new(To.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public bool Filtered => Status is not null || Method is not null;
}

/// <summary>An order as listed: the order itself (live, or archived when its account was deleted) and its customer's username.</summary>
public sealed record ListedOrder(PaymentOrderRow Order, string EffectiveStatus, string? Username);

/// <summary>
/// Every customer's payment orders, newest first. The index partitions of the months in range are queried in
/// parallel and merged by key; then the orders themselves are read (point reads, in parallel batches) for their
/// status, method and amounts, and the filters are applied to them, until the page is full. An order whose account
/// was deleted is read from <see cref="PaymentOrderArchive"/>; an index row with no order behind it is skipped.
/// </summary>
public sealed class AdminOrderListing(StorageAccount storage, TimeProvider time)
{
    private const int MaxIndexPage = 1000;
    private const int MaxBatch = 100;
    private const int ReadParallelism = 16;

    private TableClient Users => storage.Table(UserDirectory.TableName);

    public async Task<List<ListedOrder>> ListAsync(AdminOrderQuery query, CancellationToken cancellationToken)
    {
        var want = query.Offset + query.Limit;
        var indexPage = query.Filtered ? MaxIndexPage : Math.Min(MaxIndexPage, want);
        var now = time.GetUtcNow();
        await using var candidates = new IndexMerge(Cursors(query, indexPage, cancellationToken));

        var page = new List<(PaymentOrderRow Order, string Status)>(query.Limit);
        var matched = 0;
        while (page.Count < query.Limit)
        {
            // Unfiltered, the next batch is what the page still needs; filtered, more, as some will not match.
            var needed = want - matched;
            var batch = await candidates.TakeAsync(Math.Clamp(query.Filtered ? needed * 2 : needed, query.Filtered ? 16 : 1, MaxBatch));
            if (batch.Count == 0)
                break;
            var orders = await ReadOrdersAsync(batch, cancellationToken);
            foreach (var order in orders)
            {
                if (order is null)
                    continue;
                var status = EffectiveStatus(order, now);
                if ((query.Status is not null && status != query.Status) || (query.Method is not null && order.PaymentMethod != query.Method))
                    continue;
                if (++matched > query.Offset && page.Count < query.Limit)
                    page.Add((order, status));
            }
        }
        var usernames = await UsernamesAsync(page.Select(p => p.Order.UserId), cancellationToken);
        return page.Select(p => new ListedOrder(p.Order, p.Status, usernames.GetValueOrDefault(p.Order.UserId))).ToList();
    }

    /// <summary>A waiting order past its deadline is expired at once, whether or not the deadline has run yet.</summary>
    public static string EffectiveStatus(PaymentOrderRow order, DateTimeOffset now) =>
        order.Status == PaymentOrderStatus.Created && now >= order.ExpiresAt ? PaymentOrderStatus.Expired : order.Status;

    private IEnumerable<IndexCursor> Cursors(AdminOrderQuery query, int pageSize, CancellationToken cancellationToken)
    {
        var table = storage.Table(PaymentOrderIndex.TableName);
        var (start, end) = (query.Start, query.End);
        for (var month = new DateOnly(query.From.Year, query.From.Month, 1); month <= query.To; month = month.AddMonths(1))
        {
            for (var shard = 0; shard < PaymentOrderIndex.Shards; shard++)
            {
                var partition = PaymentOrderIndex.Partition(month.Year, month.Month, shard);
                var filter = TableClient.CreateQueryFilter(
                    $"PartitionKey eq {partition} and RowKey ge {PaymentOrderIndex.FirstRowKey} and RowKey le {PaymentOrderIndex.LastRowKey} and CreatedAt ge {start} and CreatedAt lt {end}");
                yield return new IndexCursor(table.QueryAsync<PaymentOrderIndexRow>(filter, pageSize, cancellationToken: cancellationToken)
                    .AsPages().GetAsyncEnumerator(cancellationToken));
            }
        }
    }

    /// <summary>The orders behind index rows, in the same order; null where there is none (a create that never finished).</summary>
    private async Task<PaymentOrderRow?[]> ReadOrdersAsync(List<PaymentOrderIndexRow> rows, CancellationToken cancellationToken)
    {
        var orders = new PaymentOrderRow?[rows.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, rows.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = cancellationToken },
            async (i, token) => orders[i] = await ReadOrderAsync(rows[i], token));
        return orders;
    }

    private async Task<PaymentOrderRow?> ReadOrderAsync(PaymentOrderIndexRow row, CancellationToken cancellationToken)
    {
        if (row.UserId != 0
            && await Users.FindAsync<PaymentOrderRow>(AccountKeys.Partition(row.UserId), PaymentOrderRow.RowKeyFor(row.OrderId), cancellationToken) is { } live)
            return live;
        // The account was deleted: its orders were kept, without the user, in the archive.
        return await storage.Table(PaymentOrderArchive.TableName).FindAsync<PaymentOrderRow>(PaymentOrderArchive.Partition,
            PaymentOrderRow.Prefix + row.OrderId.ToString("D19", CultureInfo.InvariantCulture), cancellationToken);
    }

    private async Task<Dictionary<long, string?>> UsernamesAsync(IEnumerable<long> userIds, CancellationToken cancellationToken)
    {
        var ids = userIds.Where(id => id != 0).Distinct().ToList();
        var names = new string?[ids.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = cancellationToken },
            async (i, token) => names[i] = (await Users.FindAsync<PrintProfile>(AccountKeys.Partition(ids[i]), AccountKeys.Profile, token))?.Username);
        return ids.Select((id, i) => (id, names[i])).ToDictionary(p => p.id, p => p.Item2);
    }

    /// <summary>One index partition's rows, a page at a time, in key order (newest first).</summary>
    private sealed class IndexCursor(IAsyncEnumerator<Azure.Page<PaymentOrderIndexRow>> pages) : IAsyncDisposable
    {
        private IReadOnlyList<PaymentOrderIndexRow> _buffer = [];
        private int _next;
        private bool _done;

        public PaymentOrderIndexRow? Head => _next < _buffer.Count ? _buffer[_next] : null;

        /// <summary>True when the next row is on a page not read yet.</summary>
        public bool NeedsPage => Head is null && !_done;

        /// <summary>Reads pages until one has rows (a filtered scan may answer empty pages) or there are none left.</summary>
        public async Task FillAsync()
        {
            while (NeedsPage)
            {
                if (await pages.MoveNextAsync())
                {
                    _buffer = pages.Current.Values;
                    _next = 0;
                }
                else
                    _done = true;
            }
        }

        /// <summary>Moves past the head; the next page is read only when a row from it is needed.</summary>
        public void Advance() => _next++;

        public ValueTask DisposeAsync() => pages.DisposeAsync();
    }

    /// <summary>Merges the partitions' rows by key: ids counted down, so the newest order first across them all.</summary>
    private sealed class IndexMerge(IEnumerable<IndexCursor> cursors) : IAsyncDisposable
    {
        private readonly List<IndexCursor> _cursors = cursors.ToList();

        public async Task<List<PaymentOrderIndexRow>> TakeAsync(int count)
        {
            var taken = new List<PaymentOrderIndexRow>(count);
            while (taken.Count < count)
            {
                // The first pages of every partition are read at once; later pages as each partition runs out.
                await Task.WhenAll(_cursors.Where(c => c.NeedsPage).Select(c => c.FillAsync()));
                IndexCursor? best = null;
                foreach (var cursor in _cursors)
                {
                    if (cursor.Head is { } head && (best is null || string.CompareOrdinal(head.RowKey, best.Head!.RowKey) < 0))
                        best = cursor;
                }
                if (best is null)
                    break;
                taken.Add(best.Head!);
                best.Advance();
            }
            return taken;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var cursor in _cursors)
                await cursor.DisposeAsync();
        }
    }
}
