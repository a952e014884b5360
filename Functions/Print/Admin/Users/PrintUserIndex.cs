using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Admin.Users;

/// <summary>
/// Key design of table <c>printuserindex</c>, the admin's index of print-shop users. The profile stays the source of
/// truth; these rows only say which users to show, in which order, and are rebuilt from the profile on every write.
/// <list type="bullet">
/// <item>Listing: PK <c>role-{role}-{shard 0..7}</c> (shard = id mod 8), RK <c>{newest first}|{inverted id:D19}</c>. A page
/// reads the shards of the roles asked for and merges them, so no partition holds every user.</item>
/// <item>Search: PK <c>u-{c}</c>, <c>e-{c}</c>, <c>p-{c}</c> (username, email, phone; <c>c</c> the first character of
/// the escaped, lowercased value), RK <c>{escaped lowercased value}|{id:D19}</c>: a prefix search is one range read per kind.</item>
/// <item>Entry: PK <c>entry-{id:D19}</c>, RK <c>keys</c>: the keys of every row written for the user, so a changed
/// identifier's old row and a deleted user's rows can be found and removed.</item>
/// <item>Backfill marker: PK <c>backfill</c>, RK <c>profiles-v1</c>.</item>
/// </list>
/// </summary>
public static class UserIndexKeys
{
    public const string TableName = "printuserindex";
    public const int Shards = 8;
    public const string EntryRow = "keys";
    public const string Username = "u-", Email = "e-", Phone = "p-";

    public static readonly IReadOnlyList<string> Roles = [PrintRoles.Customer, PrintRoles.Shopkeeper, Platform.Identity.Roles.Admin];

    public static string ListPartition(string role, int shard) => $"role-{role}-{shard.ToString(CultureInfo.InvariantCulture)}";

    public static string ListPartition(string role, long userId) => ListPartition(role, (int)(userId % Shards));

    /// <summary>Newest first; users made at the same instant, the higher id first (as search results are ordered).</summary>
    public static string ListRow(DateTimeOffset createdAt, long userId) => TableKeys.NewestFirst(createdAt) + "|" + TableKeys.Number(long.MaxValue - userId);

    /// <summary>The escaped, lowercased form of a username or email (a phone is digits already) that search keys start with.</summary>
    public static string SearchValue(string value) => TableKeys.Escape(value.Trim().ToLowerInvariant());

    public static string SearchPartition(string kind, string searchValue) => kind + searchValue[0];

    public static string SearchRow(string searchValue, long userId) => searchValue + "|" + TableKeys.Number(userId);

    public static string EntryPartition(long userId) => "entry-" + TableKeys.Number(userId);
}

/// <summary>One index row: a user, under one listing or search key.</summary>
public sealed record UserIndexRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public string Role { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The keys of the index rows written for one user: one <c>PK\tRK</c> per line.</summary>
public sealed record UserIndexEntryRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = UserIndexKeys.EntryRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Keys { get; set; } = "";

    public List<(string Partition, string Row)> KeyList() => Keys.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split('\t')).Where(p => p.Length == 2).Select(p => (p[0], p[1])).ToList();

    public static string Join(IEnumerable<(string Partition, string Row)> keys) => string.Join('\n', keys.Select(k => k.Partition + "\t" + k.Row));
}

/// <summary>A page of index hits (newest first) and how many matched in all.</summary>
public sealed record UserIndexPage(IReadOnlyList<UserIndexRow> Hits, int Total);

