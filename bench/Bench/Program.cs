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
        "faults" => await FaultsRun.RunAsync(smoke, args.Contains("--allow-emulator-loss")),
        _ => Usage(),
    };
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException)
{
    Console.Error.WriteLine($"{mode}: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Bench bench [--smoke] [--verbose] | Bench faults [--smoke] [--allow-emulator-loss] [--verbose]");
    return 2;
}
