using System.Diagnostics;
using System.Text.Json;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>
/// The served OpenAPI document passes Redocly's <c>recommended</c> rules without an error, and without a warning other
/// than the few it keeps for a reason (see <see cref="Accepted"/>). Redocly CLI is a development tool in <c>package.json</c>, installed by the project's own commands.
/// </summary>
public sealed class OpenApiLintTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task The_served_document_has_no_error_under_redoclys_recommended_rules()
    {
        var cli = Path.Combine(Azurite.RepositoryRoot, "node_modules", "@redocly", "cli", "bin", "cli.js");
        Assert.True(File.Exists(cli), $"Redocly CLI is not installed at {cli}: run ./dev test (it runs npm ci).");
        var document = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(document, await app.CreateClient().GetStringAsync("/openapi/v1.json"));
        try
        {
            var start = new ProcessStartInfo("node")
            {
                ArgumentList = { cli, "lint", document, "--format=json", "--max-problems=10000" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                Environment = { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true", ["NO_COLOR"] = "1" },
            };
            using var lint = Process.Start(start)!;
            var output = lint.StandardOutput.ReadToEndAsync();
            var errors = lint.StandardError.ReadToEndAsync();
            await lint.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
            var json = await output;
            Assert.True(json.TrimStart().StartsWith('{'), $"redocly printed no JSON report (exit {lint.ExitCode}): {json} {await errors}");
            var problems = JsonDocument.Parse(json).RootElement.GetProperty("problems").EnumerateArray()
                .Where(p => p.GetProperty("severity").GetString() == "error" || !Accepted(p))
                .Select(p => $"{p.GetProperty("ruleId").GetString()} at {p.GetProperty("location")[0].GetProperty("pointer").GetString()}: " +
                             p.GetProperty("message").GetString())
                .ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
        finally
        {
            File.Delete(document);
        }
    }

    /// <summary>
    /// The warnings the document keeps, each for a reason; any other warning fails like an error:
    /// <list type="bullet">
    /// <item>no-ambiguous-paths: the print-shop document's own paths (<c>/queue/download/{fileId}</c> beside <c>/queue/{fileId}/confirm</c>);</item>
    /// <item>info-license: the API names no license;</item>
    /// <item>no-server-example.com: the server is the address the document was asked at (loopback here);</item>
    /// <item>operation-4xx-response on <c>GET /health</c>: it takes nothing, so it has no client error to give.</item>
    /// </list>
    /// </summary>
    private static bool Accepted(JsonElement problem)
    {
        var rule = problem.GetProperty("ruleId").GetString();
        var pointer = problem.GetProperty("location")[0].GetProperty("pointer").GetString();
        return rule is "no-ambiguous-paths" or "info-license" or "no-server-example.com"
               || (rule == "operation-4xx-response" && pointer?.StartsWith("#/paths/~1health/get", StringComparison.Ordinal) == true);
    }
}
