using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Azure;
using CsCheck;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Xunit.Abstractions;

namespace Serverless.Tests.Platform.Payments;

/// <summary>
/// Random runs of credits, debits, holds, captures, releases and refunds (keys repeat, references may be wrong)
/// from 16 concurrent callers on one account, through two instances of the ledger, with storage losing some answers
/// to the movements' transactions. Whatever the interleaving, the stored ledger must be exact.
/// </summary>
public sealed class LedgerPropertyTests(LossyLedgerFactory app, ITestOutputHelper output) : IClassFixture<LossyLedgerFactory>
{
    private const ulong DefaultSeed = 0x1ED6E55EEDUL;
    private const int Iterations = 12;
    private const int Callers = 16;
    private const int LostAnswersPercent = 5;

    private enum Op { Credit, Debit, Hold, Capture, Release, Refund }

    private sealed record Step(Op Op, string Key, string? Of, long Amount, bool WholeRest, bool OnSecondInstance)
    {
        public override string ToString() => Op switch
        {
            Op.Credit or Op.Debit or Op.Hold => $"{Op} {Key} {Amount}",
            Op.Release when WholeRest => $"{Op} {Key} of {Of} (rest)",
            _ => $"{Op} {Key} of {Of} {Amount}",
        } + (OnSecondInstance ? " [second]" : "");
    }

    private sealed record Outcome(Step Step, MovementResult? Result, Exception? Error);

    // Keys fall in three families so that references often name the right kind: k0, k3, ... are meant for holds,
    // k1, k4, ... for debits, k2, k5, ... for captures; any movement may still take any key (a conflict).
    private static string KeyOf(int n, int family) => "k" + (n - n % 3 + family).ToString(CultureInfo.InvariantCulture);

