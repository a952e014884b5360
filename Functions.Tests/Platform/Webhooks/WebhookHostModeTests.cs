using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>The app as the Functions host runs it: the host reads the queue and calls <c>POST /WebhookDelivery</c>.</summary>
public sealed class WebhookHostModeFactory : WebhookFactory
{
    public WebhookHostModeFactory()
    {
        Port = Azurite.FreePort();
        With("FUNCTIONS_CUSTOMHANDLER_PORT", Port.ToString());
        With("Triggers:RunPumps", "");
        UseKestrel();
    }

    public int Port { get; }
}

public sealed class WebhookHostModeTests(WebhookHostModeFactory app) : IClassFixture<WebhookHostModeFactory>
{
    private HttpClient Host()
    {
        app.StartServer();
        return new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
    }

    /// <summary>Takes the next message off the queue the way the host would, and hands it to the app.</summary>
    private async Task<HttpResponseMessage> InvokeWithNextMessageAsync()
    {
        var queue = app.Get<StorageAccount>().Queue(WebhookKeys.QueueName);
        var message = (await queue.ReceiveMessageAsync()).Value ?? throw new InvalidOperationException("No message on the webhooks queue.");
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        return await InvokeAsync(message.MessageText, message.MessageId);
    }

    private Task<HttpResponseMessage> InvokeAsync(string messageText, string id)
    {
        // The host sends a string message JSON-encoded (as it does for text it did not recognise as JSON).
        var payload = new JsonObject
        {
            ["Data"] = new JsonObject { [HostInvocations.QueueBinding] = JsonSerializer.Serialize(messageText) },
            ["Metadata"] = new JsonObject { ["DequeueCount"] = 1, ["Id"] = id },
        };
        return Host().PostAsync("/" + WebhookSender.FunctionName, new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"));
    }

    private async Task<WebhookReceiver.Hook> RegisterAsync(string owner, params Reply[] script)
    {
        var hook = app.Receiver.Add(owner, script);
        hook.Secret = (await app.Get<WebhookEndpoints>().SetAsync(owner, hook.Url, enabled: null)).NewSecret;
        return hook;
    }

    [Fact]
    public async Task A_host_invocation_delivers_the_event_signed()
    {
        var owner = "host-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await RegisterAsync(owner);
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", new JsonObject { ["event"] = "pre_order.paid" });

        var response = await InvokeWithNextMessageAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(hook.Received);
        Assert.True(received.StandardSignatureValid && received.TimestampFresh);
        Assert.Equal(published.EventId, received.Header("webhook-id"));
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, published.DeliveryIds[0])).State);
    }

    [Fact]
    public async Task Under_the_host_a_retry_is_queued_completes_the_invocation_and_runs_when_due()
    {
        var owner = "host-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await RegisterAsync(owner, new Reply(503, RetryAfter: "30"));
        var published = await app.Publisher.PublishAsync(owner, "pre_order.paid", new JsonObject { ["event"] = "pre_order.paid" });
        var start = app.Time.GetUtcNow();

        var first = await InvokeWithNextMessageAsync();
        var waiting = await app.DeliveryAsync(owner, published.DeliveryIds[0]);
        app.Time.Advance(TimeSpan.FromSeconds(30));
        var second = await InvokeWithNextMessageAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(start + TimeSpan.FromSeconds(30), waiting.NextAttemptAt);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, hook.Received.Count);
        Assert.Equal(WebhookDeliveryStates.Delivered, (await app.DeliveryAsync(owner, published.DeliveryIds[0])).State);
    }

    [Fact]
    public async Task A_message_the_host_delivers_twice_sends_once()
    {
        var owner = "host-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await RegisterAsync(owner);
        await app.Publisher.PublishAsync(owner, "pre_order.paid", new JsonObject { ["event"] = "pre_order.paid" });
        var message = (await app.PeekMessageAsync())!;

        var first = await InvokeWithNextMessageAsync();
        var again = await InvokeAsync(message, "redelivered-by-host");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Single(hook.Received);
    }

    [Fact]
    public async Task A_message_that_is_not_a_delivery_fails_the_invocation_so_the_host_poisons_it()
    {
        var response = await InvokeAsync("not a delivery", "bad-1");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public void The_delivery_function_is_in_the_manifest_as_a_queue_trigger_on_the_webhooks_queue()
    {
        var function = Assert.Single(app.Get<FunctionManifest>().Build(), f => f.Name == WebhookSender.FunctionName);
        var binding = function.FunctionJson["bindings"]![0]!;

        Assert.Equal("queueTrigger", binding["type"]!.GetValue<string>());
        Assert.Equal(app.Prefix + WebhookKeys.QueueName, binding["queueName"]!.GetValue<string>());
    }
}
