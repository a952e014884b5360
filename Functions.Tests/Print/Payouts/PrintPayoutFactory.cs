using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Platform.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Payouts;

/// <summary>
/// The sandbox's payouts, steered by the bank account a test pays to: accounts starting <c>999</c> are refused by
/// the provider (the payout fails at once), <c>888</c> stay pending until the test applies the provider's word,
/// and every other one is processed at once, as the sandbox does.
/// </summary>
public sealed class SteerablePayouts(SandboxProvider inner) : IPayoutProvider
{
    public const string Fails = "999";
    public const string Waits = "888";

    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public string Name => inner.Name;

    public Task<ProviderPayout> CreatePayoutAsync(PayoutRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        if (request.Account.AccountNumber.StartsWith(Fails, StringComparison.Ordinal))
            throw new PaymentProviderException(Name, "The beneficiary account is invalid.", transient: false);
        if (request.Account.AccountNumber.StartsWith(Waits, StringComparison.Ordinal))
            return Task.FromResult(new ProviderPayout(ProviderIdOf(request.PayoutId), "pending", request.PayoutId));
        return inner.CreatePayoutAsync(request, cancellationToken);
    }

    public Task<ProviderPayout> FetchPayoutAsync(string providerPayoutId, CancellationToken cancellationToken) =>
        inner.FetchPayoutAsync(providerPayoutId, cancellationToken);

    public static string ProviderIdOf(string payoutId) => "sbpo_wait_" + payoutId[3..15];
}

/// <summary>The print app with the steerable sandbox payouts and a 15% platform commission.</summary>
public class PrintPayoutFactory : PrintFactory
{
    public PrintPayoutFactory()
    {
        With("Payments:Gateway", "sandbox");
        With("PLATFORM_COMMISSION", "0.15");
    }

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        base.ConfigureTestServices(services);
        services.RemoveAll<IPayoutProvider>();
        services.AddSingleton<SteerablePayouts>(sp => new SteerablePayouts(sp.GetRequiredService<SandboxProvider>()));
        services.AddSingleton<IPayoutProvider>(sp => sp.GetRequiredService<SteerablePayouts>());
    }

    public Ledger Ledger => Get<Ledger>();

    /// <summary>Credits a customer's wallet directly (as a confirmed top-up would).</summary>
    public async Task FundAsync(long userId, long amountMinor)
    {
        var credited = await Ledger.CreditAsync(PrintWallets.Account(userId), WalletKeys.Seed + Guid.NewGuid().ToString("N"), amountMinor);
        Assert.True(credited.Moved, credited.Status.ToString());
    }

    public Task<LedgerBalance> WalletAsync(long userId) => Ledger.BalanceAsync(PrintWallets.Account(userId));

    public async Task<HttpResponseMessage> WithdrawAsync(PrintAccount customer, object body, string? idempotencyKey = null)
    {
        var request = Json(HttpMethod.Post, "/wallet/withdraw", body, customer.Token);
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await CreateClient().SendAsync(request);
    }

    public static object Body(decimal amount, string account = "123456789012", string ifsc = "HDFC0001234", string name = "Asha Rao") =>
        new Dictionary<string, object?> { ["amount"] = amount, ["bank_account"] = account, ["ifsc_code"] = ifsc, ["account_holder_name"] = name };

    public static async Task<JsonElement> JsonOf(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();
}
