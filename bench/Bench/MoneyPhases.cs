using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Bench;

/// <summary>
/// The phases of <c>./dev faults</c> that move money: (3) Azurite SIGKILLed under a <see cref="MoneyLoad"/> and
/// restarted on its data, then the ledger audited; (4) the app SIGKILLed under a load that leaves outbox work
/// (pre_order.paid webhooks, top-up credits, e-card fulfilment) and deadlines (pre-orders expiring while it is down)
/// behind, restarted on the same Azurite, and checked that they finish it and that the ledger still adds up.
/// </summary>
public static class MoneyPhases
{
    /// <summary>
    /// A queue message the killed app had taken (a webhook delivery, an outbox recovery, a deadline) surfaces again
    /// when its lease (<c>Triggers__Lease</c>, 5 min) runs out. The full run keeps the product's lease and waits it out;
    /// <c>--smoke</c> shortens it to 30 s so it stays short (the same path, sooner).
    /// </summary>
    public static Dictionary<string, string> AppSettings(bool smoke) => smoke ? new() { ["Triggers__Lease"] = "00:00:30" } : [];

    /// <summary>
    /// How long the audit waits for acknowledged movements to reach the ledger: a top-up is credited through the
    /// outbox after its event is acknowledged, and when storage dies during that forward, the recovery message
    /// forwards it <see cref="Serverless.Platform.Storage.Outbox.RecoveryDelay"/> (2 min) later.
    /// </summary>
    static readonly TimeSpan SettleLimit = Serverless.Platform.Storage.Outbox.RecoveryDelay + TimeSpan.FromSeconds(45);

    static TimeSpan QueueLease(bool smoke) => smoke ? TimeSpan.FromSeconds(30) : new Serverless.Platform.Hosting.TriggerOptions().Lease;

    public static async Task StorageKillAsync(Infra infra, HttpClient http, string admin, string dataDir, bool stockAzurite, bool smoke,
        bool tamper, List<string> failures)
    {
        var actors = await MoneyLoad.Actors.SignInAsync(http, admin);
        var before = await LedgerAudit.SnapshotAsync([MoneyLoad.Wallet(actors.PrintUserId), MoneyLoad.Partner]);
        var load = new MoneyLoad(http, actors, smoke ? 1 : 2);
        Console.WriteLine($"Money load ({(smoke ? 1 : 2)} worker(s) each: wallet payments, wallet top-ups confirmed on the sandbox page, e-card orders; one partner top-up worker)...");
        var loadTask = load.RunAsync();
        await Task.Delay(TimeSpan.FromSeconds(smoke ? 4 : 8));
        var killedAt = load.Clock.Elapsed;
        Console.WriteLine($"SIGKILL Azurite (pid {infra.Azurite!.Id}) at {killedAt.TotalSeconds:F1} s into the money load ({load.Acked.Count} movements acknowledged so far)...");
        infra.KillAzurite();
        await Task.Delay(TimeSpan.FromSeconds(smoke ? 3 : 6));
        Console.WriteLine("Restarting Azurite on the same data...");
        var restartedAt = load.Clock.Elapsed;
        await infra.StartAzuriteAsync(dataDir, durable: !stockAzurite);
        var recovery = await Infra.WaitHealthyAsync(infra.App!, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(smoke ? 2 : 4));
        load.Stop();
        await loadTask;

        var acked = load.Acked.ToArray();
        var ackedBeforeKill = acked.Count(m => m.At < killedAt);
        var statuses = load.Statuses;
        var outage503 = statuses.Count(s => s.At >= killedAt && s.At < restartedAt && s.Code == 503);
        var other5xx = statuses.Where(s => s.Code >= 500 && s.Code != 503).ToList();
        var noRetryAfter = statuses.Count(s => s.Code == 503 && !s.RetryAfter);
        if (tamper)
            await TamperAsync(acked);
        var (rows, violations, settled) = await LedgerAudit.CheckAsync(acked, MoneyLoad.AttemptedInRun.ToArray(), before, tamper ? TimeSpan.FromSeconds(3) : SettleLimit);

        Console.WriteLine();
        Console.WriteLine("| storage killed under money load | count |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| requests sent | {statuses.Count + load.Hung + load.TransportErrors} |");
        foreach (var kind in acked.GroupBy(m => m.Kind).OrderBy(g => g.Key))
            Console.WriteLine($"| acknowledged: {kind.Key} | {kind.Count()} |");
        Console.WriteLine($"| acknowledged before the kill / after it | {ackedBeforeKill} / {acked.Length - ackedBeforeKill} |");
        Console.WriteLine($"| 503 while storage was gone (all 503 with Retry-After: {(noRetryAfter == 0 ? "yes" : "NO")}) | {outage503} |");
        Console.WriteLine($"| 5xx other than 503 | {other5xx.Count} |");
        Console.WriteLine($"| requests past the timeout / connection errors | {load.Hung} / {load.TransportErrors} |");
        Console.WriteLine($"| /health 200 after Azurite restart (s, app not restarted) | {recovery.TotalSeconds:F1} |");
        Console.WriteLine($"| every acknowledged movement in the ledger after (s from the end of the load; at most {SettleLimit.TotalSeconds:F0} s allowed) | {settled.TotalSeconds:F1} |");
        Console.WriteLine();
        LedgerAudit.Print("ledger after the storage kill", rows);
        Console.WriteLine();

        if (other5xx.Count > 0)
            failures.Add($"money load: {other5xx.Count} responses were 5xx other than 503 ({string.Join(", ", other5xx.Select(s => s.Code).Distinct())})");
        if (noRetryAfter > 0)
            failures.Add($"money load: {noRetryAfter} responses were 503 without Retry-After");
        if (load.Hung > 0 || load.TransportErrors > 0)
            failures.Add($"money load: {load.Hung} requests timed out, {load.TransportErrors} failed without an HTTP answer");
        foreach (var kind in new[] { "print wallet payment", "print wallet top-up", "e-card order" })
            if (!acked.Any(m => m.Kind == kind))
                failures.Add($"money load: no {kind} was acknowledged, so nothing about it was checked");
        failures.AddRange(load.OtherFailures.Distinct().Take(5).Select(f => "money load: " + f));
        failures.AddRange(violations.Take(20).Select(v => "ledger: " + v));
        if (violations.Count > 20)
            failures.Add($"ledger: {violations.Count - 20} more violations");
    }

