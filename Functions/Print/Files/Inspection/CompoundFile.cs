using System.Buffers.Binary;
using System.Text;

namespace Serverless.Print.Files.Inspection;

/// <summary>
/// A bounded, read-only reader of the Compound File Binary format (MS-CFB), the container of .doc and .ppt files.
/// It reads the header, the FAT (through the DIFAT), the directory and the mini stream, and hands out small streams
/// of the root storage. Every sector chain is checked for loops and out-of-range sectors, and every size is capped,
/// so a hostile file costs at most a few megabytes and a bounded number of reads.
/// </summary>
/// <exception cref="InvalidDataException">Thrown by every member for a malformed or over-large file.</exception>
internal sealed class CompoundFile
{
    public static ReadOnlySpan<byte> Signature => [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    private const uint MaxRegularSector = 0xFFFFFFFA;
    private const uint EndOfChain = 0xFFFFFFFE;
    private const uint NoStream = 0xFFFFFFFF;
    private const int HeaderDifatEntries = 109;
    private const int DirectoryEntrySize = 128;

    // A 20 MB upload needs at most 160 KB of FAT with 512-byte sectors; these caps leave room and stay small.
    private const int MaxFatBytes = 4 * 1024 * 1024;
    private const int MaxDirectoryEntries = 16 * 1024;
    private const int MaxMiniFatBytes = 1024 * 1024;
    private const int MaxMiniStreamBytes = 16 * 1024 * 1024;
    private const int MaxRootChildren = 4096;

    private readonly Stream file;
    private readonly int sectorSize;
    private readonly int miniSectorSize;
    private readonly uint miniStreamCutoff;
    private readonly long sectorCount;
    private readonly uint[] fat;
    private readonly List<DirectoryEntry> directory;
    private uint[]? miniFat;

    private CompoundFile(Stream file, int sectorSize, int miniSectorSize, uint miniStreamCutoff, long sectorCount,
        uint[] fat, List<DirectoryEntry> directory, uint[]? miniFat)
    {
        this.file = file;
        this.sectorSize = sectorSize;
        this.miniSectorSize = miniSectorSize;
        this.miniStreamCutoff = miniStreamCutoff;
        this.sectorCount = sectorCount;
        this.fat = fat;
        this.directory = directory;
        this.miniFat = miniFat;
    }

    private sealed record DirectoryEntry(string Name, byte Type, uint Left, uint Right, uint Child, uint Start, ulong Size)
    {
        public const byte Storage = 1;
        public const byte StreamObject = 2;
        public const byte Root = 5;
    }

    /// <summary>Reads the header, the FAT and the directory of a compound file.</summary>
    public static CompoundFile Open(Stream file)
    {
        var header = new byte[512];
        file.Position = 0;
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw new InvalidDataException("The compound file header is truncated.");
        if (!header.AsSpan(0, 8).SequenceEqual(Signature))
            throw new InvalidDataException("The compound file signature is missing.");
        if (BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28)) != 0xFFFE)
            throw new InvalidDataException("The compound file byte order mark is wrong.");