/// <summary>
/// The admin's user index (keys: <see cref="UserIndexKeys"/>). Follows the profile: registration and profile updates
/// call <see cref="SyncAsync"/> (as an <see cref="IPrintProfileListener"/>), deletion removes every row (as an
/// <see cref="IPrintAccountCleanup"/>). A sync records new keys in the entry row before writing their rows, and
/// forgets old keys only after deleting their rows, so a sync cut short leaves nothing unfindable and the next one
/// repairs it.
/// </summary>
public sealed class PrintUserIndex(StorageAccount storage, IPhoneNumberCanonicalizer phones, ILogger<PrintUserIndex> logger)
    : IPrintProfileListener, IPrintAccountCleanup
{
    private static readonly string[] HitColumns = ["PartitionKey", "RowKey", "UserId", "Role", "CreatedAt"];

    private TableClient Table => storage.Table(UserIndexKeys.TableName);

    /// <summary>The index rows a profile should have (the profile must carry its identifiers).</summary>
    public IReadOnlyList<UserIndexRow> RowsOf(PrintProfile profile)
    {
        var id = profile.UserId;
        var rows = new List<UserIndexRow> { Row(UserIndexKeys.ListPartition(profile.Role, id), UserIndexKeys.ListRow(profile.CreatedAt, id)) };
        void Search(string kind, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
                return;
            var key = UserIndexKeys.SearchValue(value);
            rows.Add(Row(UserIndexKeys.SearchPartition(kind, key), UserIndexKeys.SearchRow(key, id)));
        }
        Search(UserIndexKeys.Username, profile.Username);
        Search(UserIndexKeys.Email, profile.Email);
        Search(UserIndexKeys.Phone, profile.Phone is { } phone ? phones.Canonical(phone) : null);
        return rows;

        UserIndexRow Row(string partition, string row) => new()
        {
            PartitionKey = partition, RowKey = row, UserId = id, Role = profile.Role, CreatedAt = profile.CreatedAt,
        };
    }

    /// <summary>Makes the index say what the profile says: its rows present, every other row of the user gone. Safe to repeat.</summary>
    public async Task SyncAsync(PrintProfile profile, CancellationToken cancellationToken = default)
    {
        var id = profile.UserId;
        var rows = RowsOf(profile);
        var wanted = rows.Select(r => (Partition: r.PartitionKey, Row: r.RowKey)).ToList();
        var entry = await Table.FindAsync<UserIndexEntryRow>(UserIndexKeys.EntryPartition(id), UserIndexKeys.EntryRow, cancellationToken);
        var known = entry?.KeyList() ?? [];
        if (wanted.Except(known).Any())
            await WriteEntryAsync(id, known.Union(wanted), cancellationToken);
        await Task.WhenAll(rows.Select(r => Table.UpsertEntityAsync(r, TableUpdateMode.Replace, cancellationToken)));
        var stale = known.Except(wanted).ToList();
        if (stale.Count == 0)
            return;
        await Task.WhenAll(stale.Select(k => Table.DeleteEntityAsync(k.Partition, k.Row, ETag.All, cancellationToken)));
        await WriteEntryAsync(id, wanted, cancellationToken);
    }

    /// <summary>The profile is stored already: a failed index write is logged, and the user's next profile write repairs it.</summary>
    public async Task ProfileStoredAsync(PrintProfile profile, CancellationToken cancellationToken)
    {
        try
        {
            await SyncAsync(profile, cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            logger.LogWarning(ex, "The admin user index was not updated for user {UserId}; the next profile write repairs it", profile.UserId);
        }
    }

    /// <summary>Account deletion: every index row of the user goes, then the entry that lists them.</summary>
    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        var entry = await Table.FindAsync<UserIndexEntryRow>(UserIndexKeys.EntryPartition(userId), UserIndexKeys.EntryRow, cancellationToken);
        if (entry is null)
            return;
        await Task.WhenAll(entry.KeyList().Select(k => Table.DeleteEntityAsync(k.Partition, k.Row, ETag.All, cancellationToken)));
        await Table.DeleteEntityAsync(entry.PartitionKey, entry.RowKey, ETag.All, cancellationToken);
    }

    /// <summary>Users of the roles given (every role when null), newest first: the role's shards read in parallel and merged.</summary>
    public async Task<UserIndexPage> ListAsync(string? role, int limit, int offset, CancellationToken cancellationToken = default)
    {
        var partitions = (role is null ? UserIndexKeys.Roles : [role])
            .SelectMany(r => Enumerable.Range(0, UserIndexKeys.Shards).Select(s => UserIndexKeys.ListPartition(r, s)));
        var found = await Task.WhenAll(partitions.Select(p =>
            ReadAsync(TableClient.CreateQueryFilter($"PartitionKey eq {p}"), cancellationToken)));
        var all = found.SelectMany(rows => rows).OrderBy(r => r.RowKey, StringComparer.Ordinal).ToList();
        return new UserIndexPage(all.Skip(offset).Take(limit).ToList(), all.Count);
    }

    /// <summary>
    /// Users whose username or email (case-insensitive) or phone starts with <paramref name="search"/>: one range read
    /// per kind, hits merged by user, of the role given, newest first.
    /// </summary>
    public async Task<UserIndexPage> SearchAsync(string search, string? role, int limit, int offset, CancellationToken cancellationToken = default)
    {
        var reads = new List<Task<List<UserIndexRow>>>
        {
            PrefixAsync(UserIndexKeys.Username, UserIndexKeys.SearchValue(search), cancellationToken),
            PrefixAsync(UserIndexKeys.Email, UserIndexKeys.SearchValue(search), cancellationToken),
        };
        // A phone is indexed as its canonical digits (no +91): a search that could be the start of one is read the same way.
        var digits = new string(search.Where(char.IsAsciiDigit).ToArray());
        if (search.TrimStart().StartsWith("+91", StringComparison.Ordinal))
            digits = digits[2..];
        if (digits.Length > 0 && search.Trim().All(c => char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')'))
            reads.Add(PrefixAsync(UserIndexKeys.Phone, digits, cancellationToken));
        var found = await Task.WhenAll(reads);
        var all = found.SelectMany(rows => rows)
            .Where(r => role is null || r.Role == role)
            .DistinctBy(r => r.UserId)
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.UserId)
            .ToList();
        return new UserIndexPage(all.Skip(offset).Take(limit).ToList(), all.Count);
    }

    private Task<List<UserIndexRow>> PrefixAsync(string kind, string prefix, CancellationToken cancellationToken)
    {
        if (prefix.Length == 0)
            return Task.FromResult(new List<UserIndexRow>());
        var partition = UserIndexKeys.SearchPartition(kind, prefix);
        return ReadAsync(TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {prefix + '\uffff'}"), cancellationToken);
    }

    private async Task<List<UserIndexRow>> ReadAsync(string filter, CancellationToken cancellationToken)
    {
        var rows = new List<UserIndexRow>();
        await foreach (var row in Table.QueryAsync<UserIndexRow>(filter, select: HitColumns, cancellationToken: cancellationToken))
            rows.Add(row);
        return rows;
    }

    private Task WriteEntryAsync(long userId, IEnumerable<(string Partition, string Row)> keys, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new UserIndexEntryRow
        {
            PartitionKey = UserIndexKeys.EntryPartition(userId),
            Keys = UserIndexEntryRow.Join(keys.Distinct()),
        }, TableUpdateMode.Replace, cancellationToken);
}

