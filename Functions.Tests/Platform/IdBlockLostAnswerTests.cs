using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>Reserving a block of ids whose write was done by storage but whose answer was lost.</summary>
public sealed class IdBlockLostAnswerTests(IdBlockLostAnswerTests.Factory app) : IClassFixture<IdBlockLostAnswerTests.Factory>
{
    public sealed class Factory : PlatformFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    private string Counters => "/devstoreaccount1/" + app.Get<StorageAccount>().TableName(IdBlockAllocator.TableName);

    [Theory]
    [InlineData("POST")] // the first block: the counter row is inserted
    [InlineData("PUT")] // a later block: the counter row is moved up with its ETag
    public async Task A_block_whose_reservation_was_stored_but_not_answered_is_the_block_handed_out_and_no_other_instance_gets_it(string write)
    {
        var sequence = "seq-" + Guid.NewGuid().ToString("N");
        var instance = new IdBlockAllocator(app.Get<StorageAccount>(), 4);
        var other = new IdBlockAllocator(app.Get<StorageAccount>(), 4);
        var ids = new List<long>();
        if (write == "PUT")
        {
            for (var i = 0; i < 4; i++)
                ids.Add(await instance.NextAsync(sequence));
        }
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(r => r.Method == write && r.Path.Value!.StartsWith(Counters, StringComparison.Ordinal));

        for (var i = 0; i < 4; i++)
            ids.Add(await instance.NextAsync(sequence));
        var others = new List<long>();
        for (var i = 0; i < 4; i++)
            others.Add(await other.NextAsync(sequence));

        Assert.Equal(lost + 1, app.Proxy.Lost);
        // The block this instance's write stored is the one it hands out: no block is skipped, and none is shared.
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids);
        Assert.Equal(Enumerable.Range(ids.Count + 1, 4).Select(i => (long)i), others);
    }
}
