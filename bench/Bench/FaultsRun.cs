namespace Serverless.Bench;

public static class FaultsRun
{
    public static Task<int> RunAsync(bool smoke) => Task.FromResult(2);
}