/// <summary>
/// Indexes the users registered before the index existed: once per deployment (a marker row; afterwards a start costs
/// one read), it walks the print profiles of the users table and syncs each one that has no index entry yet.
/// Registration and profile updates keep the index from then on. The walk runs in the background, so a large user
/// base does not hold the app's readiness back; a walk cut short (the marker is written last) is resumed at the next
/// start, and two instances walking together only write the same rows.
/// </summary>
public sealed class PrintUserIndexBackfill(StorageAccount storage, PrintUserIndex index, PrintAccounts accounts, TimeProvider time,
    ILogger<PrintUserIndexBackfill> logger) : IOnceStartupTask
{
    public const string MarkerPartition = "backfill";
    public const string MarkerRow = "profiles-v1";

    private volatile bool _finished;

    public string Name => "PrintUserIndex";

    /// <summary>Only once the marker is found: a walk started in the background is not finished when start-up moves on.</summary>
    public bool Finished => _finished;

    public void FinishedBefore() => _finished = true;

    private TableClient Index => storage.Table(UserIndexKeys.TableName);

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (await Index.FindAsync<TableEntity>(MarkerPartition, MarkerRow, cancellationToken) is not null)
        {
            _finished = true;
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await BackfillAsync(cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Indexing the existing print profiles for the admin user list failed; the next start resumes it");
            }
        }, cancellationToken);
    }

    /// <summary>The walk itself: every profile without an index entry is indexed, then the marker is written.</summary>
    public async Task<int> BackfillAsync(CancellationToken cancellationToken = default)
    {
        var users = storage.Table(UserDirectory.TableName);
        var count = 0;
        await foreach (var profile in users.QueryAsync<PrintProfile>(TableClient.CreateQueryFilter($"RowKey eq {AccountKeys.Profile}"),
                           cancellationToken: cancellationToken))
        {
            // Indexed already (registered or updated since the index exists): its own writes keep it right.
            if (await Index.FindAsync<UserIndexEntryRow>(UserIndexKeys.EntryPartition(profile.UserId), UserIndexKeys.EntryRow, cancellationToken) is not null)
                continue;
            // A profile written before it kept copies of the identifiers takes them from the account.
            if (await accounts.WithIdentifiersAsync(profile, cancellationToken) is not { } complete)
                continue;
            await index.SyncAsync(complete, cancellationToken);
            count++;
        }
        await Index.UpsertEntityAsync(new TableEntity(MarkerPartition, MarkerRow) { ["Profiles"] = count, ["At"] = time.GetUtcNow() },
            TableUpdateMode.Replace, cancellationToken);
        logger.LogInformation("Indexed {Profiles} print profiles for the admin user list", count);
        return count;
    }
}
