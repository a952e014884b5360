using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.Bench;

/// <summary>
/// The ledger scenarios. No endpoint spends from a ledger yet, so the bench drives the product's own
/// <see cref="Ledger"/> in-process against the bench's Azurite, built the way the app builds it (a
/// <see cref="StorageAccount"/> with its metering policy, the transition seam, the outbox): 32 concurrent tasks
/// debit with unique movement keys for the same duration as the wrk scenarios. Each movement runs in its own
/// <see cref="StorageMeter"/> scope, so its storage requests (retries included) are counted exactly as the app
/// counts a request's. The baseline is a plain single-row ETag update loop at the same concurrency, through the same
/// metered client: read the row, replace it with If-Match, on 412 read again and retry after a jittered pause.
/// </summary>
public static class LedgerRun
{
    public const string LedgerTable = "benchledger", EtagTable = "benchetagloop";

    /// <summary>What each wallet is funded with before the debits (minor units); each debit takes 1.</summary>
    const long Funding = 1_000_000_000_000;

    /// <summary>The seam's bound: a hand-written update needing more attempts than this would have been a 409 there.</summary>
    const int SeamAttempts = TransitionSeam.MaxAttempts;

    /// <summary>Runs one ledger scenario (warm-up, measured run, then the ETag loop's warm-up and run) and returns its row.</summary>
    public static async Task<JsonObject> RunAsync(string name, int wallets, int connections, int warmupSeconds, int durationSeconds)
    {
        var storage = Storage();
        var ledgerTable = storage.Table(LedgerTable);
        var etagTable = storage.Table(EtagTable);
        await ledgerTable.CreateIfNotExistsAsync();
        await etagTable.CreateIfNotExistsAsync();

        // A fresh Ledger per scenario: one app instance, its per-account gates and its cache of balance rows.
        var ledger = new Ledger(storage, new Transitions(new Outbox(storage, [], NullLogger<Outbox>.Instance)), TimeProvider.System);
        var run = Guid.NewGuid().ToString("N")[..8];
        var accounts = Enumerable.Range(0, wallets)
            .Select(i => new LedgerAccount(LedgerTable, $"wallet-{run}-{i:D2}", "INR")).ToArray();
        foreach (var account in accounts)
        {
            var funded = await ledger.CreditAsync(account, "funding", Funding);
            if (funded.Status != MovementStatus.Applied)
                throw new InvalidOperationException($"Funding {account.Partition} came to {funded.Status}.");
        }
        LedgerAccount AccountOf(int worker) => accounts[worker % wallets];

        async Task<Outcome> Debit(int worker, string key)
        {
            var result = await ledger.DebitAsync(AccountOf(worker), key, 1);
            return new(result.Status == MovementStatus.Applied, 1, result.Status == MovementStatus.Applied ? null : result.Status.ToString());
        }

        Console.WriteLine($"Scenario {name}: warm-up {warmupSeconds} s, then {connections} tasks for {durationSeconds} s (in-process Ledger.DebitAsync)...");
        var warm = await DriveAsync(connections, TimeSpan.FromSeconds(warmupSeconds), (w, i) => Debit(w, $"warm-{w}-{i}"));
        var measured = await DriveAsync(connections, TimeSpan.FromSeconds(durationSeconds), (w, i) => Debit(w, $"debit-{w}-{i}"));

        // The ledger must add up: every applied debit is in the balance and the statement, nothing else is.
        var applied = warm.Succeeded + measured.Succeeded;
        long available = 0, movements = 0;
        foreach (var account in accounts)
        {
            var balance = await ledger.BalanceAsync(account);
            available += balance.Available;
            movements += balance.Movements;
        }
        var inconsistent = available != wallets * Funding - applied || movements != wallets + applied;
        if (inconsistent)
            Console.Error.WriteLine($"  {name}: the ledger does not add up: available {available}, expected {wallets * Funding - applied}; " +
                                    $"movements {movements}, expected {wallets + applied}.");

        // The baseline: one row per wallet, updated by the same number of tasks in the same layout.
        var rows = Enumerable.Range(0, wallets).Select(i => $"row-{run}-{i:D2}").ToArray();
        foreach (var row in rows)
            await etagTable.AddEntityAsync(new TableEntity("etag", row) { ["Balance"] = Funding, ["Version"] = 0L });
        Task<Outcome> Update(int worker) => EtagUpdateAsync(etagTable, "etag", rows[worker % wallets]);
        Console.WriteLine($"  baseline: the ETag update loop on {wallets} row{(wallets == 1 ? "" : "s")}, warm-up {warmupSeconds} s, then {durationSeconds} s...");
        await DriveAsync(connections, TimeSpan.FromSeconds(warmupSeconds), (w, _) => Update(w));
        var loop = await DriveAsync(connections, TimeSpan.FromSeconds(durationSeconds), (w, _) => Update(w));

        var ratio = loop.Rate > 0 ? measured.Rate / loop.Rate : (double?)null;
        Console.WriteLine($"  ledger {measured.Rate:F0} movements/s, p50 {measured.P50:F2} ms, p99 {measured.P99:F2} ms, " +
                          $"{measured.StoragePerOp:F2} storage req/movement; ETag loop {loop.Rate:F0} updates/s, " +
                          $"{loop.StoragePerOp:F2} storage req/update, {loop.ConflictsPerOp:F2} 412/update; ratio {ratio:F3}");
        if (measured.FirstError is { } error)
            Console.Error.WriteLine($"  {name}: {measured.Failed} movements failed; the first: {error}");

        return new JsonObject
        {
            ["scenario"] = name,
            ["driver"] = "in-process: the product's Ledger.DebitAsync against the bench's Azurite (no HTTP)",
            ["connections"] = connections,
            ["wallets"] = wallets,
            ["requests"] = measured.Completed,
            ["movements"] = measured.Completed,
            ["rps"] = Math.Round(measured.Rate, 1),
            ["p50_ms"] = Math.Round(measured.P50, 2),
            ["p99_ms"] = Math.Round(measured.P99, 2),
            ["max_ms"] = Math.Round(measured.Max, 2),
            ["errors"] = measured.Failed + (inconsistent ? 1 : 0),
            ["ledger_inconsistent"] = inconsistent,
            ["storage_requests_per_request"] = Math.Round(measured.StoragePerOp, 2),
            ["storage_requests_min"] = measured.StorageMin,
            ["storage_requests_max"] = measured.StorageMax,
            ["storage_requests_total"] = measured.Storage,
            ["warmup_movements"] = warm.Completed,
            ["etag_loop_rps"] = Math.Round(loop.Rate, 1),
            ["ratio_to_etag_loop"] = ratio is { } r ? Math.Round(r, 3) : null,
            ["etag_loop"] = new JsonObject
            {
                ["what"] = "read the row, replace it with If-Match; on 412 read again and retry after 1..(4+6*min(attempt,8)) ms, like the seam's jitter, without a bound",
                ["rows"] = wallets,
                ["updates"] = loop.Completed,
                ["rps"] = Math.Round(loop.Rate, 1),
                ["p50_ms"] = Math.Round(loop.P50, 2),
                ["p99_ms"] = Math.Round(loop.P99, 2),
                ["max_ms"] = Math.Round(loop.Max, 2),
                ["storage_requests_per_update"] = Math.Round(loop.StoragePerOp, 2),
                ["conflicts_412_per_update"] = Math.Round(loop.ConflictsPerOp, 2),
                ["updates_over_seam_attempts"] = loop.OverBound,
                ["errors"] = loop.Failed,
            },
        };
    }