    internal static async Task AppKillAsync(Infra infra, HttpClient http, string merchantToken, string admin, FaultsRun.Receiver receiver, bool smoke,
        List<string> failures)
    {
        await receiver.StartAsync();
        var actors = await MoneyLoad.Actors.SignInAsync(http, admin);
        var before = await LedgerAudit.SnapshotAsync([MoneyLoad.Wallet(actors.PrintUserId), MoneyLoad.Partner]);
        var money = new MoneyLoad(http, actors, 1);
        var preOrders = new PreOrderLoad(http, merchantToken, money.Clock);
        Console.WriteLine("App load: the money load, pre-orders paid in the sandbox (pre_order.paid webhooks) and pre-orders expiring in seconds (deadlines)...");
        var moneyTask = money.RunAsync();
        var preTask = preOrders.RunAsync(smoke ? 2 : 4);
        await Task.Delay(TimeSpan.FromSeconds(smoke ? 4 : 8));
        var killedAt = money.Clock.Elapsed;
        Console.WriteLine($"SIGKILL the app (pid {infra.App!.Id}) at {money.Clock.Elapsed.TotalSeconds:F1} s into the load ({money.Acked.Count} movements, {preOrders.Paid.Count} paid pre-orders acknowledged so far)...");
        infra.StopApp(); // Process.Kill: SIGKILL on Linux
        await Task.Delay(TimeSpan.FromSeconds(3));
        Console.WriteLine("Restarting the app on the same Azurite...");
        var restart = Stopwatch.StartNew();
        var restartedAt = DateTimeOffset.UtcNow;
        await infra.StartAppAsync(extra: AppSettings(smoke));
        var restartSeconds = restart.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(2));
        money.Stop();
        preOrders.Stop();
        await Task.WhenAll(moneyTask, preTask);

