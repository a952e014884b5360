using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Platform.Payments;

namespace Serverless.Tests.PreOrders;

/// <summary>The sandbox gateway behind a wrapper that records every charge asked of it and what it answered.</summary>
public sealed class CountingGateway(IPaymentGateway inner) : IPaymentGateway
{
    private readonly ConcurrentQueue<(GatewayCharge Charge, GatewayPayment Payment)> _charges = new();
    private volatile TaskCompletionSource? _gate;
    private int _waiting;
    private int _holdFor;

    public string Name => inner.Name;

    public bool IsSandbox => inner.IsSandbox;

    /// <summary>Every charge asked for <paramref name="reference"/>, with the payment the gateway answered.</summary>
    public IReadOnlyList<(GatewayCharge Charge, GatewayPayment Payment)> ChargesFor(string reference) =>
        _charges.Where(c => c.Charge.Reference == reference).ToList();

    /// <summary>Holds charges until <paramref name="calls"/> have arrived (or a few seconds passed), so racers all reach the gateway.</summary>
    public void HoldUntil(int calls)
    {
        _holdFor = calls;
        _waiting = 0;
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task<GatewayPayment> ChargeAsync(GatewayCharge charge, CancellationToken cancellationToken)
    {
        if (_gate is { } gate)
        {
            if (Interlocked.Increment(ref _waiting) >= _holdFor)
                gate.TrySetResult();
            await Task.WhenAny(gate.Task, Task.Delay(TimeSpan.FromSeconds(3), cancellationToken));
        }
        var payment = await inner.ChargeAsync(charge, cancellationToken);
        _charges.Enqueue((charge, payment));
        return payment;
    }
}

public sealed class PaymentCountingFactory : PreOrdersFactory
{
    public CountingGateway Gateway => Get<IEnumerable<IPaymentGateway>>().OfType<CountingGateway>().Single();

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        base.ConfigureTestServices(services);
        services.RemoveAll<IPaymentGateway>();
        services.AddSingleton<IPaymentGateway>(sp => new CountingGateway(new SandboxGateway(sp.GetRequiredService<TimeProvider>())));
    }
}

public sealed class PaymentAttemptTests(PaymentCountingFactory app) : IClassFixture<PaymentCountingFactory>
{
    [Fact]
    public async Task Five_concurrent_payments_of_one_pre_order_charge_the_gateway_once()
    {
        var merchant = await app.MerchantClientAsync();
        var id = (await app.CreateAsync(merchant, TimeSpan.FromDays(1))).GetProperty("id").GetString()!;
        app.Gateway.HoldUntil(5);

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => app.CreateClient().PostAsync($"/pay/{id}/sandbox", null)));
        await app.DrainAsync();

        var charges = app.Gateway.ChargesFor(id);
        var payment = Assert.Single(charges.Select(c => c.Payment.TransactionId).Distinct());
        Assert.Single(charges.Select(c => c.Charge.IdempotencyKey).Distinct());
        Assert.NotNull(charges[0].Charge.IdempotencyKey);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var order = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.Equal(payment, order.GetProperty("payment_details").GetProperty("transaction_id").GetString());
        Assert.Equal(["pre_order.paid"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task A_payment_page_is_never_charged_for_a_pre_order_that_is_no_longer_open()
    {
        var merchant = await app.MerchantClientAsync();
        var id = (await app.CreateAsync(merchant, TimeSpan.FromDays(1))).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null)).StatusCode);

        var pay = await app.CreateClient().PostAsync($"/pay/{id}/sandbox", null);

        Assert.Equal(HttpStatusCode.Conflict, pay.StatusCode);
        Assert.Empty(app.Gateway.ChargesFor(id));
    }
}