    /// <summary>The app's storage account, built as the app builds it (metering policy, retry settings) on the bench's Azurite.</summary>
    internal static StorageAccount Storage()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageAccount.ConnectionSetting] = Infra.ConnectionString,
            ["Storage:Prefix"] = "",
        }).Build();
        return new StorageAccount(configuration, new StorageCatalog());
    }

    /// <summary>What one operation came to: whether it did its work, how many attempts it took, and why not.</summary>
    readonly record struct Outcome(bool Ok, int Attempts, string? Error);

    /// <summary>One hand-written ETag update of a single row: the loop the seam replaced.</summary>
    static async Task<Outcome> EtagUpdateAsync(TableClient table, string partition, string row)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = (await table.GetEntityAsync<TableEntity>(partition, row)).Value;
            current["Balance"] = current.GetInt64("Balance")!.Value - 1;
            current["Version"] = current.GetInt64("Version")!.Value + 1;
            try
            {
                await table.UpdateEntityAsync(current, current.ETag, TableUpdateMode.Replace);
                return new(true, attempt, null);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                await Task.Delay(Random.Shared.Next(1, 4 + 6 * Math.Min(attempt, 8)));
            }
        }
    }

    sealed record Figures(long Completed, long Succeeded, long Failed, double Rate, double P50, double P99, double Max,
        long Storage, int StorageMin, int StorageMax, long Conflicts, long OverBound, string? FirstError)
    {
        public double StoragePerOp => Completed == 0 ? 0 : (double)Storage / Completed;

        public double ConflictsPerOp => Completed == 0 ? 0 : (double)Conflicts / Completed;
    }

    /// <summary>
    /// <paramref name="connections"/> tasks, each running <paramref name="operation"/> back to back until
    /// <paramref name="duration"/> has passed; the rate counts every operation over the time until the last one ended.
    /// </summary>
    static async Task<Figures> DriveAsync(int connections, TimeSpan duration, Func<int, long, Task<Outcome>> operation)
    {
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            var latencies = new List<double>();
            long ok = 0, failed = 0, storage = 0, conflicts = 0, overBound = 0;
            int min = int.MaxValue, max = 0;
            string? firstError = null;
            for (long i = 0; clock.Elapsed < duration; i++)
            {
                var started = Stopwatch.GetTimestamp();
                Outcome outcome;
                int count;
                using (var scope = StorageMeter.Begin())
                {
                    try
                    {
                        outcome = await operation(w, i);
                    }
                    catch (Exception e)
                    {
                        outcome = new(false, 1, $"{e.GetType().Name}: {e.Message}");
                    }
                    count = scope.Meter.Count;
                }
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                storage += count;
                min = Math.Min(min, count);
                max = Math.Max(max, count);
                conflicts += outcome.Attempts - 1;
                if (outcome.Attempts > SeamAttempts)
                    overBound++;
                if (outcome.Ok)
                    ok++;
                else
                {
                    failed++;
                    firstError ??= outcome.Error;
                }
            }
            return (latencies, ok, failed, storage, min, max, conflicts, overBound, firstError);
        })).ToArray();
        var results = (await Task.WhenAll(workers)).Where(r => r.latencies.Count > 0).ToArray();
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = results.SelectMany(r => r.latencies).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Max(0, (int)Math.Ceiling(p * all.Length) - 1)];
        var completed = all.LongLength;
        return new Figures(completed, results.Sum(r => r.ok), results.Sum(r => r.failed), completed / elapsed,
            Percentile(0.50), Percentile(0.99), all.Length == 0 ? 0 : all[^1], results.Sum(r => r.storage),
            completed == 0 ? 0 : results.Min(r => r.min), results.Max(r => r.max), results.Sum(r => r.conflicts),
            results.Sum(r => r.overBound), results.Select(r => r.firstError).FirstOrDefault(e => e is not null));
    }
}