    private static readonly Gen<Step> StepGen = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 47], Gen.Int[0, 47], Gen.Long[1, 60], Gen.Bool, Gen.Bool,
        (op, key, of, amount, flag, second) => op switch
        {
            <= 2 => new Step(Op.Credit, "k" + key.ToString(CultureInfo.InvariantCulture), null, amount, false, second),
            <= 4 => new Step(Op.Debit, KeyOf(key, 1), null, amount, false, second),
            <= 6 => new Step(Op.Hold, KeyOf(key, 0), null, amount, false, second),
            7 => new Step(Op.Capture, KeyOf(key, 2), KeyOf(of, 0), amount, false, second),
            8 => new Step(Op.Release, "k" + key.ToString(CultureInfo.InvariantCulture), KeyOf(of, 0), amount, flag, second),
            _ => new Step(Op.Refund, "k" + key.ToString(CultureInfo.InvariantCulture), KeyOf(of, flag ? 1 : 2), amount, false, second),
        });

    // About one step in six repeats an earlier one exactly (a client's retry), possibly on the other instance.
    private static readonly Gen<Step[]> RunGen = Gen.Select(StepGen, Gen.Int[0, 99]).Array[40, 50].Select(steps => steps
        .Select((s, i) => i > 0 && s.Item2 < 16 ? steps[s.Item2 % i].Item1 with { OnSecondInstance = s.Item1.OnSecondInstance } : s.Item1)
        .ToArray());

    [Fact]
    public async Task Any_interleaving_of_movements_with_lost_answers_leaves_an_exact_ledger()
    {
        var seed = Environment.GetEnvironmentVariable("LEDGER_PROPERTY_SEED") is { Length: > 0 } text
            ? ulong.Parse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : DefaultSeed;
        var lostBefore = app.Proxy!.Lost;
        var totals = new ConcurrentDictionary<string, int>();
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var steps = RunGen.Generate(new PCG((uint)iteration, seed), null, out _);
            var random = new Random(HashCode.Combine(seed, iteration));
            app.Proxy.LoseAnswersTo(r =>
            {
                if (r.Method != "POST" || r.Path.Value != LedgerFactory.BatchPath)
                    return false;
                lock (random)
                    return random.Next(100) < LostAnswersPercent;
            });
            List<Outcome> outcomes;
            var account = LedgerFactory.NewAccount(ceiling: 600);
            try
            {
                outcomes = await RunAsync(account, steps);
            }
            finally
            {
                app.Proxy.LoseAnswersTo(null);
            }
            try
            {
                await AssertExactAsync(account, outcomes);
            }
            catch (Exception failure)
            {
                throw new Xunit.Sdk.XunitException(
                    $"Seed {seed:X} iteration {iteration} (rerun with LEDGER_PROPERTY_SEED={seed:X}), account {account.Partition}:\n" +
                    Describe(outcomes) + "\n" + failure.Message);
            }
            foreach (var outcome in outcomes)
                totals.AddOrUpdate(outcome.Result?.Status.ToString() ?? outcome.Error!.GetType().Name, 1, (_, n) => n + 1);
        }
        output.WriteLine($"Seed {seed:X}: {Iterations} runs, {app.Proxy.Lost - lostBefore} answers lost; " +
                         string.Join(", ", totals.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} {t.Value}")));
        // The runs must have exercised what they claim to.
        // How many batches there are depends on the interleaving, so only "some" is certain for any seed.
        Assert.True(app.Proxy.Lost - lostBefore > 0, "no answer was lost");
        foreach (var status in new[] { MovementStatus.Applied, MovementStatus.AlreadyApplied, MovementStatus.KeyConflict, MovementStatus.InsufficientFunds,
                     MovementStatus.ExceedsReference, MovementStatus.UnknownReference })
            Assert.True(totals.ContainsKey(status.ToString()), $"no {status} in any run");
    }

    private async Task<List<Outcome>> RunAsync(LedgerAccount account, Step[] steps)
    {
        Ledger[] ledgers = [app.Ledger, app.SecondInstance()];
        var queue = new ConcurrentQueue<(int Index, Step Step)>(steps.Select((s, i) => (i, s)));
        var outcomes = new Outcome[steps.Length];
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var item))
            {
                var (index, step) = item;
                var ledger = ledgers[step.OnSecondInstance ? 1 : 0];
                try
                {
                    var result = step.Op switch
                    {
                        Op.Credit => await ledger.CreditAsync(account, step.Key, step.Amount),
                        Op.Debit => await ledger.DebitAsync(account, step.Key, step.Amount),
                        Op.Hold => await ledger.HoldAsync(account, step.Key, step.Amount),
                        Op.Capture => await ledger.CaptureAsync(account, step.Of!, step.Key, step.Amount),
                        Op.Release => await ledger.ReleaseAsync(account, step.Of!, step.Key, step.WholeRest ? null : step.Amount),
                        _ => await ledger.RefundAsync(account, step.Of!, step.Key, step.Amount),
                    };
                    outcomes[index] = new Outcome(step, result, null);
                }
                catch (ArgumentException) when (step.Of == step.Key)
                {
                    outcomes[index] = new Outcome(step, null, new ArgumentException("refers to itself"));
                }
                // Storage that loses every answer of one request (three in a row), or a race lost ten times: the caller
                // does not know what happened, and the ledger must be exact all the same.
                catch (Exception ex) when (ex is AggregateException or RequestFailedException or ConcurrencyConflictException)
                {
                    outcomes[index] = new Outcome(step, null, ex);
                }
            }
        })));
        return [.. outcomes];
    }

    private async Task AssertExactAsync(LedgerAccount account, List<Outcome> outcomes)
    {
        var balance = await app.BalanceRowAsync(account);
        var statement = (await app.StatementRowsAsync(account)).OrderBy(l => l.Version).ToList();
        var movements = (await app.MovementRowsAsync(account)).ToDictionary(m => m.MovementKey, StringComparer.Ordinal);
        var available = balance?.Available ?? 0;
        var held = balance?.Held ?? 0;

        // The statement sums to the balance, line by line, and nothing is ever negative.
        Assert.True(available >= 0 && held >= 0, $"negative balance {available}/{held}");
        Assert.Equal(available, statement.Sum(l => l.Amount));
        Assert.Equal(held, statement.Sum(l => l.HeldDelta));
        Assert.Equal(Enumerable.Range(1, statement.Count).Select(v => (long)v), statement.Select(l => l.Version));
        Assert.Equal(balance?.Version ?? 0, statement.Count);
        long runningAvailable = 0, runningHeld = 0;
        foreach (var line in statement)
        {
            (runningAvailable, runningHeld) = (runningAvailable + line.Amount, runningHeld + line.HeldDelta);
            Assert.Equal((runningAvailable, runningHeld), (line.AvailableAfter, line.HeldAfter));
            Assert.True(line.AvailableAfter >= 0 && line.HeldAfter >= 0, $"negative after version {line.Version}");
        }
        Assert.All(statement.Where(l => l.Kind == MovementKinds.Credit), l => Assert.True(l.AvailableAfter + l.HeldAfter <= account.Ceiling,
            $"credit {l.MovementKey} took the account past its ceiling"));

        // Each key moved money once: one statement line and one movement row per key, and they agree.
        Assert.Equal(statement.Count, statement.Select(l => l.MovementKey).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(statement.Select(l => l.MovementKey).Order(StringComparer.Ordinal), movements.Keys.Order(StringComparer.Ordinal));
        foreach (var line in statement)
        {
            var movement = movements[line.MovementKey];
            Assert.Equal((line.Kind, line.Version, line.AvailableAfter, line.HeldAfter), (movement.Kind, movement.Version, movement.AvailableAfter, movement.HeldAfter));
        }

        // Every call answered Applied has its movement stored as asked, and no key was answered Applied twice.
        var applied = outcomes.Where(o => o.Result?.Status == MovementStatus.Applied).ToList();
        Assert.Equal(applied.Count, applied.Select(o => o.Step.Key).Distinct(StringComparer.Ordinal).Count());
        foreach (var outcome in applied)
        {
            Assert.True(movements.TryGetValue(outcome.Step.Key, out var movement), $"{outcome.Step} answered Applied but is not stored");
            Assert.Equal(KindOf(outcome.Step.Op), movement.Kind);
            Assert.Equal(outcome.Step.Of, movement.Of);
            if (!outcome.Step.WholeRest)
                Assert.Equal(outcome.Step.Amount, movement.Amount);
            Assert.Equal((movement.AvailableAfter, movement.HeldAfter), (outcome.Result!.Available, outcome.Result.Held));
        }
        // A key answered AlreadyApplied or KeyConflict names a stored movement; and the call that stored a movement
        // was told so: answered Applied (not a refusal, not AlreadyApplied), unless it failed without knowing.
        foreach (var outcome in outcomes.Where(o => o.Result?.Status is MovementStatus.AlreadyApplied or MovementStatus.KeyConflict))
            Assert.True(movements.ContainsKey(outcome.Step.Key), $"{outcome.Step} answered {outcome.Result!.Status} for a key never stored");
        var toldStored = outcomes.Where(o => o.Result is null || o.Result.Status == MovementStatus.Applied).Select(o => o.Step.Key).ToHashSet(StringComparer.Ordinal);
        Assert.All(movements.Keys, key => Assert.True(toldStored.Contains(key), $"{key} is stored but no call was answered Applied for it"));

        // What is left of each hold, debit and capture is its amount less what drew on it; holds' rests are what is held.
        foreach (var movement in movements.Values)
        {
            var drawn = movements.Values.Where(m => m.Of == movement.MovementKey).Sum(m => m.Amount);
            var expected = movement.Kind is MovementKinds.Hold or MovementKinds.Debit or MovementKinds.Capture ? movement.Amount - drawn : 0;
            Assert.True(expected >= 0, $"{movement.MovementKey} was drawn on beyond its amount");
            Assert.Equal(expected, movement.Remaining);
        }
        Assert.Equal(held, movements.Values.Where(m => m.Kind == MovementKinds.Hold).Sum(m => m.Remaining));
    }

    private static string KindOf(Op op) => op.ToString().ToLowerInvariant();

    private static string Describe(List<Outcome> outcomes)
    {
        var text = new StringBuilder();
        foreach (var outcome in outcomes)
            text.Append("  ").Append(outcome.Step).Append(" -> ")
                .AppendLine(outcome.Result is { } r ? $"{r.Status} {r.Available}/{r.Held}" : outcome.Error!.GetType().Name);
        return text.ToString();
    }
}
