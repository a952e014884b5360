using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

/// <summary>What the test functions saw.</summary>
public sealed class TriggerLog
{
    private readonly SemaphoreSlim _recorded = new(0);

    public ConcurrentQueue<(string Message, long DequeueCount)> Messages { get; } = new();

    public void Record(string message, long dequeueCount)
    {
        Messages.Enqueue((message, dequeueCount));
        _recorded.Release();
    }

    /// <summary>Waits (bounded) until a function has seen <paramref name="message"/>.</summary>
    public async Task<bool> WaitForAsync(string message, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Messages.Any(m => m.Message == message))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _recorded.WaitAsync(left))
                return Messages.Any(m => m.Message == message);
        }
        return true;
    }

    public ConcurrentQueue<DateTimeOffset> TimerRuns { get; } = new();
    public TaskCompletionSource TimerFired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The app with a test queue function (fails on messages starting "fail") and a five-minute timer.</summary>
public class TriggerFactory : PlatformFactory
{
    public TriggerLog Log { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        services.AddQueueTrigger("TestJob", "jobs", invocation =>
        {
            Log.Record(invocation.Message, invocation.DequeueCount);
            if (invocation.Message.StartsWith("fail", StringComparison.Ordinal))
                throw new InvalidOperationException("Told to fail.");
            return Task.CompletedTask;
        });
        services.AddTimerTrigger("TestTick", "0 */5 * * * *", invocation =>
        {
            Log.TimerRuns.Enqueue(invocation.ScheduledAt);
            Log.TimerFired.TrySetResult();
            return Task.CompletedTask;
        });
    }
}

public sealed class QueuePumpTests(TriggerFactory app) : IClassFixture<TriggerFactory>
{
    [Fact]
    public async Task A_queued_message_reaches_its_function_once_and_leaves_the_queue()
    {
        var queue = app.Get<StorageAccount>().Queue("jobs");
        await queue.SendMessageAsync("{\"order\":\"ok-1\"}");

        var handled = await app.Get<StandalonePumps>().CreatePump("TestJob").DrainAsync(CancellationToken.None);

        Assert.Equal(1, handled);
        Assert.Contains(app.Log.Messages, m => m.Message == "{\"order\":\"ok-1\"}" && m.DequeueCount == 1);
        Assert.Null((await queue.PeekMessageAsync()).Value);
    }

    [Fact]
    public async Task A_message_that_keeps_failing_moves_to_the_poison_queue_after_five_deliveries()
    {
        var storage = app.Get<StorageAccount>();
        await storage.Queue("jobs").SendMessageAsync("fail-always");

        await app.Get<StandalonePumps>().CreatePump("TestJob").DrainAsync(CancellationToken.None);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], app.Log.Messages.Where(m => m.Message == "fail-always").Select(m => m.DequeueCount));
        var poisoned = (await storage.Queue("jobs-poison").ReceiveMessageAsync()).Value;
        Assert.Equal("fail-always", poisoned.MessageText);
        Assert.Null((await storage.Queue("jobs").PeekMessageAsync()).Value);
    }

    [Fact]
    public void Every_trigger_is_registered_once_with_its_queue_declared()
    {
        var registry = app.Get<TriggerRegistry>();

        Assert.NotNull(registry.FindQueue("TestJob"));
        Assert.NotNull(registry.FindTimer("TestTick"));
        Assert.NotNull(registry.FindTimer("IdempotencySweep"));
        Assert.Contains("jobs-poison", app.Get<StorageAccount>().Catalog.Queues);
    }
}

public sealed class RunningPumpsFactory : TriggerFactory
{
    public RunningPumpsFactory() => With("Triggers:RunPumps", "true");
}

public sealed class StandalonePumpTests(RunningPumpsFactory app) : IClassFixture<RunningPumpsFactory>
{
    [Fact]
    public async Task The_timer_runs_when_the_clock_reaches_its_schedule()
    {
        _ = app.Services;
        for (var attempt = 0; attempt < 50 && !app.Log.TimerFired.Task.IsCompleted; attempt++)
        {
            app.Time.Advance(TimeSpan.FromMinutes(5));
            await Task.WhenAny(app.Log.TimerFired.Task, Task.Delay(TimeSpan.FromMilliseconds(100)));
        }

        Assert.True(app.Log.TimerFired.Task.IsCompleted, "the timer never ran");
        var run = app.Log.TimerRuns.First();
        Assert.Equal(0, run.Minute % 5);
        Assert.Equal(0, run.Second);
    }

    [Fact]
    public async Task The_queue_pump_delivers_messages_without_being_asked()
    {
        await app.Get<StorageAccount>().Queue("jobs").SendMessageAsync("background-1");

        Assert.True(await app.Log.WaitForAsync("background-1", TimeSpan.FromSeconds(30)));
    }
}

/// <summary>The app as the Functions host runs it: on loopback at FUNCTIONS_CUSTOMHANDLER_PORT, over real HTTP.</summary>
public sealed class HostModeFactory : TriggerFactory
{
    public HostModeFactory()
    {
        Port = Azurite.FreePort();
        With("FUNCTIONS_CUSTOMHANDLER_PORT", Port.ToString());
        // Unset: the default under the host is that the host, not the app, runs triggers.
        With("Triggers:RunPumps", "");
        UseKestrel();
    }

    public int Port { get; }
}

public sealed class HostModeTests(HostModeFactory app) : IClassFixture<HostModeFactory>
{
    private HttpClient Host()
    {
        app.StartServer();
        return new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
    }

    private static StringContent Invocation(object data) =>
        new(JsonSerializer.Serialize(new { Data = data, Metadata = new { DequeueCount = 2, Id = "m-1" } }), Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_host_polls_root_and_forwards_http_requests()
    {
        var host = Host();

        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/health")).StatusCode);
    }

    [Theory]
    [InlineData("\"\\\"hello host\\\"\"", "hello host")]
    [InlineData("\"{\\\"order\\\":1}\"", "{\"order\":1}")]
    [InlineData("{\"order\":2}", "{\"order\":2}")]
    public async Task A_queue_invocation_reaches_the_same_handler_with_the_message_decoded(string encoded, string expected)
    {
        var payload = $"{{\"Data\":{{\"message\":{encoded}}},\"Metadata\":{{\"DequeueCount\":3,\"Id\":\"abc\"}}}}";

        var response = await Host().PostAsync("/TestJob", new StringContent(payload, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.TryGetProperty("Outputs", out _));
        Assert.Contains(app.Log.Messages, m => m.Message == expected && m.DequeueCount == 3);
    }

    [Fact]
    public async Task A_failing_queue_invocation_answers_500_so_the_host_retries()
    {
        var response = await Host().PostAsync("/TestJob", Invocation(new { message = "fail-in-host" }));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task A_timer_invocation_runs_the_timer_function()
    {
        var response = await Host().PostAsync("/TestTick", Invocation(new { timer = new { IsPastDue = false } }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(app.Log.TimerFired.Task.IsCompleted);
    }

    [Fact]
    public void The_standalone_pumps_stay_off_under_the_host()
    {
        Assert.True(app.Get<HostingMode>().IsFunctionsHost);
        Assert.Equal(app.Port, app.Get<HostingMode>().CustomHandlerPort);
        Assert.False(app.Get<StandalonePumps>().Enabled);
    }
}
