namespace Serverless.Print.Shops;

/// <summary>A geohash cell's rectangle, in degrees.</summary>
public readonly record struct GeoBox(double South, double West, double North, double East);

/// <summary>
/// Geohashes, worked on as integer grid cells: at precision <c>p</c> the world is a grid of 2^ceil(5p/2) columns of
/// longitude by 2^floor(5p/2) rows of latitude; a hash interleaves the bits of column and row (longitude first) and
/// writes them 5 at a time in the base-32 alphabet below. That alphabet is in ASCII order, so hashes sort as their
/// interleaved numbers do, and the cells inside a shorter hash are one contiguous key range.
/// </summary>
public static class Geohash
{
    public const string Alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";
    public const int MaxPrecision = 12;

    /// <summary>Mean Earth radius (IUGG), as the haversine distance uses it.</summary>
    public const double EarthRadiusKm = 6371.0088;

    private const double KmPerDegreeLatitude = Math.PI * EarthRadiusKm / 180;

    public static string Encode(double latitude, double longitude, int precision)
    {
        CheckPrecision(precision);
        var (lonBits, latBits) = Bits(precision);
        var column = Index(longitude + 180, 360, lonBits);
        var row = Index(latitude + 90, 180, latBits);
        return FromCell(column, row, precision);
    }

    /// <summary>The rectangle a hash stands for.</summary>
    public static GeoBox Bounds(string hash)
    {
        var (column, row) = ToCell(hash);
        var (lonBits, latBits) = Bits(hash.Length);
        var width = 360.0 / (1L << lonBits);
        var height = 180.0 / (1L << latBits);
        return new GeoBox(-90 + row * height, -180 + column * width, -90 + (row + 1) * height, -180 + (column + 1) * width);
    }

    /// <summary>
    /// The cell <paramref name="east"/> columns east and <paramref name="north"/> rows north of <paramref name="hash"/>,
    /// of the same precision; longitude wraps at the antimeridian, latitude ends at the poles (null past them).
    /// </summary>
    public static string? Neighbour(string hash, int east, int north)
    {
        var (column, row) = ToCell(hash);
        var (lonBits, latBits) = Bits(hash.Length);
        var columns = 1L << lonBits;
        var rows = 1L << latBits;
        var r = row + north;
        if (r < 0 || r >= rows)
            return null;
        return FromCell(((column + east) % columns + columns) % columns, r, hash.Length);
    }

    /// <summary>The (up to) eight cells around <paramref name="hash"/>: fewer at a pole.</summary>
    public static IReadOnlyList<string> Neighbours(string hash)
    {
        var cells = new List<string>(8);
        for (var north = 1; north >= -1; north--)
        {
            for (var east = -1; east <= 1; east++)
            {
                if ((east, north) != (0, 0) && Neighbour(hash, east, north) is { } cell && !cells.Contains(cell) && cell != hash)
                    cells.Add(cell);
            }
        }
        return cells;
    }

    /// <summary>
    /// Every cell of <paramref name="precision"/> that holds some point within <paramref name="radiusKm"/> of the
    /// centre: the cells of the circle's bounding box (walked as neighbours of the centre's cell, longitude wrapping),
    /// less those whose nearest point is farther than the radius. Sorted, so runs of adjacent keys can be read as one range.
    /// </summary>
    public static IReadOnlyList<string> Cover(double latitude, double longitude, double radiusKm, int precision)
    {
        CheckPrecision(precision);
        var (lonBits, latBits) = Bits(precision);
        var columns = 1L << lonBits;
        var rows = 1L << latBits;
        var dLat = radiusKm / KmPerDegreeLatitude;
        var south = Math.Max(-90, latitude - dLat);
        var north = Math.Min(90, latitude + dLat);
        // Longitude degrees shrink with the cosine of the latitude farthest from the equator within the box.
        var widest = Math.Max(Math.Abs(south), Math.Abs(north));
        var cos = Math.Cos(widest * Math.PI / 180);
        var dLon = cos < 1e-9 ? 360 : radiusKm / (KmPerDegreeLatitude * cos);

        var rowFrom = Index(south + 90, 180, latBits);
        var rowTo = Index(north + 90, 180, latBits);
        long columnFrom, columnCount;
        if (dLon >= 180)
        {
            columnFrom = 0;
            columnCount = columns;
        }
        else
        {
            columnFrom = Index(longitude - dLon + 180 + (longitude - dLon < -180 ? 360 : 0), 360, lonBits);
            var columnTo = Index(longitude + dLon + 180 - (longitude + dLon > 180 ? 360 : 0), 360, lonBits);
            columnCount = Math.Min(columns, (columnTo - columnFrom + columns) % columns + 1);
        }

        var cells = new List<string>();
        for (var row = rowFrom; row <= rowTo && row < rows; row++)
        {
            for (var i = 0L; i < columnCount; i++)
            {
                var cell = FromCell((columnFrom + i) % columns, row, precision);
                // A small margin: the clamped point is the nearest one on a flat map, within metres of it on the sphere.
                if (DistanceToBoxKm(latitude, longitude, Bounds(cell)) <= radiusKm * 1.001 + 0.01)
                    cells.Add(cell);
            }
        }
        cells.Sort(StringComparer.Ordinal);
        return cells;
    }

