using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit.Abstractions;

namespace Serverless.Tests.Fuzz;

/// <summary>
/// The contract fuzzer (<c>./dev fuzz</c>): reads the served OpenAPI document, and sends every operation requests
/// generated from its schemas, valid and hostile, as every kind of principal. Each answer must come within the
/// per-request timeout, must not be a 5xx, and must match the document (status, content type, body; the
/// <see cref="Infrastructure.ContractRecorder"/> checks this and makes the request throw when it does not, which is
/// a failure here). Bounded by <c>FUZZ_REQUESTS</c> and <c>FUZZ_SECONDS</c>; <c>FUZZ_SEED</c> makes a run repeat
/// (it is printed); <c>FUZZ_OPERATION</c> keeps to one operation. A failure is printed as the exact request, its
/// seed, and the smallest failing request CsCheck's shrinking found for the same operation.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ContractFuzzTests(FuzzFactory app, ITestOutputHelper output) : IClassFixture<FuzzFactory>
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>The status of a request the in-process client could not send as built (a NUL in the path).</summary>
    private const int Unsendable = -1;

    private sealed class Tally
    {
        public int Requests, Valid, S2, S3, S4, S5, Failures, Unsendable;
    }

    private sealed record Failure(string Seed, FuzzOperation Operation, FuzzRequest Request, string Problem)
    {
        /// <summary>Failures alike (same operation, kind of request, and problem with its numbers taken out) are one finding.</summary>
        public string Signature => $"{Operation.Name}|{Request.Kind}|{new string(Problem.Take(120).Where(c => !char.IsAsciiDigit(c)).ToArray())}";
    }

    private sealed class FuzzFailureException(string message) : Exception(message);

    [Fact]
    public async Task Every_operation_answers_every_generated_request_as_documented()
    {
        if (Infrastructure.ContractRecorder.ReportOnly)
            Assert.Fail("The fuzzer holds answers to the document: run it without CONTRACT_REPORT_ONLY.");
        var budget = Setting("FUZZ_REQUESTS", 3_000);
        var seconds = Setting("FUZZ_SECONDS", 60);
        var timeout = TimeSpan.FromSeconds(Setting("FUZZ_TIMEOUT_SECONDS", 10));
        var only = Environment.GetEnvironmentVariable("FUZZ_OPERATION");
        var printEach = Environment.GetEnvironmentVariable("FUZZ_PRINT") is { Length: > 0 } print && print != "0";
        var seedText = Environment.GetEnvironmentVariable("FUZZ_SEED");
        var master = string.IsNullOrWhiteSpace(seedText)
            ? new PCG((uint)Random.Shared.Next(), (ulong)Random.Shared.NextInt64())
            : PCG.Parse(seedText.Trim());
        var runSeed = master.ToString(master.State);
        Log($"fuzz: seed {runSeed} (FUZZ_SEED={runSeed} repeats this run), budget {budget} requests or {seconds} s, timeout {timeout.TotalSeconds} s per request");

        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var documentText = await client.GetStringAsync("/openapi/v1.json");
        var document = new FuzzDocument(documentText);
        var operations = document.Operations
            .Where(o => string.IsNullOrEmpty(only) || o.Name.Equals(only.Trim(), StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.True(operations.Count > 0, $"No operation in the document is {only}.");
        var requests = new FuzzRequests(document, app.Principals, app.Known, app.Time.GetUtcNow(), Serverless.Platform.PlatformRegistration.DefaultMaxRequestBodyBytes);
        var gens = operations.ToDictionary(o => o.Name, requests.For);
        // Every operation in turn, in an order of the seed's: a short run still reaches them all. The order comes from a
        // copy, so the first request is generated from the seed itself (a request's seed replays it as request 0).
        var shuffle = PCG.Parse(runSeed);
        var order = operations.OrderBy(o => shuffle.Next()).ToList();
        Log($"fuzz: {operations.Count} operations, {app.Principals.Count} principals ({string.Join(", ", app.Principals)})");

        var tallies = operations.ToDictionary(o => o.Name, _ => new Tally());
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<Failure>();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        for (; sent < budget && clock.Elapsed.TotalSeconds < seconds; sent++)
        {
            var operation = order[sent % order.Count];
            var state = master.State;
            var seed = master.ToString(state);
            var request = gens[operation.Name].Generate(master, null, out _);
            var (status, problem) = await SendAsync(client, request, timeout);
            if (printEach)
                Log($"fuzz: request {sent} (seed {seed}) answered {status}:\n{request}");
            var tally = tallies[operation.Name];
            tally.Requests++;
            if (request.Kind == "valid")
                tally.Valid++;
            kinds[request.Kind] = kinds.GetValueOrDefault(request.Kind) + 1;
            switch (status)
            {
                case Unsendable: tally.Unsendable++; break;
                case >= 500: tally.S5++; break;
                case >= 400: tally.S4++; break;
                case >= 300: tally.S3++; break;
                case >= 200: tally.S2++; break;
            }
            if (problem is not null)
            {
                tally.Failures++;
                failures.Add(new Failure(seed, operation, request, problem));
                Log($"fuzz: FAILURE #{failures.Count} at request {sent} ({operation.Name}, {request.Kind}, seed {seed}): {Clip(problem, 300)}");
            }
            if (sent > 0 && sent % 1000 == 0)
                Log($"fuzz: {sent} requests in {clock.Elapsed.TotalSeconds:F0} s, {failures.Count} failures");
        }
        var elapsed = clock.Elapsed;

        var findings = failures.GroupBy(f => f.Signature).ToList();
        var report = new StringBuilder();
        report.Append(Table(tallies, kinds, sent, elapsed, runSeed, findings.Count));
        if (findings.Count > 0)
        {
            report.Append(CultureInfo.InvariantCulture, $"\n{failures.Count} failing requests, {findings.Count} distinct findings:\n");
            var shrinkBudget = Math.Clamp(seconds / 10, 5, 60);
            var index = 0;
            foreach (var finding in findings.OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = finding.OrderBy(f => f.Request.Weight).First();
                index++;
                report.Append(CultureInfo.InvariantCulture, $"\n--- finding {index}: {first.Operation.Name}, {first.Request.Kind}, seen {finding.Count()} times\n");
                report.Append(CultureInfo.InvariantCulture, $"problem: {first.Problem}\n");
                report.Append(CultureInfo.InvariantCulture, $"request (seed {first.Seed}):\n{first.Request}\n");
                report.Append(CultureInfo.InvariantCulture, $"reproduce: FUZZ_SEED={first.Seed} FUZZ_OPERATION=\"{first.Operation.Name}\" FUZZ_REQUESTS=1 ./dev fuzz\n");
                if (index <= 3)
                    report.Append(await ShrinkAsync(client, gens[first.Operation.Name], first.Seed, timeout, shrinkBudget));
            }
        }
        Log(report.ToString());
        if (Environment.GetEnvironmentVariable("FUZZ_REPORT") is { Length: > 0 } file)
            await File.WriteAllTextAsync(file, report.ToString());
        Assert.True(findings.Count == 0, $"The fuzzer found {findings.Count} kinds of wrong answer (seed {runSeed}):\n{report}");
    }

    /// <summary>
    /// CsCheck from the failing seed, for the same operation, keeping the smallest request that still fails (any
    /// failure counts): its own printed seed replays it through <c>FUZZ_SEED</c> as well.
    /// </summary>
    private static async Task<string> ShrinkAsync(HttpClient client, Gen<FuzzRequest> gen, string seed, TimeSpan timeout, int seconds)
    {
        try
        {
            await gen.SampleAsync(async request =>
            {
                var (_, problem) = await SendAsync(client, request, timeout);
                if (problem is not null)
                    throw new FuzzFailureException(problem);
            }, seed: seed, time: seconds, threads: 1, print: r => r.ToString());
            return $"shrinking ({seconds} s): the request did not fail again (it depends on what earlier requests did)\n";
        }
        catch (Exception e) when (e is not FuzzFailureException)
        {
            return $"shrinking ({seconds} s), the smallest failing request CsCheck found:\n{Clip(e.Message, 6000)}\n";
        }
    }

    /// <summary>Sends the request as built; answers its status and what is wrong with the answer, if anything.</summary>
    private static async Task<(int Status, string? Problem)> SendAsync(HttpClient client, FuzzRequest request, TimeSpan timeout)
    {
        HttpRequestMessage message;
        try
        {
            message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        }
        catch (UriFormatException)
        {
            return (Unsendable, null);
        }
        foreach (var (name, value) in request.Headers)
            message.Headers.TryAddWithoutValidation(name, value);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (!string.IsNullOrEmpty(request.ContentType))
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            using var response = await client.SendAsync(message, cancel.Token);
            var body = await response.Content.ReadAsByteArrayAsync(cancel.Token);
            var status = (int)response.StatusCode;
            return status >= 500
                ? (status, $"answered {status} {response.ReasonPhrase}: {FuzzRequest.Printable(body, 600)}")
                : (status, null);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return (0, $"no answer within {timeout.TotalSeconds} s (a hang)");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("path contains null characters", StringComparison.Ordinal))
        {
            // The in-process test server cannot carry a NUL in a path (Kestrel refuses such a request line itself, 400).
            return (Unsendable, null);
        }
        catch (Exception e)
        {
            for (var inner = e; inner is not null; inner = inner.InnerException)
                if (inner is InvalidOperationException && inner.Message.Contains("does not match the OpenAPI document", StringComparison.Ordinal))
                    return (0, "contract: " + inner.Message);
            return (0, $"the request threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            message.Dispose();
        }
    }

    private static string Table(Dictionary<string, Tally> tallies, SortedDictionary<string, int> kinds, int sent, TimeSpan elapsed, string seed, int findings)
    {
        var text = new StringBuilder();
        var width = Math.Max(9, tallies.Keys.Max(k => k.Length));
        text.Append(CultureInfo.InvariantCulture, $"\n{"operation".PadRight(width)} {"requests",8} {"valid",6} {"2xx",6} {"3xx",5} {"4xx",6} {"5xx",5} {"failed",6}\n");
        foreach (var (name, t) in tallies.OrderBy(t => t.Key, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"{name.PadRight(width)} {t.Requests,8} {t.Valid,6} {t.S2,6} {t.S3,5} {t.S4,6} {t.S5,5} {t.Failures,6}\n");
        var all = tallies.Values;
        text.Append(CultureInfo.InvariantCulture,
            $"{"total".PadRight(width)} {all.Sum(t => t.Requests),8} {all.Sum(t => t.Valid),6} {all.Sum(t => t.S2),6} {all.Sum(t => t.S3),5} {all.Sum(t => t.S4),6} {all.Sum(t => t.S5),5} {all.Sum(t => t.Failures),6}\n");
        text.Append(CultureInfo.InvariantCulture, $"not sendable in process (a NUL in the path; Kestrel answers 400 itself): {all.Sum(t => t.Unsendable)}\n");
        text.Append(CultureInfo.InvariantCulture, $"\nrequests by kind: {string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"))}\n");
        text.Append(CultureInfo.InvariantCulture,
            $"fuzz: {sent} requests to {all.Count(t => t.Requests > 0)} of {tallies.Count} operations in {elapsed.TotalSeconds:F0} s " +
            $"({sent / Math.Max(elapsed.TotalSeconds, 0.001):F0}/s); 2xx {all.Sum(t => t.S2)}, 3xx {all.Sum(t => t.S3)}, 4xx {all.Sum(t => t.S4)}, " +
            $"5xx {all.Sum(t => t.S5)}; {findings} findings; seed {seed}\n");
        return text.ToString();
    }

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.Error.WriteLine(line);
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
