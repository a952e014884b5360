using Serverless.Commerce.Catalog;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Orders;

/// <summary>
/// Books, releases and sells product tokens for orders, each a transition of the token row (ETag, operation id), so
/// two buyers can never hold one token. A booking names its order and lasts until the order's expiry; a token whose
/// booking ran out is taken by the next buyer only after its order is settled (expired, or shown to hold nothing), so
/// an order paid in its last second keeps its tokens.
/// </summary>
public sealed class TokenBookings(CommerceCatalog catalog, Transitions transitions, TimeProvider time)
{
    /// <summary>How many tokens an automatic distribution looks at per round, and how many rounds it makes.</summary>
    private const int Candidates = 50;
    private const int Rounds = 6;

    /// <summary>Settles the order a run-out booking names: true when that order no longer holds the token.</summary>
    public delegate Task<bool> SettleOrder(string orderPartition, string orderId, CancellationToken cancellationToken);

    private enum Step { Booked, NotFound, NotForSale, FixedToAnother, Settle }

    public static ApiError NotAvailable(string productId) =>
        new(400, "no-product-tokens-available", $"No token of product {productId} is available for sale.");

    /// <summary>Books one token for <paramref name="order"/>: the named one, or one the product's distribution picks.</summary>
    public async Task<ProductToken> BookAsync(CommerceOrder order, CommerceProduct product, string? tokenId, SettleOrder settle,
        CancellationToken cancellationToken)
    {
        if (tokenId is not null)
        {
            var (step, token) = await TryBookAsync(order, product, tokenId, null, settle, cancellationToken);
            return step switch
            {
                Step.Booked => token!,
                Step.NotFound => throw new ApiException(new ApiError(404, "product-token-not-found", $"Product token {tokenId} of product {product.Id} does not exist.")),
                Step.FixedToAnother => throw new ApiException(new ApiError(400, "product-token-fixed-to-another-user", $"Product token {tokenId} is reserved for another user.")),
                _ => throw new ApiException(new ApiError(400, "product-token-not-for-sale", $"Product token {tokenId} is not for sale.")),
            };
        }
        if (product.DistributionType == DistributionTypes.Fixed)
            throw new ApiException(new ApiError(400, "product-token-required",
                $"Product {product.Id} has a fixed distribution: name the token to buy in productTokenId."));

        var tried = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < Rounds; round++)
        {
            var now = time.GetUtcNow();
            var candidates = (await catalog.AvailableTokensAsync(product.CompanyId, product.Id, now, Candidates + tried.Count, cancellationToken))
                .Where(t => !tried.Contains(t.Id) && (t.FixedUserId is null || t.FixedUserId == order.UserId))
                .ToList();
            if (candidates.Count == 0)
                break;
            // Sequential sells in number order; random spreads concurrent buyers over the tokens.
            var ordered = product.DistributionType == DistributionTypes.Sequential
                ? candidates.OrderBy(t => t.Number).ToList()
                : candidates.OrderBy(_ => Random.Shared.Next()).ToList();
            foreach (var candidate in ordered)
            {
                var (step, token) = await TryBookAsync(order, product, candidate.Id, candidate, settle, cancellationToken);
                if (step == Step.Booked)
                    return token!;
                tried.Add(candidate.Id);
            }
        }
        throw new ApiException(NotAvailable(product.Id));
    }

    private async Task<(Step, ProductToken?)> TryBookAsync(CommerceOrder order, CommerceProduct product, string tokenId, ProductToken? known,
        SettleOrder settle, CancellationToken cancellationToken)
    {
        var partition = ProductToken.PartitionFor(product.CompanyId, product.Id);
        string? settled = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = time.GetUtcNow();
            Step Decide(Change<ProductToken> change)
            {
                if (change.Current is not { } token)
                    return Step.NotFound;
                if (token.OrderId == order.Id && token.Status == TokenStatus.LockedByBooking)
                    return Step.Booked;
                if (token.FixedUserId is { } fixedTo && fixedTo != order.UserId)
                    return Step.FixedToAnother;
                var free = token.Status == TokenStatus.ForSale
                           || (token.Status == TokenStatus.LockedByBooking && token.OrderId == settled && settled is not null);
                if (!free)
                    return token.Status == TokenStatus.LockedByBooking && token.BookedUntil <= now ? Step.Settle : Step.NotForSale;
                change.Write(token with
                {
                    Status = TokenStatus.LockedByBooking, OrderPartition = order.PartitionKey, OrderId = order.Id,
                    BookedUntil = order.ExpiresAt, UpdatedAt = now,
                });
                return Step.Booked;
            }
            var result = known is not null && attempt == 0
                ? await transitions.ApplyAsync<ProductToken, Step>(catalog.Tokens, known, Decide, cancellationToken)
                : await transitions.ApplyAsync<ProductToken, Step>(catalog.Tokens, partition, tokenId, Decide, cancellationToken);
            if (result.Outcome != Step.Settle)
                return (result.Outcome, result.Row);
            var holder = result.Row!;
            if (!await settle(holder.OrderPartition ?? "", holder.OrderId ?? "", cancellationToken))
                return (Step.NotForSale, holder);
            settled = holder.OrderId;
        }
        return (Step.NotForSale, null);
    }

    /// <summary>Puts the tokens <paramref name="order"/> booked back on sale (those still its own; repeating is harmless).</summary>
    public async Task ReleaseAsync(CommerceOrder order, IEnumerable<OrderLine> lines, CancellationToken cancellationToken)
    {
        foreach (var line in lines)
        {
            await transitions.ApplyAsync<ProductToken, bool>(catalog.Tokens, ProductToken.PartitionFor(order.CompanyId, line.ProductId),
                line.ProductTokenId, change =>
                {
                    if (change.Current is not { Status: TokenStatus.LockedByBooking } token || token.OrderId != order.Id)
                        return false;
                    change.Write(token with
                    {
                        Status = TokenStatus.ForSale, OrderPartition = null, OrderId = null, BookedUntil = null, UpdatedAt = time.GetUtcNow(),
                    });
                    return true;
                }, cancellationToken);
        }
    }

    /// <summary>
    /// Makes the order's booked tokens sold to its buyer at its wallet. False when a token is no longer the order's
    /// (nothing is sold then beyond what already was; the caller fails and refunds the order).
    /// </summary>
    public async Task<bool> SellAsync(CommerceOrder order, IEnumerable<OrderLine> lines, CancellationToken cancellationToken)
    {
        foreach (var line in lines)
        {
            var sold = await transitions.ApplyAsync<ProductToken, bool>(catalog.Tokens, ProductToken.PartitionFor(order.CompanyId, line.ProductId),
                line.ProductTokenId, change =>
                {
                    if (change.Current is not { } token || token.OrderId != order.Id)
                        return false;
                    if (token.Status == TokenStatus.Sold)
                        return true;
                    if (token.Status != TokenStatus.LockedByBooking)
                        return false;
                    change.Write(token with
                    {
                        Status = TokenStatus.Sold, OwnerUserId = order.UserId, WalletAddress = order.DestinationWalletAddress,
                        BookedUntil = null, UpdatedAt = time.GetUtcNow(),
                    });
                    return true;
                }, cancellationToken);
            if (!sold.Outcome)
                return false;
        }
        return true;
    }
}
