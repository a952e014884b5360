using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Platform.Webhooks;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Platform.Email;

namespace Serverless.Tests.Platform.Webhooks;

/// <summary>The webhook app with every log line it writes captured.</summary>
public sealed class WebhookLogFactory : WebhookFactory
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);
}

/// <summary>What a receiver does to an attempt (refuse, fail) is logged in one line, never with a stack trace.</summary>
public sealed class WebhookAttemptLogTests(WebhookLogFactory app) : IClassFixture<WebhookLogFactory>
{
    private static string NewOwner() => "merchant-" + Guid.NewGuid().ToString("N")[..8];

    private List<(LogLevel Level, string Category, string Message, Exception? Exception)> LinesAbout(string deliveryId) =>
        app.Logs.Entries.Where(e => e.Message.Contains(deliveryId)).ToList();

    [Fact]
    public async Task A_refused_connection_is_one_warning_line_without_a_stack_trace()
    {
        var closed = new WebhookTarget($"http://127.0.0.1:{Azurite.FreePort()}/gone", "whsec_" + Convert.ToBase64String(new byte[32]));
        var owner = NewOwner();
        var deliveryId = (await app.Publisher.PublishToAsync(closed, owner, "pre_order.paid", BinaryData.FromString("{}"))).DeliveryIds[0];
        app.Logs.Entries.Clear();

        await app.RunOnceAsync();

        var line = Assert.Single(LinesAbout(deliveryId));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal(typeof(WebhookSender).FullName, line.Category);
        Assert.Contains("attempt 1 to 127.0.0.1: Retry", line.Message);
        Assert.Contains("refused", line.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Exception is not null);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("   at "));
        Assert.Equal(WebhookDeliveryStates.Pending, (await app.DeliveryAsync(owner, deliveryId)).State);
        await app.Get<Serverless.Platform.Storage.StorageAccount>().Queue(WebhookKeys.QueueName).ClearMessagesAsync();
    }

    [Fact]
    public async Task A_500_and_a_delivered_attempt_are_one_line_each()
    {
        var owner = NewOwner();
        var hook = await app.RegisterAsync(owner, new Reply(500));
        var deliveryId = (await app.Publisher.PublishAsync(owner, "pre_order.paid", BinaryData.FromString("{}"))).DeliveryIds[0];
        app.Logs.Entries.Clear();

        await app.RunOnceAsync();
        var failed = Assert.Single(LinesAbout(deliveryId));
        var waiting = await app.DeliveryAsync(owner, deliveryId);
        app.Time.Advance(waiting.NextAttemptAt - app.Time.GetUtcNow());
        await app.DrainAsync();

        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("Retry 500", failed.Message);
        var lines = LinesAbout(deliveryId);
        Assert.Equal(2, lines.Count);
        Assert.Equal(LogLevel.Information, lines[1].Level);
        Assert.Contains("attempt 2", lines[1].Message);
        Assert.Contains("Delivered 200", lines[1].Message);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Exception is not null);
        Assert.Equal(2, hook.Received.Count);
    }
}
