using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Http;
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
}