    /// <summary>Great-circle distance in km (haversine).</summary>
    public static double DistanceKm(double lat1, double lon1, double lat2, double lon2)
    {
        var phi1 = lat1 * Math.PI / 180;
        var phi2 = lat2 * Math.PI / 180;
        var dPhi = (lat2 - lat1) * Math.PI / 180;
        var dLambda = (lon2 - lon1) * Math.PI / 180;
        var a = Math.Sin(dPhi / 2) * Math.Sin(dPhi / 2) + Math.Cos(phi1) * Math.Cos(phi2) * Math.Sin(dLambda / 2) * Math.Sin(dLambda / 2);
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    /// <summary>True when <paramref name="next"/> is the hash right after <paramref name="hash"/> in key order (same precision).</summary>
    public static bool Follows(string hash, string next) =>
        hash.Length == next.Length && Number(next) == Number(hash) + 1;

    private static double DistanceToBoxKm(double latitude, double longitude, GeoBox box)
    {
        var lat = Math.Clamp(latitude, box.South, box.North);
        // The nearest longitude of the box, going either way around the globe.
        double lon;
        if (longitude >= box.West && longitude <= box.East)
            lon = longitude;
        else
        {
            var toWest = ((box.West - longitude) % 360 + 360) % 360;
            var fromEast = ((longitude - box.East) % 360 + 360) % 360;
            lon = toWest <= fromEast ? box.West : box.East;
        }
        return DistanceKm(latitude, longitude, lat, lon);
    }

    private static long Number(string hash)
    {
        var n = 0L;
        foreach (var c in hash)
        {
            var v = Alphabet.IndexOf(c);
            if (v < 0)
                throw new ArgumentException($"'{hash}' is not a geohash.", nameof(hash));
            n = (n << 5) | (uint)v;
        }
        return n;
    }

    private static (long Column, long Row) ToCell(string hash)
    {
        CheckPrecision(hash.Length);
        var n = Number(hash);
        var bits = hash.Length * 5;
        long column = 0, row = 0;
        for (var i = 0; i < bits; i++)
        {
            var bit = (n >> (bits - 1 - i)) & 1;
            if (i % 2 == 0)
                column = (column << 1) | bit;
            else
                row = (row << 1) | bit;
        }
        return (column, row);
    }

    private static string FromCell(long column, long row, int precision)
    {
        var (lonBits, latBits) = Bits(precision);
        var bits = precision * 5;
        long n = 0;
        int c = lonBits, r = latBits;
        for (var i = 0; i < bits; i++)
            n = (n << 1) | (i % 2 == 0 ? (column >> --c) & 1 : (row >> --r) & 1);
        return string.Create(precision, n, (span, value) =>
        {
            for (var i = span.Length - 1; i >= 0; i--, value >>= 5)
                span[i] = Alphabet[(int)(value & 31)];
        });
    }

    private static long Index(double offset, double span, int bits)
    {
        var cells = 1L << bits;
        return Math.Clamp((long)Math.Floor(offset / span * cells), 0, cells - 1);
    }

    private static (int Lon, int Lat) Bits(int precision) => ((precision * 5 + 1) / 2, precision * 5 / 2);

    private static void CheckPrecision(int precision)
    {
        if (precision is < 1 or > MaxPrecision)
            throw new ArgumentOutOfRangeException(nameof(precision), $"A geohash has 1 to {MaxPrecision} characters.");
    }
}