        var major = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26));
        var sectorShift = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(30));
        if (!(major == 3 && sectorShift == 9) && !(major == 4 && sectorShift == 12))
            throw new InvalidDataException("The compound file version or sector size is not supported.");
        var miniSectorShift = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(32));
        if (miniSectorShift != 6)
            throw new InvalidDataException("The compound file mini sector size is not supported.");

        var sectorSize = 1 << sectorShift;
        // Sector n starts at (n + 1) * sectorSize; a version 4 header occupies a whole 4096-byte sector.
        var sectorCount = file.Length / sectorSize - 1;
        if (sectorCount <= 0)
            throw new InvalidDataException("The compound file has no sectors.");

        var fatSectorCount = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(44));
        var firstDirectorySector = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(48));
        var miniStreamCutoff = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(56));
        var firstMiniFatSector = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(60));
        var miniFatSectorCount = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(64));
        var firstDifatSector = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(68));
        var difatSectorCount = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(72));

        if (miniStreamCutoff != 4096)
            throw new InvalidDataException("The compound file mini stream cutoff is not 4096.");
        if (fatSectorCount == 0 || fatSectorCount > sectorCount || (long)fatSectorCount * sectorSize > MaxFatBytes)
            throw new InvalidDataException("The compound file FAT size is out of range.");
        if (difatSectorCount > sectorCount || (long)miniFatSectorCount * sectorSize > MaxMiniFatBytes)
            throw new InvalidDataException("The compound file DIFAT or mini FAT size is out of range.");

        var fatSectors = ReadDifat(file, header, sectorSize, sectorCount, (int)fatSectorCount, firstDifatSector, (int)difatSectorCount);

        var entriesPerSector = sectorSize / 4;
        var fat = new uint[fatSectors.Count * entriesPerSector];
        var buffer = new byte[sectorSize];
        for (var i = 0; i < fatSectors.Count; i++)
        {
            ReadSector(file, fatSectors[i], sectorSize, sectorCount, buffer);
            for (var j = 0; j < entriesPerSector; j++)
                fat[i * entriesPerSector + j] = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(j * 4));
        }

        var compound = new CompoundFile(file, sectorSize, 1 << miniSectorShift, miniStreamCutoff, sectorCount, fat, [], null);
        compound.ReadDirectory(firstDirectorySector);
        if (miniFatSectorCount > 0)
            compound.miniFat = compound.ReadMiniFat(firstMiniFatSector, (int)miniFatSectorCount);
        return compound;
    }

    private static List<uint> ReadDifat(Stream file, byte[] header, int sectorSize, long sectorCount, int fatSectorCount,
        uint firstDifatSector, int difatSectorCount)
    {
        var fatSectors = new List<uint>(fatSectorCount);
        for (var i = 0; i < HeaderDifatEntries && fatSectors.Count < fatSectorCount; i++)
            fatSectors.Add(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(76 + i * 4)));

        var next = firstDifatSector;
        var buffer = new byte[sectorSize];
        var perSector = sectorSize / 4 - 1;
        var visited = new HashSet<uint>();
        for (var read = 0; fatSectors.Count < fatSectorCount; read++)
        {
            if (read >= difatSectorCount || next >= MaxRegularSector)
                throw new InvalidDataException("The compound file DIFAT ends before listing every FAT sector.");
            if (!visited.Add(next))
                throw new InvalidDataException("The compound file DIFAT chain loops.");
            ReadSector(file, next, sectorSize, sectorCount, buffer);
            for (var j = 0; j < perSector && fatSectors.Count < fatSectorCount; j++)
                fatSectors.Add(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(j * 4)));
            next = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(perSector * 4));
        }

        foreach (var sector in fatSectors)
        {
            if (sector >= sectorCount)
                throw new InvalidDataException("The compound file lists a FAT sector outside the file.");
        }
        return fatSectors;
    }

    private static void ReadSector(Stream file, uint sector, int sectorSize, long sectorCount, byte[] buffer)
    {
        if (sector >= sectorCount)
            throw new InvalidDataException("The compound file refers to a sector outside the file.");
        file.Position = ((long)sector + 1) * sectorSize;
        if (file.ReadAtLeast(buffer, sectorSize, throwOnEndOfStream: false) < sectorSize)
            throw new InvalidDataException("The compound file is truncated.");
    }

    /// <summary>Follows a FAT chain from <paramref name="start"/>, refusing loops, sectors outside the file and chains longer than <paramref name="maxSectors"/>.</summary>
    private List<uint> Chain(uint start, long maxSectors)
    {
        var chain = new List<uint>();
        var visited = new HashSet<uint>();
        var sector = start;
        while (sector != EndOfChain)
        {
            if (sector >= sectorCount || sector >= fat.Length)
                throw new InvalidDataException("A compound file sector chain leaves the file.");
            if (!visited.Add(sector))
                throw new InvalidDataException("A compound file sector chain loops.");
            if (chain.Count >= maxSectors)
                throw new InvalidDataException("A compound file sector chain is longer than allowed.");
            chain.Add(sector);
            sector = fat[sector];
        }
        return chain;
    }

    private byte[] ReadChain(uint start, long maxBytes)
    {
        var chain = Chain(start, Math.Min(sectorCount, (maxBytes + sectorSize - 1) / sectorSize));
        var data = new byte[chain.Count * sectorSize];
        var buffer = new byte[sectorSize];
        for (var i = 0; i < chain.Count; i++)
        {
            ReadSector(file, chain[i], sectorSize, sectorCount, buffer);
            buffer.CopyTo(data, i * sectorSize);
        }
        return data;
    }

    private void ReadDirectory(uint firstSector)
    {
        var data = ReadChain(firstSector, (long)MaxDirectoryEntries * DirectoryEntrySize);
        for (var offset = 0; offset + DirectoryEntrySize <= data.Length; offset += DirectoryEntrySize)
        {
            var entry = data.AsSpan(offset, DirectoryEntrySize);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[64..]);
            var type = entry[66];
            var name = nameLength is >= 2 and <= 64 && nameLength % 2 == 0
                ? Encoding.Unicode.GetString(entry[..(nameLength - 2)])
                : "";
            directory.Add(new DirectoryEntry(
                name,
                type,
                BinaryPrimitives.ReadUInt32LittleEndian(entry[68..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[72..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[76..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[116..]),
                BinaryPrimitives.ReadUInt64LittleEndian(entry[120..])));
        }
        if (directory.Count == 0 || directory[0].Type != DirectoryEntry.Root)
            throw new InvalidDataException("The compound file has no root entry.");
    }

    private uint[] ReadMiniFat(uint firstSector, int sectors)
    {
        var data = ReadChain(firstSector, (long)sectors * sectorSize);
        var entries = new uint[data.Length / 4];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(i * 4));
        return entries;
    }

    /// <summary>The streams and storages directly inside the root storage, by name (case-insensitive, as MS-CFB compares names).</summary>
    private Dictionary<string, DirectoryEntry> RootChildren()
    {
        var children = new Dictionary<string, DirectoryEntry>(StringComparer.OrdinalIgnoreCase);
        var visited = new HashSet<uint>();
        var pending = new Stack<uint>();
        pending.Push(directory[0].Child);
        while (pending.Count > 0)
        {
            var id = pending.Pop();
            if (id == NoStream)
                continue;
            if (id >= directory.Count)
                throw new InvalidDataException("A compound file directory entry points outside the directory.");
            if (!visited.Add(id) || visited.Count > MaxRootChildren)
                throw new InvalidDataException("The compound file directory tree loops.");
            var entry = directory[(int)id];
            if (entry.Type is DirectoryEntry.StreamObject or DirectoryEntry.Storage)
                children.TryAdd(entry.Name, entry);
            pending.Push(entry.Left);
            pending.Push(entry.Right);
        }
        return children;
    }

    /// <summary>Whether the root storage holds a stream of this name.</summary>
    public bool HasStream(string name) =>
        RootChildren().TryGetValue(name, out var entry) && entry.Type == DirectoryEntry.StreamObject;

    /// <summary>The bytes of a stream of the root storage, or null when there is none; refuses streams larger than <paramref name="maxBytes"/>.</summary>
    public byte[]? ReadStream(string name, int maxBytes)
    {
        if (!RootChildren().TryGetValue(name, out var entry) || entry.Type != DirectoryEntry.StreamObject)
            return null;
        // Version 3 files may leave garbage in the high 32 bits of the size; the low half is the size.
        var size = sectorSize == 512 ? entry.Size & 0xFFFFFFFF : entry.Size;
        if (size > (ulong)maxBytes)
            throw new InvalidDataException($"The compound file stream '{name}' is larger than allowed.");

        byte[] data;
        if (size < miniStreamCutoff)
        {
            var root = directory[0];
            var miniStreamSize = sectorSize == 512 ? root.Size & 0xFFFFFFFF : root.Size;
            if (miniFat is null || miniStreamSize > MaxMiniStreamBytes)
                throw new InvalidDataException("The compound file mini stream is missing or too large.");
            var miniStream = ReadChain(root.Start, (long)miniStreamSize);
            data = ReadMiniChain(miniStream, entry.Start, (int)size);
        }
        else
        {
            data = ReadChain(entry.Start, (long)size);
        }
        if ((ulong)data.Length < size)
            throw new InvalidDataException($"The compound file stream '{name}' is shorter than its size.");
        return data.AsSpan(0, (int)size).ToArray();
    }

    private byte[] ReadMiniChain(byte[] miniStream, uint start, int size)
    {
        var data = new byte[(size + miniSectorSize - 1) / miniSectorSize * miniSectorSize];
        var visited = new HashSet<uint>();
        var sector = start;
        for (var offset = 0; offset < data.Length; offset += miniSectorSize)
        {
            if (sector >= miniFat!.Length || (long)(sector + 1) * miniSectorSize > miniStream.Length)
                throw new InvalidDataException("A compound file mini sector chain leaves the mini stream.");
            if (!visited.Add(sector))
                throw new InvalidDataException("A compound file mini sector chain loops.");
            Array.Copy(miniStream, sector * miniSectorSize, data, offset, miniSectorSize);
            sector = miniFat[sector];
        }
        return data;
    }
}
