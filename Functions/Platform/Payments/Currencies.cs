using System.Collections.Frozen;
using System.Globalization;

namespace Serverless.Platform.Payments;

/// <summary>
/// ISO 4217 currencies in circulation and their minor units (digits after the decimal point). Money is stored as
/// an integer count of minor units; an amount with more decimals than its currency has is refused, not rounded.
/// </summary>
public static class Currencies
{
    private static readonly FrozenDictionary<string, int> MinorUnits = Build();

    public static bool IsKnown(string code) => MinorUnits.ContainsKey(code);

    public static int MinorDigits(string code) => MinorUnits[code];

    /// <summary>
    /// Converts an amount to minor units. False when the currency is unknown, the amount is not positive, has more
    /// decimals than the currency allows, or is beyond <paramref name="maxMinor"/>.
    /// </summary>
    public static bool TryToMinor(decimal amount, string currency, out long minor, long maxMinor = 999_999_999_999_99)
    {
        minor = 0;
        // The bound before scaling: the largest decimals would overflow when multiplied.
        if (!MinorUnits.TryGetValue(currency, out var digits) || amount <= 0 || amount > maxMinor)
            return false;
        var scaled = amount * Pow10(digits);
        if (scaled != decimal.Truncate(scaled) || scaled > maxMinor)
            return false;
        minor = (long)scaled;
        return true;
    }

    /// <summary>Minor units back to a decimal with exactly the currency's digits (100.00, not 100).</summary>
    public static decimal FromMinor(long minor, string currency)
    {
        var digits = MinorUnits[currency];
        var magnitude = (ulong)Math.Abs(minor);
        return new decimal((int)(magnitude & 0xFFFFFFFF), (int)(magnitude >> 32), 0, minor < 0, (byte)digits);
    }

    private static decimal Pow10(int digits) => digits switch { 0 => 1m, 1 => 10m, 2 => 100m, 3 => 1000m, _ => 10000m };

    private static FrozenDictionary<string, int> Build()
    {
        // code:digits, from the ISO 4217 list of currencies in use (funds codes and precious metals left out).
        const string table =
            "AED:2 AFN:2 ALL:2 AMD:2 ANG:2 AOA:2 ARS:2 AUD:2 AWG:2 AZN:2 BAM:2 BBD:2 BDT:2 BGN:2 BHD:3 BIF:0 BMD:2 BND:2 " +
            "BOB:2 BRL:2 BSD:2 BTN:2 BWP:2 BYN:2 BZD:2 CAD:2 CDF:2 CHF:2 CLP:0 CNY:2 COP:2 CRC:2 CUP:2 CVE:2 CZK:2 DJF:0 " +
            "DKK:2 DOP:2 DZD:2 EGP:2 ERN:2 ETB:2 EUR:2 FJD:2 FKP:2 GBP:2 GEL:2 GHS:2 GIP:2 GMD:2 GNF:0 GTQ:2 GYD:2 HKD:2 " +
            "HNL:2 HTG:2 HUF:2 IDR:2 ILS:2 INR:2 IQD:3 IRR:2 ISK:0 JMD:2 JOD:3 JPY:0 KES:2 KGS:2 KHR:2 KMF:0 KPW:2 KRW:0 " +
            "KWD:3 KYD:2 KZT:2 LAK:2 LBP:2 LKR:2 LRD:2 LSL:2 LYD:3 MAD:2 MDL:2 MGA:2 MKD:2 MMK:2 MNT:2 MOP:2 MRU:2 MUR:2 " +
            "MVR:2 MWK:2 MXN:2 MYR:2 MZN:2 NAD:2 NGN:2 NIO:2 NOK:2 NPR:2 NZD:2 OMR:3 PAB:2 PEN:2 PGK:2 PHP:2 PKR:2 PLN:2 " +
            "PYG:0 QAR:2 RON:2 RSD:2 RUB:2 RWF:0 SAR:2 SBD:2 SCR:2 SDG:2 SEK:2 SGD:2 SHP:2 SLE:2 SOS:2 SRD:2 SSP:2 STN:2 " +
            "SVC:2 SYP:2 SZL:2 THB:2 TJS:2 TMT:2 TND:3 TOP:2 TRY:2 TTD:2 TWD:2 TZS:2 UAH:2 UGX:0 USD:2 UYU:2 UYW:4 UZS:2 " +
            "VED:2 VES:2 VND:0 VUV:0 WST:2 XAF:0 XCD:2 XCG:2 XOF:0 XPF:0 YER:2 ZAR:2 ZMW:2 ZWG:2";
        return table.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split(':'))
            .ToFrozenDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }
}
