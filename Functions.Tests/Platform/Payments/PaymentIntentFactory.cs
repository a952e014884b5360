using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Payments;

/// <summary>A surface that records every move of its intents and refuses the payments a test tells it to.</summary>
public sealed class RecordingSurface : IPaymentIntentHandler
{
    public const string Name = "test-surface";

    public ConcurrentQueue<PaymentIntentEvent> Changes { get; } = new();

    public ConcurrentDictionary<string, bool> Refused { get; } = new();

    public string Surface => Name;

    /// <summary>References whose callbacks fail (the surface's storage is down for them).</summary>
    public ConcurrentDictionary<string, bool> Broken { get; } = new();

    public Task<bool> OnChangedAsync(PaymentIntentEvent change, CancellationToken cancellationToken)
    {
        if (Broken.ContainsKey(change.Reference))
            throw new InvalidOperationException("The surface could not apply the move.");
        Changes.Enqueue(change);
        return Task.FromResult(!Refused.ContainsKey(change.Reference));
    }

    /// <summary>The distinct moves of one intent, in order (a repeated delivery of a move is the same move).</summary>
    public List<string> MovesOf(string intentId) =>
        Changes.Where(c => c.IntentId == intentId).DistinctBy(c => c.EventKey).OrderBy(c => c.EventKey, StringComparer.Ordinal).Select(c => c.Status).ToList();
}

/// <summary>
/// The sandbox provider behind a wrapper a test can steer: count its calls, make callers meet at the provider, or
/// lose the answer to an order the provider did make (a timeout after the provider acted).
/// </summary>
public sealed class SteerableProvider(SandboxProvider inner) : IPaymentProvider
{
    private volatile TaskCompletionSource? _gate;
    private int _arrived;
    private int _holdFor;
    private int _loseCheckoutAnswers;
    private int _checkouts;

    public int Checkouts => Volatile.Read(ref _checkouts);

    public string Name => inner.Name;

    /// <summary>Holds checkout calls until <paramref name="calls"/> have arrived (or a few seconds passed).</summary>
    public void HoldUntil(int calls)
    {
        _holdFor = calls;
        _arrived = 0;
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The next <paramref name="count"/> checkouts are made, and their answers lost (a transient failure).</summary>
    public void LoseCheckoutAnswers(int count) => Volatile.Write(ref _loseCheckoutAnswers, count);

    public async Task<ProviderCheckout> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _checkouts);
        if (_gate is { } gate)
        {
            if (Interlocked.Increment(ref _arrived) >= _holdFor)
                gate.TrySetResult();
            await Task.WhenAny(gate.Task, Task.Delay(TimeSpan.FromSeconds(3), cancellationToken));
        }
        var checkout = await inner.CreateCheckoutAsync(request, cancellationToken);
        if (Interlocked.Decrement(ref _loseCheckoutAnswers) >= 0)
            throw new PaymentProviderException(Name, "The request timed out.", transient: true);
        return checkout;
    }

    public Task<ProviderPayment> FetchAsync(string orderId, CancellationToken cancellationToken) => inner.FetchAsync(orderId, cancellationToken);

    public Task<ProviderPayment> CaptureAsync(string orderId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken) =>
        inner.CaptureAsync(orderId, paymentId, amountMinor, currency, cancellationToken);

    public Task CancelAsync(string orderId, CancellationToken cancellationToken) => inner.CancelAsync(orderId, cancellationToken);

    public Task<ProviderRefund> RefundAsync(RefundRequest request, CancellationToken cancellationToken) => inner.RefundAsync(request, cancellationToken);

    public Task<ProviderRefund> FetchRefundAsync(string providerRefundId, CancellationToken cancellationToken) =>
        inner.FetchRefundAsync(providerRefundId, cancellationToken);

    public InboundVerification Verify(Microsoft.AspNetCore.Http.IHeaderDictionary headers, ReadOnlySpan<byte> body, DateTimeOffset now) =>
        inner.Verify(headers, body, now);

    public ProviderEvent Parse(string eventId, ReadOnlySpan<byte> body) => inner.Parse(eventId, body);
}

/// <summary>The app with the sandbox provider (steerable), a recording surface, and deadlines visible at once.</summary>
public class PaymentIntentFactory : PlatformFactory
{
    public PaymentIntentFactory()
    {
        With("Payments:Gateway", "sandbox");
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("RateLimits:PerCaller:PermitLimit", "100000");
    }

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        services.RemoveAll<IPaymentProvider>();
        services.AddSingleton<SteerableProvider>(sp => new SteerableProvider(sp.GetRequiredService<SandboxProvider>()));
        services.AddSingleton<IPaymentProvider>(sp => sp.GetRequiredService<SteerableProvider>());
        services.AddSingleton<RecordingSurface>();
        services.AddSingleton<IPaymentIntentHandler>(sp => sp.GetRequiredService<RecordingSurface>());
    }

    public PaymentIntents Intents => Get<PaymentIntents>();

    public SandboxProvider Sandbox => Get<SandboxProvider>();

    public SteerableProvider Provider => Get<SteerableProvider>();

    public RecordingSurface Surface => Get<RecordingSurface>();

    public static string NewReference() => "order-" + Guid.NewGuid().ToString("N")[..12];

    public IntentRequest Request(string reference, long amountMinor = 50_00, TimeSpan? expiresIn = null) => new(
        RecordingSurface.Name, reference, amountMinor, "INR", "Test order " + reference, "https://shop.example.test/return",
        "https://shop.example.test/cancel", Time.GetUtcNow() + (expiresIn ?? TimeSpan.FromHours(1)));

    /// <summary>An open intent with its sandbox order.</summary>
    public async Task<PaymentIntent> OpenAsync(string reference, long amountMinor = 50_00, TimeSpan? expiresIn = null) =>
        (await Intents.CheckoutAsync(Request(reference, amountMinor, expiresIn), CancellationToken.None)).Intent;

    /// <summary>The customer pays (or fails) on the sandbox page; the signed event is returned, not delivered.</summary>
    public async Task<SandboxDelivery> CustomerAsync(PaymentIntent intent, bool pays = true)
    {
        var (_, delivery) = await Sandbox.PayAsync(intent.ProviderOrderId!, pays, "upi", CancellationToken.None);
        return delivery!;
    }

    /// <summary>Delivers a sandbox event to the public webhook endpoint over HTTP, as a provider would.</summary>
    public Task<HttpResponseMessage> DeliverAsync(SandboxDelivery delivery, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/payments/webhooks/sandbox") { Content = new ByteArrayContent(delivery.Body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add(SandboxProvider.SignatureHeader, delivery.Signature);
        request.Headers.Add(SandboxProvider.EventIdHeader, delivery.EventId);
        return (client ?? CreateClient()).SendAsync(request);
    }

    public async Task<PaymentIntent> IntentAsync(string intentId) => (await Intents.FindAsync(intentId, CancellationToken.None))!;

    public Task<List<IntentRefund>> RefundsAsync(string intentId) => Intents.RefundsAsync(intentId, CancellationToken.None);

    /// <summary>The sandbox's orders made for an intent.</summary>
    public async Task<List<SandboxOrder>> SandboxOrdersAsync(string intentId) =>
        await Get<StorageAccount>().Table(SandboxProvider.TableName)
            .QueryAsync<SandboxOrder>(TableClient.CreateQueryFilter($"RowKey eq {SandboxOrder.Row} and IntentId eq {intentId}")).ToListAsync();
}
