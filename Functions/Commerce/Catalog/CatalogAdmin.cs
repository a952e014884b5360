using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Catalog;

/// <summary>What an admin change came to: the row as stored, or the error to answer.</summary>
public sealed record CatalogOutcome<T>(T? Row, ApiError? Error) where T : class
{
    public static CatalogOutcome<T> Failed(ApiError error) => new(null, error);
}

/// <summary>
/// The catalogue's writes: currencies, companies and what their partition holds, products and their tokens. Every
/// change goes through the transition seam; a company's settings rows (payment options, gas fees, coupons) change
/// in one transaction with the company row, conditional on its ETag, so concurrent admins cannot interleave a set.
/// </summary>
public sealed class CatalogAdmin(CommerceCatalog catalog, Transitions transitions, TimeProvider time)
{
    public const int MaxTokensPerRequest = 500;

    // ---- currencies ----------------------------------------------------------------------------------------------

    /// <summary>A new currency, or null when one with <paramref name="code"/> exists already.</summary>
    public async Task<CommerceCurrency?> CreateCurrencyAsync(string code, string name, string symbol, CancellationToken cancellationToken)
    {
        catalog.Forget("");
        if ((await catalog.CurrenciesAsync(cancellationToken)).Values.Any(c => c.Code == code))
            return null;
        var id = Guid.NewGuid().ToString();
        var claimed = await transitions.ApplyAsync<CurrencyCodeClaim, CurrencyCodeClaim>(catalog.Currencies, CurrencyCodeClaim.Partition, code, c =>
        {
            if (c.Current is { } existing)
                return existing;
            var claim = new CurrencyCodeClaim { RowKey = code, CurrencyId = id, Name = name, Symbol = symbol };
            c.Write(claim);
            return claim;
        }, cancellationToken);
        // The currency row follows its claim; one left out by a creation cut short is completed here.
        var claimRow = claimed.Row ?? claimed.Outcome;
        await catalog.Currencies.TryAddAsync(new CommerceCurrency
        {
            RowKey = claimRow.CurrencyId, Code = code, Name = claimRow.Name, Symbol = claimRow.Symbol,
        }, cancellationToken);
        catalog.Forget("");
        return claimed.Written ? new CommerceCurrency { RowKey = claimRow.CurrencyId, Code = code, Name = claimRow.Name, Symbol = claimRow.Symbol } : null;
    }

    // ---- companies -----------------------------------------------------------------------------------------------

    public async Task<CommerceCompany> CreateCompanyAsync(string name, int feeBasisPoints, int? similarOrderWindowSeconds,
        CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString();
        var company = new CommerceCompany
        {
            PartitionKey = id, Name = name, ClientServiceFeeBasisPoints = feeBasisPoints,
            SimilarOrderWindowSeconds = similarOrderWindowSeconds ?? 300, CreatedAt = time.GetUtcNow(),
        };
        var stored = await transitions.ApplyAsync<CommerceCompany, bool>(catalog.Companies, id, CommerceCompany.Row, c =>
        {
            c.Write(company with { });
            return true;
        }, cancellationToken);
        return stored.Row!;
    }

    public Task<CommerceCompany?> FindCompanyAsync(string companyId, CancellationToken cancellationToken) =>
        catalog.Companies.FindAsync<CommerceCompany>(companyId, CommerceCompany.Row, cancellationToken);

    public async Task<CommerceCompany?> UpdateCompanyAsync(string companyId, string? name, int? feeBasisPoints, int? similarOrderWindowSeconds,
        bool? disabled, CancellationToken cancellationToken)
    {
        var stored = await transitions.ApplyAsync<CommerceCompany, bool>(catalog.Companies, companyId, CommerceCompany.Row, c =>
        {
            if (c.Current is not { } current)
                return false;
            var next = current with
            {
                Name = name ?? current.Name,
                ClientServiceFeeBasisPoints = feeBasisPoints ?? current.ClientServiceFeeBasisPoints,
                SimilarOrderWindowSeconds = similarOrderWindowSeconds ?? current.SimilarOrderWindowSeconds,
                Disabled = disabled ?? current.Disabled,
            };
            if (next != current)
                c.Write(next);
            return true;
        }, cancellationToken);
        catalog.Forget(companyId);
        return stored.Row;
    }

