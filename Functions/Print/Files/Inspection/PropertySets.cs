using System.Buffers.Binary;

namespace Serverless.Print.Files.Inspection;

/// <summary>
/// Reads one 32-bit integer property from a property set stream (MS-OLEPS), such as the page count of a .doc
/// ("\u0005SummaryInformation", PIDSI_PAGECOUNT) or the slide count of a .ppt ("\u0005DocumentSummaryInformation",
/// PIDDSI_SLIDECOUNT). Every offset is checked against the stream, which the caller has already capped in size.
/// </summary>
internal static class PropertySets
{
    public const string SummaryInformation = "\u0005SummaryInformation";
    public const string DocumentSummaryInformation = "\u0005DocumentSummaryInformation";
    public static readonly Guid SummaryInformationFormat = new("F29F85E0-4FF9-1068-AB91-08002B27B3D9");
    public static readonly Guid DocumentSummaryInformationFormat = new("D5CDD502-2E9C-101B-9397-08002B2CF9AE");
    public const uint PageCount = 0x0E;
    public const uint SlideCount = 0x07;

    private const ushort VtI4 = 0x0003;
    private const int MaxProperties = 4096;

    /// <summary>The VT_I4 value of <paramref name="propertyId"/> in the property set <paramref name="format"/>, or null when absent or of another type.</summary>
    /// <exception cref="InvalidDataException">The stream is not a well-formed property set stream.</exception>
    public static int? ReadInt32(ReadOnlySpan<byte> stream, Guid format, uint propertyId)
    {
        if (stream.Length < 48 || BinaryPrimitives.ReadUInt16LittleEndian(stream) != 0xFFFE)
            throw new InvalidDataException("The property set stream header is malformed.");
        var setCount = BinaryPrimitives.ReadUInt32LittleEndian(stream[24..]);
        if (setCount is 0 or > 2 || stream.Length < 28 + setCount * 20)
            throw new InvalidDataException("The property set stream lists an impossible number of sets.");

        for (var i = 0; i < setCount; i++)
        {
            var entry = stream.Slice(28 + i * 20, 20);
            if (new Guid(entry[..16]) != format)
                continue;
            var setOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]);
            return ReadFromSet(stream, setOffset, propertyId);
        }
        return null;
    }

    private static int? ReadFromSet(ReadOnlySpan<byte> stream, uint setOffset, uint propertyId)
    {
        if (setOffset > stream.Length - 8)
            throw new InvalidDataException("The property set lies outside its stream.");
        var set = stream[(int)setOffset..];
        var setSize = BinaryPrimitives.ReadUInt32LittleEndian(set);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(set[4..]);
        if (setSize < 8 || setSize > set.Length || count > MaxProperties || 8 + count * 8 > setSize)
            throw new InvalidDataException("The property set size or property count is out of range.");
        set = set[..(int)setSize];

        for (var i = 0; i < count; i++)
        {
            var id = BinaryPrimitives.ReadUInt32LittleEndian(set[(8 + i * 8)..]);
            if (id != propertyId)
                continue;
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(set[(12 + i * 8)..]);
            if (offset > set.Length - 8)
                throw new InvalidDataException("A property lies outside its property set.");
            var type = BinaryPrimitives.ReadUInt16LittleEndian(set[(int)offset..]);
            return type == VtI4 ? BinaryPrimitives.ReadInt32LittleEndian(set[((int)offset + 4)..]) : null;
        }
        return null;
    }
}
