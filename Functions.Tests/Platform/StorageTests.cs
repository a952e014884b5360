using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class StorageTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    private sealed record Account : ITableEntity
    {
        public string PartitionKey { get; set; } = "";
        public string RowKey { get; set; } = "";
        public DateTimeOffset? Timestamp { get; set; }
        public ETag ETag { get; set; }
        public long Balance { get; set; }
    }

    [Fact]
    public async Task Two_instances_allocating_ids_concurrently_never_hand_out_the_same_id()
    {
        var storage = app.Get<StorageAccount>();
        var instanceA = new IdBlockAllocator(storage, blockSize: 5);
        var instanceB = new IdBlockAllocator(storage, blockSize: 5);

        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? instanceA : instanceB).NextAsync("orders")));

        Assert.Equal(200, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(id >= 1));
    }

    [Fact]
    public async Task Ids_come_from_memory_after_one_reservation_per_block()
    {
        var allocator = new IdBlockAllocator(app.Get<StorageAccount>(), blockSize: 50);
        await allocator.NextAsync("metered");

        using var scope = StorageMeter.Begin();
        for (var i = 0; i < 49; i++)
            await allocator.NextAsync("metered");

        Assert.Equal(0, scope.Meter.Count);
    }

    [Fact]
    public async Task Concurrent_conditional_transitions_lose_no_update()
    {
        var table = app.Get<StorageAccount>().Table("counters");
        await table.AddEntityAsync(new Account { PartitionKey = "acct", RowKey = "balance", Balance = 0 });

        // Five writers at a time on one row: each retries on a lost race and none is lost.
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            table.TransitionAsync<Account>("acct", "balance", a => a with { Balance = a.Balance + 10 })));

        var final = await table.FindAsync<Account>("acct", "balance");
        Assert.Equal(50, final!.Balance);
        Assert.All(results, Assert.NotNull);
    }

    [Fact]
    public async Task A_transition_that_decides_nothing_writes_nothing_and_a_missing_row_is_null()
    {
        var table = app.Get<StorageAccount>().Table("counters");
        await table.AddEntityAsync(new Account { PartitionKey = "acct", RowKey = "frozen", Balance = 5 });

        using var scope = StorageMeter.Begin();
        var unchanged = await table.TransitionAsync<Account>("acct", "frozen", _ => null);
        var missing = await table.TransitionAsync<Account>("acct", "nobody", a => a with { Balance = 1 });

        Assert.Equal(5, unchanged!.Balance);
        Assert.Null(missing);
        Assert.Equal(2, scope.Meter.Count);
    }

    [Fact]
    public async Task A_row_that_keeps_changing_ends_in_a_conflict_after_bounded_attempts()
    {
        var table = app.Get<StorageAccount>().Table("counters");
        await table.AddEntityAsync(new Account { PartitionKey = "acct", RowKey = "hot", Balance = 0 });
        var attempts = 0;

        var error = await Assert.ThrowsAsync<ConcurrencyConflictException>(() => table.TransitionAsync<Account>("acct", "hot", a =>
        {
            attempts++;
            // Someone else writes between our read and our write, every time.
            table.UpdateEntity(a with { Balance = a.Balance + 1 }, ETag.All, TableUpdateMode.Replace);
            return a with { Balance = -1 };
        }));

        Assert.Equal(TableTransitions.MaxAttempts, attempts);
        Assert.Contains("try again", error.Message);
        Assert.Equal(TableTransitions.MaxAttempts, (await table.FindAsync<Account>("acct", "hot"))!.Balance);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a/b\\c#d?e%f", "a%2Fb%5Cc%23d%3Fe%25f")]
    [InlineData("tab\there", "tab%09here")]
    public void Keys_escape_the_characters_table_storage_forbids(string raw, string key) =>
        Assert.Equal(key, TableKeys.Escape(raw));

    [Fact]
    public void Numeric_keys_sort_like_the_numbers() =>
        Assert.True(string.CompareOrdinal(TableKeys.Number(9), TableKeys.Number(10)) < 0);
}
