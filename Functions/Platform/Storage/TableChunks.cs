using Azure.Data.Tables;

namespace Serverless.Platform.Storage;

/// <summary>
/// Bytes too large for one property (binary properties hold 64 KiB) stored across numbered ones,
/// <c>&lt;name&gt;0</c>, <c>&lt;name&gt;1</c>, ..., within the entity's 1 MiB.
/// </summary>
public static class TableChunks
{
    public const int ChunkSize = 60 * 1024;

    public static void Write(TableEntity entity, string name, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i * ChunkSize < bytes.Length; i++)
            entity[name + i] = bytes.Slice(i * ChunkSize, Math.Min(ChunkSize, bytes.Length - i * ChunkSize)).ToArray();
    }

    public static byte[] Read(TableEntity entity, string name)
    {
        using var bytes = new MemoryStream();
        for (var i = 0; entity.TryGetValue(name + i, out var chunk) && chunk is byte[] part; i++)
            bytes.Write(part);
        return bytes.ToArray();
    }
}
