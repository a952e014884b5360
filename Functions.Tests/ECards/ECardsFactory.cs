using System.Net.Http.Json;
using System.Text.Json;
using Serverless.ECards;
using Serverless.Platform.Email;
using Serverless.Platform.Identity;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.ECards;

/// <summary>
/// The app with a catalogue of two e-cards and two partners. Tests that count money or codes make their own
/// partner (<see cref="NewPartnerAsync"/>) and their own e-card (<see cref="NewECardAsync"/>), so they share nothing.
/// </summary>
public class ECardsFactory : PlatformFactory
{
    public override TokenAudience Audience => TokenAudiences.ECards;

    public const string Partner = "acme-partner";
    public const string OtherPartner = "other-partner";
    public const string Secret = "partner-secret-for-tests";

    private int _nextECard = 100;

    public ECardsFactory()
    {
        With("RateLimits:Auth:PermitLimit", "100000");
        With("RateLimits:PerCaller:PermitLimit", "100000");
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var clients = Get<ApiClientDirectory>();
        await clients.CreateAsync(ClientKinds.Partner, "Acme Partner", Partner, Secret);
        await clients.CreateAsync(ClientKinds.Partner, "Other Partner", OtherPartner, Secret);
        await clients.CreateAsync(ClientKinds.Merchant, "A Merchant", "a-merchant", Secret);
        await Get<PartnerAccounts>().TopUpAsync(Partner, 100_000, "initial");
        await Get<PartnerAccounts>().TopUpAsync(OtherPartner, 100_000, "initial");
        FaceValue[] rubles = [new("100 ₽", 100), new("500 ₽", 500), new("1000 ₽", 1000)];
        await Get<ECardCatalog>().PutAsync(1, "Books", "Books gift card", "RUB", rubles);
        await Get<ECardCatalog>().PutAsync(2, "Cinema", "Cinema gift card", "RUB", rubles);
        foreach (var id in new[] { 1, 2 })
            foreach (var faceValue in rubles)
                await Get<CertificateStock>().LoadAsync(id, faceValue.Name, Enumerable.Range(0, 40).Select(i => $"C{id}-{faceValue.Price}-{i:D4}-{Guid.NewGuid():N}").ToList());
    }

    public HttpClient Admin() => CreateClientAs(1, Roles.Admin);

    public HttpClient PartnerClient(string partnerId = Partner) => CreateClientFor(partnerId, ClientKinds.Partner);

    /// <summary>A partner of its own with this balance, and a client signed in as it.</summary>
    public async Task<(string Id, HttpClient Client)> NewPartnerAsync(long balance)
    {
        var id = "p-" + Guid.NewGuid().ToString("N")[..12];
        await Get<ApiClientDirectory>().CreateAsync(ClientKinds.Partner, id, id, Secret);
        if (balance > 0)
            await Get<PartnerAccounts>().TopUpAsync(id, balance, "initial");
        return (id, PartnerClient(id));
    }

    /// <summary>An e-card of its own with one face value "500 ₽" at 500, and <paramref name="codes"/> codes in stock.</summary>
    public async Task<(int Id, List<string> Codes)> NewECardAsync(int codes)
    {
        var id = Interlocked.Increment(ref _nextECard);
        await Get<ECardCatalog>().PutAsync(id, $"Card {id}", "", "RUB", [new FaceValue("500 ₽", 500)]);
        var list = Enumerable.Range(0, codes).Select(i => $"K{id}-{i:D3}-{Guid.NewGuid():N}").ToList();
        if (codes > 0)
            await Get<CertificateStock>().LoadAsync(id, "500 ₽", list);
        return (id, list);
    }

    public static object Order(string orderId, params object[] ecards) => OrderFor(orderId, "test@test.test", ecards);

    public static object OrderFor(string orderId, string email, params object[] ecards) => new
    {
        orderId,
        participant = new { email, phone = "79251153242", name = "John Doe" },
        ecards,
    };

    public static object Line(object id, int quantity, string faceValue = "500 ₽") => new { id, quantity, faceValue };

    public static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>The partner's balance row and ledger: the balance, and the sum of the ledger.</summary>
    public async Task<(long Balance, long LedgerSum, int Debits)> MoneyAsync(string partnerId)
    {
        var accounts = Get<PartnerAccounts>();
        var ledger = await accounts.LedgerAsync(partnerId);
        return (await accounts.BalanceAsync(partnerId), ledger.Sum(l => l.Amount), ledger.Count(l => l.Kind == "debit"));
    }

    public Task<IReadOnlyList<OutboxEmail>> EmailsAsync(string to) => Get<Outbox>().ListAsync(to, Outbox.MaxLimit);
}
