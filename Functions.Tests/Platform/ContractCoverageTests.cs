using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>
/// A collection that xUnit runs on its own after every parallel one has finished, so by then every other test has
/// made its requests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AfterAllOtherTests
{
    public const string Name = "After all other tests";
}

/// <summary>
/// Every operation of the OpenAPI document was called by some test with a valid request, and its answer checked
/// against the document by <see cref="ContractRecorder"/> (each answer's status, content type and body). Only a whole
/// run can say so: <c>./dev test</c> without arguments sets <c>CONTRACT_COVERAGE=1</c>; a filtered run skips the check.
/// </summary>
[Collection(AfterAllOtherTests.Name)]
public sealed class ContractCoverageTests
{
    [Fact]
    public void Every_documented_operation_was_called_with_a_valid_request_and_its_answer_matched_the_document()
    {
        if (Environment.GetEnvironmentVariable("CONTRACT_COVERAGE") != "1")
            return;
        var uncovered = ContractRecorder.Documented.Except(ContractRecorder.Seen).Order(StringComparer.Ordinal).ToList();
        if (ContractRecorder.FindingsFile is { } file)
            File.AppendAllLines(file, uncovered.Select(o => "uncovered: " + o));
        Assert.True(ContractRecorder.Documented.Count > 100, $"Only {ContractRecorder.Documented.Count} operations were documented; did the run check answers?");
        Assert.Empty(ContractRecorder.Findings);
        Assert.Empty(uncovered);
    }
}
