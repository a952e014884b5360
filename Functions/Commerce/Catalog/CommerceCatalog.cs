using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Catalog;

/// <summary>A company's settings as one read gives them: the company, its payment options, gas fees and coupons.</summary>
public sealed record CompanySettings(
    CommerceCompany Company,
    IReadOnlyList<CompanyPaymentOption> PaymentOptions,
    IReadOnlyDictionary<string, long> GasFeesMinor,
    IReadOnlyDictionary<string, CompanyCoupon> Coupons)
{
    public CompanyPaymentOption? PaymentOption(string currencyId, string method) =>
        PaymentOptions.FirstOrDefault(o => o.CurrencyId == currencyId && o.PaymentMethod == method);

    public long GasFeeMinor(string currencyId) => GasFeesMinor.GetValueOrDefault(currencyId);

    public CompanyCoupon? Coupon(string code) => Coupons.GetValueOrDefault(code.Trim().ToUpperInvariant());
}

/// <summary>
/// The catalogue a company sells from: currencies (shared), the company's settings partition, its products and
/// their tokens. Settings and currencies change rarely and are read on every preview, so an instance keeps them for
/// <see cref="SettingsLifetime"/>; products and tokens are read fresh.
/// </summary>
public sealed class CommerceCatalog(StorageAccount storage)
{
    public const string CurrenciesTable = "commercecurrencies";
    public const string CompaniesTable = "commercecompanies";
    public const string ProductsTable = "commerceproducts";
    public const string TokensTable = "commercetokens";

    /// <summary>How long an instance keeps a company's settings and the currencies before reading them again.</summary>
    public static readonly TimeSpan SettingsLifetime = TimeSpan.FromSeconds(5);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public TableClient Currencies => storage.Table(CurrenciesTable);
    public TableClient Companies => storage.Table(CompaniesTable);
    public TableClient Products => storage.Table(ProductsTable);
    public TableClient Tokens => storage.Table(TokensTable);

    public static bool LooksLikeId(string? value) => Guid.TryParse(value, out _) && value!.Length == 36;

