using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>
/// The app with a real webhook receiver on 127.0.0.1 (so private targets are allowed here), and retry messages
/// visible at once: a retry is made due by advancing the fake clock, never by waiting.
/// </summary>
public class WebhookFactory : PlatformFactory
{
    public WebhookFactory()
    {
        With("Webhooks:AllowPrivateTargets", "true");
        With("Webhooks:MaxVisibilityDelay", "00:00:00");
    }

    public WebhookReceiver Receiver { get; } = new();

    public override async Task InitializeAsync()
    {
        await Receiver.StartAsync();
        Receiver.Clock = () => Time.GetUtcNow();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    public QueuePump Pump => Get<StandalonePumps>().CreatePump(WebhookSender.FunctionName);

    /// <summary>Runs the pump until the queue is empty; bounded, so a bug fails the test instead of hanging the run.</summary>
    public Task<int> DrainAsync() => Pump.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    /// <summary>One batch of the pump: what is visible now, and not the retries that batch schedules.</summary>
    public Task<int> RunOnceAsync() => Pump.RunOnceAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    public WebhookPublisher Publisher => Get<WebhookPublisher>();

    public HttpClient Admin() => CreateClientAs(1, Roles.Admin);

    /// <summary>A hook on the receiver and the owner's endpoint pointing at it, registered through the admin API.</summary>
    public async Task<WebhookReceiver.Hook> RegisterAsync(string ownerId, params Reply[] script)
    {
        var hook = Receiver.Add(ownerId, script);
        var response = await Admin().PutAsJsonAsync($"/platform/webhooks/endpoints/{ownerId}", new { url = hook.Url });
        response.EnsureSuccessStatusCode();
        hook.Secret = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();
        return hook;
    }

    public async Task<WebhookDelivery> DeliveryAsync(string ownerId, string deliveryId) =>
        (await Publisher.FindDeliveryAsync(ownerId, deliveryId))!;

    public async Task<List<WebhookAttempt>> AttemptsAsync(string ownerId, string deliveryId)
    {
        var logs = await Publisher.ListDeliveriesAsync(ownerId, 100);
        return logs.Single(l => l.Delivery.Id == deliveryId).Attempts.ToList();
    }

    public async Task<string?> PeekMessageAsync() =>
        (await Get<StorageAccount>().Queue(WebhookKeys.QueueName).PeekMessageAsync()).Value?.MessageText;

    public TableClient Table => Get<StorageAccount>().Table(WebhookKeys.TableName);
}

public sealed class WebhookRetryFactory : WebhookFactory
{
    public WebhookRetryFactory() => With("Webhooks:RequestTimeout", "00:00:00.500");
}
