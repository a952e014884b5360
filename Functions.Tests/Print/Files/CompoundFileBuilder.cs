using System.Buffers.Binary;
using System.Text;

namespace Serverless.Tests.Print.Files;

/// <summary>
/// Writes a version 3 compound file (MS-CFB, 512-byte sectors) whose root storage holds the given streams: those
/// under 4096 bytes in the mini stream, the others in regular sectors, as Office writes .doc and .ppt files.
/// </summary>
public static class CompoundFileBuilder
{
    private const int SectorSize = 512;
    private const int MiniSectorSize = 64;
    private const uint EndOfChain = 0xFFFFFFFE;
    private const uint FatSector = 0xFFFFFFFD;
    private const uint Free = 0xFFFFFFFF;

    public static byte[] Build(params (string Name, byte[] Data)[] streams)
    {
        var small = streams.Select((s, i) => (s, i)).Where(x => x.s.Data.Length < 4096).ToList();
        var large = streams.Select((s, i) => (s, i)).Where(x => x.s.Data.Length >= 4096).ToList();

        var directorySectors = Ceiling((1 + streams.Length) * 128, SectorSize);
        var miniSectorCount = small.Sum(x => Ceiling(x.s.Data.Length, MiniSectorSize));
        var miniStreamBytes = miniSectorCount * MiniSectorSize;
        var miniStreamSectors = Ceiling(miniStreamBytes, SectorSize);
        var miniFatSectors = Ceiling(miniSectorCount * 4, SectorSize);
        var largeSectors = large.Sum(x => Ceiling(x.s.Data.Length, SectorSize));
        var dataSectors = directorySectors + miniFatSectors + miniStreamSectors + largeSectors;
        var fatSectors = 1;
        while (fatSectors * (SectorSize / 4) < fatSectors + dataSectors)
            fatSectors++;
        var totalSectors = fatSectors + dataSectors;

        var fat = Enumerable.Repeat(Free, fatSectors * (SectorSize / 4)).ToArray();
        var next = 0u;
        uint Allocate(int count, uint mark = 0)
        {
            if (count == 0)
                return EndOfChain;
            var start = next;
            for (var i = 0; i < count; i++)
                fat[next + i] = mark != 0 ? mark : (i == count - 1 ? EndOfChain : (uint)(next + i + 1));
            next += (uint)count;
            return start;
        }
        for (var i = 0; i < fatSectors; i++)
            Allocate(1, FatSector);
        var directoryStart = Allocate(directorySectors);
        var miniFatStart = Allocate(miniFatSectors);
        var miniStreamStart = Allocate(miniStreamSectors);

        var file = new byte[(1 + totalSectors) * SectorSize];
        Span<byte> Sector(uint n) => file.AsSpan((int)(n + 1) * SectorSize, SectorSize);

        var starts = new uint[streams.Length];
        var miniFat = Enumerable.Repeat(Free, miniFatSectors * (SectorSize / 4)).ToArray();
        var miniStream = new byte[miniStreamSectors * SectorSize];
        var nextMini = 0u;
        foreach (var (stream, index) in small)
        {
            var count = Ceiling(stream.Data.Length, MiniSectorSize);
            starts[index] = count == 0 ? EndOfChain : nextMini;
            for (var i = 0; i < count; i++)
                miniFat[nextMini + i] = i == count - 1 ? EndOfChain : (uint)(nextMini + i + 1);
            stream.Data.CopyTo(miniStream, (int)nextMini * MiniSectorSize);
            nextMini += (uint)count;
        }
        foreach (var (stream, index) in large)
        {
            starts[index] = Allocate(Ceiling(stream.Data.Length, SectorSize));
            stream.Data.CopyTo(file, (int)(starts[index] + 1) * SectorSize);
        }
        miniStream.CopyTo(file, (int)(miniStreamStart + 1) * SectorSize);
        for (var i = 0; i < miniFat.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan((int)(miniFatStart + 1) * SectorSize + i * 4), miniFat[i]);
        for (var i = 0; i < fat.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(Sector((uint)(i / 128)).Slice(i % 128 * 4), fat[i]);

        var directory = file.AsSpan((int)(directoryStart + 1) * SectorSize, directorySectors * SectorSize);
        for (var i = 0; i < directorySectors * SectorSize / 128; i++)
            WriteEntry(directory.Slice(i * 128, 128), "", 0, Free, Free, Free, 0, 0);
        WriteEntry(directory[..128], "Root Entry", 5, Free, Free, streams.Length > 0 ? 1u : Free,
            miniStreamBytes > 0 ? miniStreamStart : EndOfChain, (ulong)miniStreamBytes);
        for (var i = 0; i < streams.Length; i++)
        {
            var right = i + 1 < streams.Length ? (uint)(i + 2) : Free;
            WriteEntry(directory.Slice((i + 1) * 128, 128), streams[i].Name, 2, Free, right, Free, starts[i], (ulong)streams[i].Data.Length);
        }

        var header = file.AsSpan(0, SectorSize);
        ReadOnlySpan<byte> signature = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        signature.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[24..], 0x003E);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], 3);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(header[30..], 9);
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], 6);
        BinaryPrimitives.WriteUInt32LittleEndian(header[44..], (uint)fatSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(header[48..], directoryStart);
        BinaryPrimitives.WriteUInt32LittleEndian(header[56..], 4096);
        BinaryPrimitives.WriteUInt32LittleEndian(header[60..], miniFatSectors > 0 ? miniFatStart : EndOfChain);
        BinaryPrimitives.WriteUInt32LittleEndian(header[64..], (uint)miniFatSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(header[68..], EndOfChain);
        for (var i = 0; i < 109; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(header[(76 + i * 4)..], i < fatSectors ? (uint)i : Free);
        return file;
    }

    /// <summary>Points the FAT entry of the file's first directory sector at itself, so the directory chain never ends.</summary>
    public static byte[] WithDirectoryLoop(byte[] file)
    {
        var copy = (byte[])file.Clone();
        var directoryStart = BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(48));
        var firstFatSector = BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(76));
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan((int)(firstFatSector + 1) * SectorSize + (int)directoryStart * 4), directoryStart);
        return copy;
    }

    /// <summary>Sets mini FAT entry <paramref name="miniSector"/> (the first mini FAT sector only) to <paramref name="next"/>.</summary>
    public static byte[] WithMiniFatEntry(byte[] file, int miniSector, uint next)
    {
        var copy = (byte[])file.Clone();
        var miniFatStart = BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(60));
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan((int)(miniFatStart + 1) * SectorSize + miniSector * 4), next);
        return copy;
    }

    /// <summary>Overwrites a 32-bit field of the header, such as the first directory sector (48) or the FAT sector count (44).</summary>
    public static byte[] WithHeaderField(byte[] file, int offset, uint value)
    {
        var copy = (byte[])file.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    private static void WriteEntry(Span<byte> entry, string name, byte type, uint left, uint right, uint child, uint start, ulong size)
    {
        var encoded = Encoding.Unicode.GetBytes(name);
        encoded.CopyTo(entry);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[64..], (ushort)(name.Length == 0 ? 0 : encoded.Length + 2));
        entry[66] = type;
        entry[67] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(entry[68..], left);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[72..], right);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[76..], child);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[116..], start);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[120..], size);
    }

    private static int Ceiling(int value, int unit) => (value + unit - 1) / unit;

    /// <summary>A property set stream (MS-OLEPS) with one property set of <paramref name="format"/> holding 32-bit integer properties and a code page.</summary>
    public static byte[] PropertySetStream(Guid format, params (uint Id, int Value)[] properties)
    {
        var all = new List<(uint Id, ushort Type, int Value)> { (1, 0x0002, 1252) };
        all.AddRange(properties.Select(p => (p.Id, (ushort)0x0003, p.Value)));
        var setSize = 8 + all.Count * 8 + all.Count * 8;
        var stream = new byte[48 + setSize];
        var span = stream.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span, 0xFFFE);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 0x00020006);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], 1);
        format.TryWriteBytes(span[28..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[44..], 48);
        var set = span[48..];
        BinaryPrimitives.WriteUInt32LittleEndian(set, (uint)setSize);
        BinaryPrimitives.WriteUInt32LittleEndian(set[4..], (uint)all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            var offset = 8 + all.Count * 8 + i * 8;
            BinaryPrimitives.WriteUInt32LittleEndian(set[(8 + i * 8)..], all[i].Id);
            BinaryPrimitives.WriteUInt32LittleEndian(set[(12 + i * 8)..], (uint)offset);
            BinaryPrimitives.WriteUInt16LittleEndian(set[offset..], all[i].Type);
            if (all[i].Type == 0x0002)
                BinaryPrimitives.WriteInt16LittleEndian(set[(offset + 4)..], (short)all[i].Value);
            else
                BinaryPrimitives.WriteInt32LittleEndian(set[(offset + 4)..], all[i].Value);
        }
        return stream;
    }
}
