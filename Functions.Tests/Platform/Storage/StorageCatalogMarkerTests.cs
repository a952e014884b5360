using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Storage;

/// <summary>
/// The storage catalog is created once per catalog: a start that finds the marker row with its own fingerprint reads
/// that row and creates nothing; a start whose catalog differs (a new table in a deployment) creates them all again.
/// </summary>
public sealed class StorageCatalogMarkerTests : IAsyncLifetime
{
    private readonly PlatformFactory _first = new();

    public Task InitializeAsync() => ((IAsyncLifetime)_first).InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_first).DisposeAsync();

    private async Task<PlatformFactory> StartAgainAsync()
    {
        var again = new PlatformFactory().With("Storage:Prefix", _first.Prefix);
        // Started and ready, but not disposed through IAsyncLifetime: the storage is the first factory's to delete.
        again.ConnectionString = _first.ConnectionString;
        await again.Services.GetRequiredService<StorageReadiness>().WaitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return again;
    }

    private TableClient Marker => _first.Get<StorageAccount>().Table(StorageReadiness.CatalogTable);

    private async Task<bool> TableExistsAsync(string name)
    {
        var table = _first.Get<StorageAccount>().Table(name);
        await foreach (var _ in _first.Get<StorageAccount>().Tables.QueryAsync(t => t.Name == table.Name))
            return true;
        return false;
    }

    [Fact]
    public async Task The_first_start_creates_the_catalog_and_records_its_fingerprint_and_a_later_start_creates_nothing()
    {
        var marker = await Marker.GetEntityAsync<TableEntity>(StorageReadiness.MarkerPartition, StorageReadiness.MarkerRow);
        Assert.Equal(StorageReadiness.Fingerprint(_first.Get<StorageAccount>().Catalog), marker.Value.GetString("Fingerprint"));
        Assert.True(await TableExistsAsync(IdempotencyMiddleware.TableName));

        // Lost by hand since: a start that trusts the marker does not notice (a request that meets it missing re-creates it).
        await _first.Get<StorageAccount>().Table(IdempotencyMiddleware.TableName).DeleteAsync();
        await using (var again = await StartAgainAsync())
        {
            Assert.Null(again.Get<StorageReadiness>().Problem);
            Assert.False(await TableExistsAsync(IdempotencyMiddleware.TableName));
            await again.Get<StorageReadiness>().ReprovisionAsync(CancellationToken.None);
            Assert.True(await TableExistsAsync(IdempotencyMiddleware.TableName));
        }
    }

    [Fact]
    public async Task A_start_whose_catalog_differs_from_the_marker_creates_it_again_and_rewrites_the_marker()
    {
        await Marker.UpsertEntityAsync(new TableEntity(StorageReadiness.MarkerPartition, StorageReadiness.MarkerRow) { ["Fingerprint"] = "an-older-catalog" },
            TableUpdateMode.Replace);
        await _first.Get<StorageAccount>().Table(IdempotencyMiddleware.TableName).DeleteAsync();

        await using var again = await StartAgainAsync();
        Assert.True(await TableExistsAsync(IdempotencyMiddleware.TableName));
        var marker = await Marker.GetEntityAsync<TableEntity>(StorageReadiness.MarkerPartition, StorageReadiness.MarkerRow);
        Assert.Equal(StorageReadiness.Fingerprint(_first.Get<StorageAccount>().Catalog), marker.Value.GetString("Fingerprint"));
    }

    [Fact]
    public async Task Once_tasks_finished_are_recorded_in_the_marker_and_skipped_until_the_catalog_changes()
    {
        var marker = (await Marker.GetEntityAsync<TableEntity>(StorageReadiness.MarkerPartition, StorageReadiness.MarkerRow)).Value;
        var once = _first.Services.GetServices<IStartupTask>().OfType<IOnceStartupTask>().ToList();
        Assert.Contains(once, t => t is UserPartitionMigration);
        // Recorded when finished during that start (a backfill walking in the background is not, until a later start finds its marker).
        Assert.NotNull(marker[StorageReadiness.FinishedColumn("UserPartitions")]);
        foreach (var task in once)
            Assert.Equal(task.Finished, marker.ContainsKey(StorageReadiness.FinishedColumn(task.Name)));

        // A migration's own marker lost: a start that finds the migration recorded does not run it (nor read anything for it).
        var users = _first.Get<StorageAccount>().Table(UserDirectory.TableName);
        await users.DeleteEntityAsync(UserPartitionMigration.MarkerPartition, UserPartitionMigration.MarkerRow);
        await using (var again = await StartAgainAsync())
        {
            Assert.Null(again.Get<StorageReadiness>().Problem);
            Assert.True(again.Services.GetServices<IStartupTask>().OfType<UserPartitionMigration>().Single().Finished);
            Assert.False((await users.GetEntityIfExistsAsync<TableEntity>(UserPartitionMigration.MarkerPartition, UserPartitionMigration.MarkerRow)).HasValue);
        }

        // A new catalog rewrites the marker without the records: that start runs the tasks again and records them again.
        await Marker.UpsertEntityAsync(new TableEntity(StorageReadiness.MarkerPartition, StorageReadiness.MarkerRow) { ["Fingerprint"] = "an-older-catalog" },
            TableUpdateMode.Replace);
        await using (var again = await StartAgainAsync())
        {
            Assert.True((await users.GetEntityIfExistsAsync<TableEntity>(UserPartitionMigration.MarkerPartition, UserPartitionMigration.MarkerRow)).HasValue);
            var rewritten = (await Marker.GetEntityAsync<TableEntity>(StorageReadiness.MarkerPartition, StorageReadiness.MarkerRow)).Value;
            Assert.Equal(StorageReadiness.Fingerprint(_first.Get<StorageAccount>().Catalog), rewritten.GetString("Fingerprint"));
            foreach (var task in again.Services.GetServices<IStartupTask>().OfType<IOnceStartupTask>())
                Assert.Equal(task.Finished, rewritten.ContainsKey(StorageReadiness.FinishedColumn(task.Name)));
            Assert.NotNull(rewritten[StorageReadiness.FinishedColumn("UserPartitions")]);
        }
    }
}