    /// <summary>Rows of a company's partition whose keys start with <paramref name="prefix"/>.</summary>
    public async Task<List<T>> CompanyRowsAsync<T>(string companyId, string prefix, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        // '|' ends every prefix, and '}' is the next character: the range is exactly the prefix's rows.
        var end = prefix[..^1] + "}";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {companyId} and RowKey ge {prefix} and RowKey lt {end}");
        var rows = new List<T>();
        await foreach (var row in catalog.Companies.QueryAsync<T>(filter, cancellationToken: cancellationToken))
            rows.Add(row);
        return rows;
    }

    /// <summary>
    /// Replaces every row of <paramref name="prefix"/> in the company's partition with <paramref name="rows"/>, in one
    /// transaction conditional on the company row. False when there is no such company.
    /// </summary>
    public async Task<bool> ReplaceCompanyRowsAsync<T>(string companyId, string prefix, Func<List<T>> rows, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var stored = await transitions.ApplyAsync<CommerceCompany, bool>(catalog.Companies, companyId, CommerceCompany.Row, null, async c =>
        {
            if (c.Current is null)
                return false;
            var wanted = rows();
            var keep = wanted.Select(r => r.RowKey).ToHashSet(StringComparer.Ordinal);
            foreach (var old in await CompanyRowsAsync<TableEntity>(companyId, prefix, cancellationToken))
            {
                if (!keep.Contains(old.RowKey))
                    c.Remove(old);
            }
            foreach (var row in wanted)
                c.Upsert(row);
            return true;
        }, cancellationToken);
        catalog.Forget(companyId);
        return stored.Outcome;
    }

    // ---- coupons -------------------------------------------------------------------------------------------------

    public async Task<CatalogOutcome<CompanyCoupon>> CreateCouponAsync(string companyId, string code, int discountBasisPoints, DateTimeOffset? expiresAt,
        CancellationToken cancellationToken)
    {
        var rowKey = CompanyCoupon.RowKeyFor(code);
        var stored = await transitions.ApplyAsync<CommerceCompany, CatalogOutcome<CompanyCoupon>>(catalog.Companies, companyId, CommerceCompany.Row, null,
            async c =>
            {
                if (c.Current is null)
                    return CatalogOutcome<CompanyCoupon>.Failed(ApiError.NotFound($"Company {companyId} not found."));
                if (await catalog.Companies.FindAsync<CompanyCoupon>(companyId, rowKey, cancellationToken) is not null)
                    return CatalogOutcome<CompanyCoupon>.Failed(ApiError.Conflict($"Coupon '{code}' already exists.", "coupon-already-exists"));
                var coupon = new CompanyCoupon
                {
                    PartitionKey = companyId, RowKey = rowKey, Code = code, DiscountBasisPoints = discountBasisPoints, ExpiresAt = expiresAt,
                };
                c.Insert(coupon);
                return new(coupon, null);
            }, cancellationToken);
        catalog.Forget(companyId);
        return stored.Outcome;
    }

    public async Task<CatalogOutcome<CompanyCoupon>> UpdateCouponAsync(string companyId, string code, bool? active, DateTimeOffset? expiresAt,
        CancellationToken cancellationToken)
    {
        var rowKey = CompanyCoupon.RowKeyFor(code);
        var stored = await transitions.ApplyAsync<CommerceCompany, CatalogOutcome<CompanyCoupon>>(catalog.Companies, companyId, CommerceCompany.Row, null,
            async c =>
            {
                if (c.Current is null || await catalog.Companies.FindAsync<CompanyCoupon>(companyId, rowKey, cancellationToken) is not { } coupon)
                    return CatalogOutcome<CompanyCoupon>.Failed(ApiError.NotFound($"Coupon '{code}' not found."));
                var next = coupon with { Active = active ?? coupon.Active, ExpiresAt = expiresAt ?? coupon.ExpiresAt };
                if (next != coupon)
                    c.Replace(next);
                return new(next, null);
            }, cancellationToken);
        catalog.Forget(companyId);
        return stored.Outcome;
    }

    // ---- products ------------------------------------------------------------------------------------------------

    public async Task<CommerceProduct> CreateProductAsync(string companyId, string name, string description, string distributionType,
        IReadOnlyList<ProductPrice> prices, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = Guid.NewGuid().ToString();
        var stored = await transitions.ApplyAsync<CommerceProduct, bool>(catalog.Products, companyId, id, c =>
        {
            c.Write(new CommerceProduct
            {
                PartitionKey = companyId, RowKey = id, Name = name, Description = description, DistributionType = distributionType,
                PricesJson = CommerceProduct.PricesToJson(prices), CreatedAt = now, UpdatedAt = now,
            });
            return true;
        }, cancellationToken);
        return stored.Row!;
    }

