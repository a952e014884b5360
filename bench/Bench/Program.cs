using Serverless.Bench;

// ./dev bench [--smoke]   ./dev faults
var mode = args.FirstOrDefault() ?? "";
var smoke = args.Contains("--smoke");
Infra.Verbose = args.Contains("--verbose");
try
{
    return mode switch
    {
        "bench" => await BenchRun.RunAsync(smoke),
        "faults" => await FaultsRun.RunAsync(smoke, args.Contains("--stock-azurite"), args.Contains("--tamper")),
        "payments" => await PaymentRun.RunAloneAsync(smoke),
        "upload" => await UploadRun.RunAloneAsync(smoke),
        "commerce" => await CommerceRun.RunAloneAsync(smoke),
        "checkout" => await CheckoutRun.RunAloneAsync(smoke),
        "deadlines" => await DeadlinesRun.RunAloneAsync(smoke),
        "cold" => await ColdStartRun.RunAloneAsync(smoke, args.SkipWhile(a => a != "--runs").Skip(1).Select(int.Parse).Cast<int?>().FirstOrDefault(), args.Contains("--timeline")),
        _ => Usage(),
    };
}
catch (Exception e)
{
    // The run's processes are already stopped (Infra is disposed on the way out).
    Console.Error.WriteLine($"{mode}: {e.GetType().Name}: {e.Message}");
    // The causes too (an SDK's "error occurred while sending the request" says why only in its inner exceptions).
    for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        Console.Error.WriteLine($"  because {inner.GetType().Name}: {inner.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Bench bench [--smoke] [--verbose] | Bench faults [--smoke] [--stock-azurite] [--tamper] [--verbose] | Bench payments [--smoke] [--verbose] | Bench upload [--smoke] [--verbose] | Bench commerce [--smoke] [--verbose] | Bench checkout [--smoke] [--verbose] | Bench deadlines [--smoke] [--verbose] | Bench cold [--smoke] [--runs N] [--timeline] [--verbose]");
    return 2;
}
