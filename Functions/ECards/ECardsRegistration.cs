using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

public static class ECardsRegistration
{
    public const string FulfilmentSweep = "ECardFulfilmentSweep";

    public static IServiceCollection AddECards(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(ECardCatalog.TableName).Table(PartnerAccounts.TableName).Table(CertificateStock.TableName)
            .Table(CertificateStock.IndexTableName).Table(ECardFulfilment.TableName));
        services.AddSingleton<ECardCatalog>();
        services.AddSingleton<PartnerLedgerMigration>();
        // Partners still on the layout before the ledger are moved to it once per deployment (a marker row says so).
        services.AddSingleton<IStartupTask>(sp => sp.GetRequiredService<PartnerLedgerMigration>());
        services.AddSingleton<PartnerAccounts>();
        services.AddSingleton<CertificateStock>();
        services.AddSingleton<ECardFulfilment>();
        // The safety net for an order whose inline fulfilment was cut short (a crash after the debit): safe to repeat.
        services.AddTimerTrigger(FulfilmentSweep, "0 */5 * * * *",
            invocation => invocation.Services.GetRequiredService<ECardFulfilment>().RunPendingAsync(invocation.CancellationToken));
        services.AddAuthorizationBuilder().AddPolicy(ECardsApi.PartnerPolicy,
            p => p.AddAuthenticationSchemes(TokenAudiences.ECards.Scheme).RequireAuthenticatedUser()
                .RequireClaim(PlatformClaims.ClientKind, ClientKinds.Partner));
        services.AddSingleton<IDevelopmentSeed, ECardsSeed>();
        services.AddErrorShapeForPrefix("/v1", ECardErrorShape.Instance);
        services.AddErrorShapeForPrefix("/connect", OAuthErrorShape.Instance);
        return services;
    }
}

/// <summary>
/// Development seed: the partner <c>demo-partner</c> / <c>demo-partner-secret</c> with a balance of 100000, and two
/// e-cards with 20 demo codes for each face value.
/// </summary>
public sealed class ECardsSeed : IDevelopmentSeed
{
    public const string ClientId = "demo-partner";
    public const string ClientSecret = "demo-partner-secret";
    public const long Balance = 100_000;

    public IEnumerable<string> Credentials => [$"e-cards partner (POST /connect/token, client credentials): {ClientId} / {ClientSecret}"];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var clients = services.GetRequiredService<ApiClientDirectory>();
        if (await clients.FindAsync(ClientId, cancellationToken) is null)
            await clients.CreateAsync(ClientKinds.Partner, "Demo Partner", ClientId, ClientSecret, cancellationToken);
        // A fixed reference: seeding again never credits twice.
        await services.GetRequiredService<PartnerAccounts>().TopUpAsync(ClientId, Balance, "development-seed", cancellationToken);

        // Every step is safe to repeat, so a start cut short half-way is finished by the next one: each e-card is put
        // only when missing, and the codes are fixed ones, which loading again finds (a code handed out stays known).
        var catalog = services.GetRequiredService<ECardCatalog>();
        var existing = (await catalog.ListAsync(cancellationToken)).Select(e => e.Id).ToHashSet();
        FaceValue[] rubles = [new("100 ₽", 100), new("500 ₽", 500), new("1000 ₽", 1000)];
        if (!existing.Contains(1))
            await catalog.PutAsync(1, "Books & More", "Gift card for the Books & More stores and online shop.", "RUB", rubles, cancellationToken);
        if (!existing.Contains(2))
            await catalog.PutAsync(2, "Cinema Pass", "E-certificate for tickets and snacks in partner cinemas.", "RUB", rubles, cancellationToken);
        var stock = services.GetRequiredService<CertificateStock>();
        foreach (var id in new[] { 1, 2 })
        {
            foreach (var faceValue in rubles)
            {
                var codes = Enumerable.Range(1, 20).Select(n => $"DEMO-{id}-{faceValue.Price}-{n:D2}").ToList();
                await stock.LoadAsync(id, faceValue.Name, codes, cancellationToken);
            }
        }
    }
}
