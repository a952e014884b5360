using Microsoft.AspNetCore.Authentication;
using Serverless.Checkout.Orders;
using Serverless.Checkout.Rates;
using Serverless.Checkout.Stores;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Checkout;

/// <summary>The checkout plugin API (document 003): routes under <c>/plugins/</c> and the hosted page under <c>/checkout/</c>.</summary>
public static class CheckoutRegistration
{
    public static IServiceCollection AddCheckout(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(CheckoutStores.TableName).Table(CheckoutOrders.TableName));
        services.AddSingleton<CheckoutSettings>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<CheckoutSettings>());
        services.AddSingleton<CheckoutStores>();
        services.AddSingleton<SessionTokens>();
        services.AddSingleton<CheckoutOrders>();
        services.AddScoped<CheckoutCaller>();
        services.AddCheckoutMarketRates();
        services.AddSingleton<Platform.Payments.IPaymentIntentHandler, CheckoutPayments>();
        services.AddSingleton<IOutboxChannel, CheckoutCallbacks>();
        services.AddDeadlineHandler(CheckoutOrders.ExpiryDeadline,
            invocation => invocation.Services.GetRequiredService<CheckoutOrders>().ExpireAsync(invocation.Key, invocation.CancellationToken));
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(CheckoutApi.Policy, p => p.AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName)
            .RequireAuthenticatedUser().RequireClaim(PlatformClaims.ClientKind, ClientKinds.Store));
        services.AddSingleton<IDevelopmentSeed, CheckoutSeed>();
        services.AddErrorShapeForPrefixes(CheckoutErrorShape.Instance, "/plugins", "/checkout");
        return services;
    }
}

/// <summary>
/// Development seed: the store <c>demo-store</c> with the API key <c>demo-store-api-key</c> (stored as a hash like
/// any other) and a demo wallet on every protocol.
/// </summary>
public sealed class CheckoutSeed : IDevelopmentSeed
{
    public const string StoreId = "demo-store";
    public const string ApiKey = "demo-store-api-key";

    public IEnumerable<string> Credentials => [$"checkout store (x-api-key): {StoreId} / {ApiKey}"];

    public static readonly IReadOnlyList<StoreWallet> Wallets =
    [
        new("BITCOIN", "bc1qdemo0store0wallet0address0000000000"),
        new("ETHEREUM", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        new("BSC", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        new("CELO", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        new("POLYGON", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        new("AVAXCCHAIN", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        new("STELLAR", "GDEMOSTOREWALLETADDRESS000000000000000000000000000000000"),
        new("RIPPLE", "rDemoStoreWalletAddress00000000000"),
        new("HATHOR", "HDemoStoreWalletAddress000000000000"),
        new("CARDANO", "addr1demostorewalletaddress00000000000000000000"),
        new("SOLANA", "DemoStoreWa11etAddress1111111111111111111111"),
    ];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var stores = services.GetRequiredService<CheckoutStores>();
        if (await stores.FindAsync(StoreId, cancellationToken) is null)
            await stores.CreateAsync(StoreId, "Demo Store", "demo-store@example.com", new StoreChanges(StoreUrl: "http://localhost:7071", Wallets: Wallets),
                ApiKey, cancellationToken);
    }
}
