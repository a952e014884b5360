using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

/// <summary>The e-cards partners can order: one small partition, read whole.</summary>
public sealed class ECardCatalog(StorageAccount storage)
{
    public const string TableName = "ecardcatalog";

    private TableClient Table => storage.Table(TableName);

    public static string Key(int id) => id.ToString("D10", CultureInfo.InvariantCulture);

    public async Task<IReadOnlyList<ECardRow>> ListAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<ECardRow>();
        await foreach (var row in Table.QueryAsync<ECardRow>(r => r.PartitionKey == ECardRow.Partition, cancellationToken: cancellationToken))
            rows.Add(row);
        return rows;
    }

    public Task<ECardRow?> FindAsync(int id, CancellationToken cancellationToken = default) =>
        Table.FindAsync<ECardRow>(ECardRow.Partition, Key(id), cancellationToken);

    /// <summary>Creates or replaces an e-card. Orders already placed keep the names and prices they were placed with.</summary>
    public async Task<ECardRow> PutAsync(int id, string name, string description, string unit, IReadOnlyList<FaceValue> faceValues,
        CancellationToken cancellationToken = default)
    {
        var row = new ECardRow
        {
            RowKey = Key(id), Id = id, Name = name, Description = description, Unit = unit,
            FaceValuesJson = JsonSerializer.Serialize(faceValues),
        };
        await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        return row;
    }

    public async Task<bool> DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        var response = await Table.DeleteEntityAsync(ECardRow.Partition, Key(id), cancellationToken: cancellationToken);
        return response.Status != 404;
    }
}