    public async Task<CommerceProduct?> UpdateProductAsync(string companyId, string productId, string? name, string? description,
        string? distributionType, IReadOnlyList<ProductPrice>? prices, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stored = await transitions.ApplyAsync<CommerceProduct, bool>(catalog.Products, companyId, productId, c =>
        {
            if (c.Current is not { } current)
                return false;
            var next = current with
            {
                Name = name ?? current.Name,
                Description = description ?? current.Description,
                DistributionType = distributionType ?? current.DistributionType,
                PricesJson = prices is null ? current.PricesJson : CommerceProduct.PricesToJson(prices),
            };
            if (next != current)
                c.Write(next with { UpdatedAt = now });
            return true;
        }, cancellationToken);
        return stored.Row;
    }

    /// <summary>
    /// Adds <paramref name="quantity"/> tokens to a product, numbered after its last: the numbers are reserved with one
    /// ETag-conditional update of the product row (concurrent requests get disjoint ranges), then the tokens are
    /// inserted 100 to a transaction. Token ids are derived from the product and the number, and every row carries
    /// this call's operation id, so a batch whose answer was lost is recognised when its retry meets it. Null when
    /// there is no such product.
    /// </summary>
    public async Task<List<ProductToken>?> AddTokensAsync(string companyId, string productId, int quantity, string? fixedUserId, string status,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var reserved = await transitions.ApplyAsync<CommerceProduct, int>(catalog.Products, companyId, productId, c =>
        {
            if (c.Current is not { } current)
                return 0;
            c.Write(current with { TokenCount = current.TokenCount + quantity, UpdatedAt = now });
            return current.TokenCount + 1;
        }, cancellationToken);
        if (reserved.Outcome == 0)
            return null;

        var operationId = Guid.NewGuid().ToString("N");
        var partition = ProductToken.PartitionFor(companyId, productId);
        var tokens = Enumerable.Range(reserved.Outcome, quantity).Select(number => new ProductToken
        {
            PartitionKey = partition, RowKey = ProductToken.IdFor(productId, number), OperationId = operationId, CompanyId = companyId,
            ProductId = productId, Number = number, Status = status, FixedUserId = fixedUserId, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        await catalog.Tokens.AddRowsOnceAsync(tokens, cancellationToken);
        return tokens;
    }

    /// <summary>
    /// An admin's change of a token: its status (within <see cref="TokenStatus.Moves"/>) and fixed user. A token booked
    /// by an order or sold is the order's: 409 naming its status.
    /// </summary>
    public async Task<CatalogOutcome<ProductToken>> UpdateTokenAsync(string companyId, string productId, string tokenId, string? status,
        string? fixedUserId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stored = await transitions.ApplyAsync<ProductToken, ApiError?>(catalog.Tokens, ProductToken.PartitionFor(companyId, productId), tokenId, c =>
        {
            if (c.Current is not { } token)
                return ApiError.NotFound($"Product token {tokenId} not found.");
            if (token.Status is TokenStatus.LockedByBooking or TokenStatus.Sold)
                return ApiError.Conflict($"The product token is {token.Status}: it belongs to an order and cannot be changed.", "token-" + token.Status.Replace('_', '-'));
            var next = token with
            {
                Status = status ?? token.Status,
                FixedUserId = fixedUserId is null ? token.FixedUserId : fixedUserId.Length == 0 ? null : fixedUserId,
            };
            if (!TokenStatus.Moves.Allows(token.Status, next.Status))
                return ApiError.Conflict($"A product token cannot move from '{token.Status}' to '{next.Status}'.", "invalid-token-status");
            if (next.Status != token.Status || next.FixedUserId != token.FixedUserId)
                c.Write(next with { UpdatedAt = now });
            return null;
        }, cancellationToken);
        return stored.Outcome is { } error ? CatalogOutcome<ProductToken>.Failed(error) : new(stored.Row, null);
    }

    /// <summary>A product's tokens in number order, optionally of one status.</summary>
    public async Task<List<ProductToken>> TokensAsync(string companyId, string productId, string? status, CancellationToken cancellationToken)
    {
        var partition = ProductToken.PartitionFor(companyId, productId);
        var filter = status is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Status eq {status}");
        var list = new List<ProductToken>();
        await foreach (var token in catalog.Tokens.QueryAsync<ProductToken>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
            list.Add(token);
        list.Sort((a, b) => a.Number.CompareTo(b.Number));
        return list;
    }
}
