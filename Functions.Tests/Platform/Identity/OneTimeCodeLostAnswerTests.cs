using Microsoft.AspNetCore.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Identity;

/// <summary>One-time codes whose write was done by storage but whose answer was lost (the SDK retried and met its own write).</summary>
public sealed class OneTimeCodeLostAnswerTests(OneTimeCodeLostAnswerTests.Factory app) : IClassFixture<OneTimeCodeLostAnswerTests.Factory>
{
    public sealed class Factory : PlatformFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    private const string Purpose = "test-code";

    private OneTimeCodes Codes => app.Get<OneTimeCodes>();

    private static string NewAddress() => $"user-{Guid.NewGuid():N}@example.test";

    private Func<HttpRequest, bool> Write(params string[] methods)
    {
        var table = "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(OneTimeCodes.TableName);
        return r => methods.Contains(r.Method) && (r.Path.Value == table || r.Path.Value!.StartsWith(table + "(", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_first_code_whose_insert_was_stored_but_not_answered_is_issued_not_throttled()
    {
        var address = NewAddress();
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(Write("POST"));

        var issued = await Codes.IssueAsync(Purpose, address);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.False(issued.Throttled);
        Assert.NotNull(issued.Code);
        Assert.Equal(CodeCheck.Verified, await Codes.VerifyAsync(Purpose, address, issued.Code));
    }

    [Fact]
    public async Task A_new_code_whose_replacement_was_stored_but_not_answered_is_issued_not_throttled()
    {
        var address = NewAddress();
        var first = await Codes.IssueAsync(Purpose, address);
        app.Time.Advance(Codes.Settings.ResendAfter + TimeSpan.FromSeconds(1));
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(Write("PUT", "MERGE"));

        var second = await Codes.IssueAsync(Purpose, address);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.False(second.Throttled);
        Assert.NotNull(second.Code);
        if (second.Code != first.Code)
            Assert.Equal(CodeCheck.Invalid, await Codes.VerifyAsync(Purpose, address, first.Code!));
        Assert.Equal(CodeCheck.Verified, await Codes.VerifyAsync(Purpose, address, second.Code));
    }

    [Fact]
    public async Task The_right_code_whose_use_was_stored_but_not_answered_is_verified_and_works_once()
    {
        var address = NewAddress();
        var issued = await Codes.IssueAsync(Purpose, address);
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(Write("DELETE", "PUT"));

        var check = await Codes.VerifyAsync(Purpose, address, issued.Code!);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(CodeCheck.Verified, check);
        Assert.Equal(CodeCheck.Invalid, await Codes.VerifyAsync(Purpose, address, issued.Code!));
    }

    [Fact]
    public async Task A_wrong_guess_whose_count_was_stored_but_not_answered_counts_once()
    {
        var address = NewAddress();
        var issued = await Codes.IssueAsync(Purpose, address);
        var wrong = issued.Code == "000000" ? "111111" : "000000";
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(Write("PUT"));

        var checks = new List<CodeCheck>();
        for (var guess = 0; guess < Codes.Settings.MaxAttempts; guess++)
            checks.Add(await Codes.VerifyAsync(Purpose, address, wrong));

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal([.. Enumerable.Repeat(CodeCheck.Invalid, Codes.Settings.MaxAttempts - 1), CodeCheck.Locked], checks);
    }

    [Fact]
    public async Task Two_parallel_checks_of_the_right_code_verify_it_once()
    {
        var address = NewAddress();
        var issued = await Codes.IssueAsync(Purpose, address);

        var checks = await Task.WhenAll(Codes.VerifyAsync(Purpose, address, issued.Code!), Codes.VerifyAsync(Purpose, address, issued.Code!));

        Assert.Single(checks, c => c == CodeCheck.Verified);
        Assert.Single(checks, c => c == CodeCheck.Invalid);
    }
}