    public async Task<IReadOnlyDictionary<string, CommerceCurrency>> CurrenciesAsync(CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue("currencies", out IReadOnlyDictionary<string, CommerceCurrency>? cached))
            return cached!;
        var all = new Dictionary<string, CommerceCurrency>(StringComparer.OrdinalIgnoreCase);
        await foreach (var currency in Currencies.QueryAsync<CommerceCurrency>(c => c.PartitionKey == CommerceCurrency.Partition, cancellationToken: cancellationToken))
            all[currency.Id] = currency;
        return _cache.Set("currencies", (IReadOnlyDictionary<string, CommerceCurrency>)all,
            new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = SettingsLifetime });
    }

    public async Task<CommerceCurrency?> CurrencyAsync(string currencyId, CancellationToken cancellationToken) =>
        (await CurrenciesAsync(cancellationToken)).GetValueOrDefault(currencyId);

    /// <summary>A company's settings (null when there is no such company, or it is disabled), one partition read.</summary>
    public async Task<CompanySettings?> CompanyAsync(string companyId, CancellationToken cancellationToken)
    {
        if (!LooksLikeId(companyId))
            return null;
        var key = "company:" + companyId.ToLowerInvariant();
        if (_cache.TryGetValue(key, out CompanySettings? cached))
            return cached;
        CommerceCompany? company = null;
        var options = new List<CompanyPaymentOption>();
        var gas = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        var coupons = new Dictionary<string, CompanyCoupon>(StringComparer.Ordinal);
        var partition = companyId.ToLowerInvariant();
        await foreach (var row in Companies.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
        {
            if (row.RowKey == CommerceCompany.Row)
                company = new CommerceCompany
                {
                    PartitionKey = partition, ETag = row.ETag, Name = row.GetString(nameof(CommerceCompany.Name)) ?? "",
                    ClientServiceFeeBasisPoints = row.GetInt32(nameof(CommerceCompany.ClientServiceFeeBasisPoints)) ?? 0,
                    SimilarOrderWindowSeconds = row.GetInt32(nameof(CommerceCompany.SimilarOrderWindowSeconds)) ?? 300,
                    Disabled = row.GetBoolean(nameof(CommerceCompany.Disabled)) ?? false,
                    CreatedAt = row.GetDateTimeOffset(nameof(CommerceCompany.CreatedAt)) ?? default,
                };
            else if (row.RowKey.StartsWith(CompanyPaymentOption.Prefix, StringComparison.Ordinal))
                options.Add(new CompanyPaymentOption
                {
                    PartitionKey = partition, RowKey = row.RowKey, CurrencyId = row.GetString(nameof(CompanyPaymentOption.CurrencyId)) ?? "",
                    PaymentMethod = row.GetString(nameof(CompanyPaymentOption.PaymentMethod)) ?? "",
                    Provider = row.GetString(nameof(CompanyPaymentOption.Provider)) ?? "",
                    ExpiryMinutes = row.GetInt32(nameof(CompanyPaymentOption.ExpiryMinutes)) ?? 9,
                });
            else if (row.RowKey.StartsWith(CompanyGasFee.Prefix, StringComparison.Ordinal))
                gas[row.GetString(nameof(CompanyGasFee.CurrencyId)) ?? ""] = row.GetInt64(nameof(CompanyGasFee.AmountMinor)) ?? 0;
            else if (row.RowKey.StartsWith(CompanyCoupon.Prefix, StringComparison.Ordinal))
            {
                var coupon = new CompanyCoupon
                {
                    PartitionKey = partition, RowKey = row.RowKey, Code = row.GetString(nameof(CompanyCoupon.Code)) ?? "",
                    DiscountBasisPoints = row.GetInt32(nameof(CompanyCoupon.DiscountBasisPoints)) ?? 0,
                    ExpiresAt = row.GetDateTimeOffset(nameof(CompanyCoupon.ExpiresAt)),
                    Active = row.GetBoolean(nameof(CompanyCoupon.Active)) ?? true,
                };
                coupons[coupon.Code.ToUpperInvariant()] = coupon;
            }
        }
        var settings = company is null || company.Disabled ? null : new CompanySettings(company, options, gas, coupons);
        return _cache.Set(key, settings, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = SettingsLifetime });
    }

    /// <summary>Forgets what this instance remembers of a company (after an admin changed it here).</summary>
    public void Forget(string companyId)
    {
        _cache.Remove("company:" + companyId.ToLowerInvariant());
        _cache.Remove("currencies");
    }

    public Task<CommerceProduct?> ProductAsync(string companyId, string productId, CancellationToken cancellationToken) =>
        LooksLikeId(companyId) && LooksLikeId(productId)
            ? Products.FindAsync<CommerceProduct>(companyId.ToLowerInvariant(), productId.ToLowerInvariant(), cancellationToken)
            : Task.FromResult<CommerceProduct?>(null);

    public async Task<IReadOnlyList<CommerceProduct>> ProductsAsync(string companyId, CancellationToken cancellationToken)
    {
        var list = new List<CommerceProduct>();
        if (!LooksLikeId(companyId))
            return list;
        var partition = companyId.ToLowerInvariant();
        await foreach (var product in Products.QueryAsync<CommerceProduct>(p => p.PartitionKey == partition, cancellationToken: cancellationToken))
            list.Add(product);
        return list;
    }

    /// <summary>How long a preview may use what an instance read of a product and its stock (a create always reads fresh).</summary>
    public static readonly TimeSpan PreviewLifetime = TimeSpan.FromSeconds(2);

    /// <summary>A product as a preview may see it: read at most <see cref="PreviewLifetime"/> ago by this instance.</summary>
    public async Task<CommerceProduct?> RecentProductAsync(string companyId, string productId, CancellationToken cancellationToken)
    {
        var key = "product:" + companyId.ToLowerInvariant() + "|" + productId.ToLowerInvariant();
        if (_cache.TryGetValue(key, out CommerceProduct? cached))
            return cached;
        var product = await ProductAsync(companyId, productId, cancellationToken);
        return _cache.Set(key, product, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = PreviewLifetime });
    }

    /// <summary>
    /// Whether <paramref name="wanted"/> tokens of a product are available to <paramref name="buyerId"/>, as a preview may
    /// tell (the first tokens for sale, read at most <see cref="PreviewLifetime"/> ago by this instance); the count, up to
    /// what was read. The booking at create is what decides.
    /// </summary>
    public async Task<int> RecentlyAvailableAsync(string companyId, string productId, string buyerId, int wanted, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        const int Read = 64;
        var key = "stock:" + companyId.ToLowerInvariant() + "|" + productId.ToLowerInvariant();
        if (!_cache.TryGetValue(key, out List<ProductToken>? tokens))
            tokens = _cache.Set(key, await AvailableTokensAsync(companyId, productId, now, Read, cancellationToken),
                new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = PreviewLifetime });
        var count = tokens!.Count(t => t.FixedUserId is null || t.FixedUserId == buyerId);
        // Tokens reserved for other buyers filled what was read: look further, fresh.
        if (count < wanted && tokens!.Count == Read)
            count = (await AvailableTokensAsync(companyId, productId, now, wanted + Read, cancellationToken))
                .Count(t => t.FixedUserId is null || t.FixedUserId == buyerId);
        return count;
    }

    public Task<ProductToken?> TokenAsync(string companyId, string productId, string tokenId, CancellationToken cancellationToken) =>
        LooksLikeId(tokenId)
            ? Tokens.FindAsync<ProductToken>(ProductToken.PartitionFor(companyId.ToLowerInvariant(), productId.ToLowerInvariant()), tokenId.ToLowerInvariant(), cancellationToken)
            : Task.FromResult<ProductToken?>(null);

    /// <summary>
    /// Tokens of a product a buyer could take now: for sale, or booked by an order whose booking has run out (taken
    /// only after that order is settled). At most <paramref name="limit"/>, in token order.
    /// </summary>
    public async Task<List<ProductToken>> AvailableTokensAsync(string companyId, string productId, DateTimeOffset now, int limit,
        CancellationToken cancellationToken)
    {
        var partition = ProductToken.PartitionFor(companyId.ToLowerInvariant(), productId.ToLowerInvariant());
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and (Status eq {TokenStatus.ForSale} or (Status eq {TokenStatus.LockedByBooking} and BookedUntil le {now}))");
        var list = new List<ProductToken>();
        await foreach (var token in Tokens.QueryAsync<ProductToken>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            list.Add(token);
            if (list.Count >= limit)
                break;
        }
        return list;
    }

    /// <summary>How many tokens of a product are for sale (a count for the buyer's catalogue).</summary>
    public async Task<int> CountForSaleAsync(string companyId, string productId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The same filter as AvailableTokensAsync, reading only the keys: a catalogue page counts many products.
        var partition = ProductToken.PartitionFor(companyId.ToLowerInvariant(), productId.ToLowerInvariant());
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and (Status eq {TokenStatus.ForSale} or (Status eq {TokenStatus.LockedByBooking} and BookedUntil le {now}))");
        var count = 0;
        await foreach (var _ in Tokens.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken))
            count++;
        return count;
    }
}