        // The outbox and the deadlines finish what the dead app left: every event arrives, every state ends right.
        var paid = preOrders.Paid.ToArray();
        var expiring = preOrders.Expiring.ToArray();
        var ecardOrders = money.Acked.Where(m => m.Kind == "e-card order").Select(m => m.Key!["order-".Length..]).ToArray();
        var finish = Stopwatch.StartNew();
        // An event whose transition the kill cut short is forwarded by its recovery message, which surfaces
        // Outbox.RecoveryDelay (2 min) after it was scheduled; a message the killed app had taken surfaces when its
        // lease runs out: the wait allows the longer of the two, and the queue's polling.
        var queueLease = QueueLease(smoke);
        var limit = (queueLease > Serverless.Platform.Storage.Outbox.RecoveryDelay ? queueLease : Serverless.Platform.Storage.Outbox.RecoveryDelay)
                    + TimeSpan.FromSeconds(45);
        var lastDue = expiring.Length == 0 ? DateTimeOffset.UtcNow : expiring.Max(e => e.ExpiresAt);
        List<string> ecardsStuck = [];
        while (true)
        {
            var eventsMissing = paid.Count(p => !receiver.Events.ContainsKey("pre_order.paid|" + p.Id))
                                + expiring.Count(e => !receiver.Events.ContainsKey("pre_order.expired|" + e.Id));
            ecardsStuck = [];
            foreach (var id in ecardOrders)
                if (await ECardStatusAsync(http, actors.PartnerToken, id) is "Payed" or null)
                    ecardsStuck.Add(id);
            if ((eventsMissing == 0 && ecardsStuck.Count == 0 && DateTimeOffset.UtcNow > lastDue) || finish.Elapsed > limit)
                break;
            await Task.Delay(500);
        }
        var finishedIn = finish.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(2)); // late duplicates, if any, arrive now

        // What the restarted app finished: events of pre-orders acknowledged before the kill that arrived only after it.
        var finishedByRestarted = paid.Where(p => p.At < killedAt).Count(p => receiver.FirstArrival.TryGetValue("pre_order.paid|" + p.Id, out var t) && t > restartedAt)
                                  + expiring.Count(e => receiver.FirstArrival.TryGetValue("pre_order.expired|" + e.Id, out var t) && t > restartedAt);
        var paidReceived = paid.Count(p => receiver.Events.ContainsKey("pre_order.paid|" + p.Id));
        var paidDuplicated = paid.Count(p => receiver.Events.TryGetValue("pre_order.paid|" + p.Id, out var n) && n > 1);
        var paidState = 0;
        foreach (var (id, _) in paid)
            if (await PreOrderStatusAsync(http, merchantToken, id) == "paid")
                paidState++;
        var expiredReceived = expiring.Count(e => receiver.Events.ContainsKey("pre_order.expired|" + e.Id));
        var expiredDuplicated = expiring.Count(e => receiver.Events.TryGetValue("pre_order.expired|" + e.Id, out var n) && n > 1);
        var expiredState = 0;
        foreach (var e in expiring)
            if (await PreOrderStatusAsync(http, merchantToken, e.Id) == "expired")
                expiredState++;
        var statuses = money.Statuses.Concat(preOrders.StatusQueue).ToList();
        var other5xx = statuses.Where(s => s.Code >= 500 && s.Code != 503).ToList();
        var (rows, violations, settled) = await LedgerAudit.CheckAsync(money.Acked.ToArray(), MoneyLoad.AttemptedInRun.ToArray(), before, SettleLimit);
        await receiver.StopAsync();

        Console.WriteLine();
        Console.WriteLine("| app killed mid-load, restarted | count |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| app back (/health 200) after restart (s) | {restartSeconds:F1} |");
        Console.WriteLine($"| requests refused while the app was down (connection errors, expected) / timed out | {money.TransportErrors + preOrders.TransportErrors} / {money.Hung + preOrders.Hung} |");
        Console.WriteLine($"| 5xx other than 503 | {other5xx.Count} |");
        Console.WriteLine($"| pre-orders paid (acknowledged) | {paid.Length} |");
        Console.WriteLine($"| pre_order.paid received / missing / under two webhook-ids | {paidReceived} / {paid.Length - paidReceived} / {paidDuplicated} |");
        Console.WriteLine($"| pre-orders reading paid | {paidState} |");
        Console.WriteLine($"| pre-orders expiring in seconds (acknowledged) | {expiring.Length} |");
        Console.WriteLine($"| pre_order.expired received / missing / under two webhook-ids | {expiredReceived} / {expiring.Length - expiredReceived} / {expiredDuplicated} |");
        Console.WriteLine($"| pre-orders reading expired | {expiredState} |");
        Console.WriteLine($"| e-card orders acknowledged / still Payed (fulfilment not run) | {ecardOrders.Length} / {ecardsStuck.Count} |");
        Console.WriteLine($"| movements acknowledged (wallet payments, top-ups, e-card orders, partner top-ups) | {money.Acked.Count} |");
        Console.WriteLine($"| events delivered only by the restarted app (pre-orders paid before the kill, expiries) | {finishedByRestarted} |");
        Console.WriteLine($"| then every acknowledged movement in the ledger after (s) | {settled.TotalSeconds:F1} |");
        Console.WriteLine($"| all of it finished (s after the load stopped, 2 s after the app was back; at most {limit.TotalSeconds:F0} s allowed) | {finishedIn:F1} |");
        Console.WriteLine();
        LedgerAudit.Print("ledger after the app kill", rows);
        Console.WriteLine();

        if (other5xx.Count > 0)
            failures.Add($"app kill: {other5xx.Count} responses were 5xx other than 503 ({string.Join(", ", other5xx.Select(s => s.Code).Distinct())})");
        if (paid.Length == 0 || expiring.Length == 0 || ecardOrders.Length == 0)
            failures.Add($"app kill: the load acknowledged {paid.Length} paid pre-orders, {expiring.Length} expiring ones, {ecardOrders.Length} e-card orders; each needs some");
        if (paidReceived < paid.Length || paidDuplicated > 0 || paidState < paid.Length)
            failures.Add($"app kill: of {paid.Length} paid pre-orders, {paid.Length - paidReceived} events missing, {paidDuplicated} duplicated, {paid.Length - paidState} not reading paid" +
                $" (missing: {string.Join(", ", paid.Where(p => !receiver.Events.ContainsKey("pre_order.paid|" + p.Id)).Take(3).Select(p => $"{p.Id}, paid {(p.At - killedAt).TotalSeconds:+0.0;-0.0} s from the kill"))})");
        if (expiredReceived < expiring.Length || expiredDuplicated > 0 || expiredState < expiring.Length)
            failures.Add($"app kill: of {expiring.Length} expiring pre-orders, {expiring.Length - expiredReceived} expired events missing, {expiredDuplicated} duplicated, {expiring.Length - expiredState} not reading expired");
        if (ecardsStuck.Count > 0)
            failures.Add($"app kill: {ecardsStuck.Count} e-card orders still Payed after {finishedIn:F0} s: {string.Join(", ", ecardsStuck.Take(3))}");
        failures.AddRange(money.OtherFailures.Distinct().Take(5).Select(f => "app kill: " + f));
        failures.AddRange(violations.Take(20).Select(v => "ledger after the app kill: " + v));
    }

    /// <summary>
    /// <c>--tamper</c>, the audit's own check: behind the app's back, removes the statement and movement rows of one
    /// acknowledged e-card order (a lost movement: the balance row no longer adds up), adds a paisa to the print
    /// wallet's balance row, and writes a statement row for a movement nobody made. The run must then fail.
    /// </summary>
    static async Task TamperAsync(IReadOnlyList<MoneyLoad.Movement> acked)
    {
        var storage = LedgerRun.Storage();
        if (acked.FirstOrDefault(m => m.Kind == "e-card order") is { } order)
        {
            var table = storage.Table(order.Account.Table);
            var rows = await LedgerAudit.ReadAsync(order.Account);
            var statement = rows.Statement.Single(s => s.MovementKey == order.Key);
            await table.DeleteEntityAsync(order.Account.Partition, statement.RowKey);
            await table.DeleteEntityAsync(order.Account.Partition, Serverless.Platform.Payments.Ledger.MovementRowKey(order.Key!));
            Console.WriteLine($"--tamper: removed the ledger rows of e-card order movement {order.Key}");
        }
        if (acked.FirstOrDefault(m => m.Kind.StartsWith("print wallet", StringComparison.Ordinal)) is { } wallet)
        {
            var table = storage.Table(wallet.Account.Table);
            var balance = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>(wallet.Account.Partition,
                Serverless.Platform.Payments.LedgerBalanceRow.Key)).Value;
            balance["Available"] = (balance.GetInt64("Available") ?? 0) + 1;
            await table.UpdateEntityAsync(balance, balance.ETag);
            await table.AddEntityAsync(new Azure.Data.Tables.TableEntity(wallet.Account.Partition, Serverless.Platform.Payments.LedgerStatementRow.KeyOf(999_999))
            {
                ["MovementKey"] = "topup-tampered", ["Kind"] = "credit", ["Amount"] = 1L, ["HeldDelta"] = 0L, ["AvailableAfter"] = 1L,
                ["HeldAfter"] = 0L, ["Version"] = 999_999L,
            });
            Console.WriteLine("--tamper: added a paisa to the print wallet's balance row and a statement row nobody made");
        }
    }

    static async Task<string?> ECardStatusAsync(HttpClient http, string token, string orderId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/orders/{orderId}/status");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await http.SendAsync(request);
        return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() : null;
    }

    static async Task<string?> PreOrderStatusAsync(HttpClient http, string token, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/pre-orders/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await http.SendAsync(request);
        return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() : null;
    }

    /// <summary>Pre-orders created and paid in the sandbox (each sends pre_order.paid), and pre-orders created to expire
    /// 5 s later (their expiry deadline stores them expired and sends pre_order.expired).</summary>
    sealed class PreOrderLoad(HttpClient http, string token, Stopwatch clock)
    {
        public readonly ConcurrentQueue<(string Id, TimeSpan At)> Paid = new();
        public readonly ConcurrentQueue<(string Id, DateTimeOffset ExpiresAt)> Expiring = new();
        public readonly ConcurrentQueue<FaultsRun.Status> StatusQueue = new();
        int hung, transport;
        public int Hung => hung;
        public int TransportErrors => transport;
        readonly CancellationTokenSource stop = new();

        public void Stop() => stop.Cancel();

        public Task RunAsync(int workers) => Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 2_000 && !stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(2); i++)
            {
                try
                {
                    var expiring = i % 2 == 1;
                    var expiresAt = DateTimeOffset.UtcNow.AddSeconds(5);
                    var body = expiring
                        ? new
                        {
                            amount = 25.00m, currency = "USD", description = "Faults pre-order (expires)",
                            expiration_date = expiresAt.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                            customer = new { name = "Faults Customer", email = "faults@example.com", phone = "+1234567890" },
                        }
                        : BenchRun.CreateBody();
                    var created = await SendAsync(HttpMethod.Post, "/api/pre-orders", JsonContent.Create(body), token);
                    if (created is not { StatusCode: HttpStatusCode.Created })
                        continue;
                    var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                    created.Dispose();
                    if (expiring)
                    {
                        // Seconds precision on the wire: it expires at the whole second written.
                        Expiring.Enqueue((id, DateTimeOffset.Parse(expiresAt.ToString("yyyy-MM-ddTHH:mm:ssZ"))));
                        continue;
                    }
                    var started = clock.Elapsed;
                    if (await FaultsRun.PayPreOrderAsync(http, id) is not { } error)
                        Paid.Enqueue((id, clock.Elapsed));
                    else
                    {
                        // The answer's status, so a 500 on the way to paying counts as one.
                        var code = System.Text.RegularExpressions.Regex.Match(error, @"answered (\d{3})") is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
                        StatusQueue.Enqueue(new FaultsRun.Status(started, code, false, (clock.Elapsed - started).TotalMilliseconds));
                    }
                }
                catch (TaskCanceledException)
                {
                    Interlocked.Increment(ref hung);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref transport);
                    await Task.Delay(200);
                }
            }
        })));

        async Task<HttpResponseMessage?> SendAsync(HttpMethod method, string path, HttpContent? content, string? bearer)
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            if (bearer is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            var started = clock.Elapsed;
            var response = await http.SendAsync(request);
            StatusQueue.Enqueue(new FaultsRun.Status(started, (int)response.StatusCode, response.Headers.RetryAfter is not null,
                (clock.Elapsed - started).TotalMilliseconds));
            return response;
        }
    }
}
