using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Deadlines;

/// <summary>A stand-in for a surface's entity with a deadline: pending until paid or expired.</summary>
public sealed record TestOrder : ITableEntity
{
    public string PartitionKey { get; set; } = "order";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Status { get; set; } = "pending";
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>
/// The app with a <c>test-expiry</c> deadline handler written the way surfaces write theirs: a conditional
/// transition, then side effects keyed by the transition so repeats are one logical event. Visibility delays are
/// off so the fake clock decides what is due (<see cref="VisibleDeadlineFactory"/>: on).
/// </summary>
public class DeadlineFactory : PlatformFactory
{
    public ConcurrentDictionary<string, int> SideEffects { get; } = new();

    public DeadlineFactory() : this(visibility: false)
    {
    }

    protected DeadlineFactory(bool visibility)
    {
        With("Deadlines:MaxVisibilityDelay", visibility ? "6.00:00:00" : "00:00:00");
        RunAsFunctionsHost();
    }

    protected override void ConfigureTestServices(IServiceCollection services)
    {
        services.AddStorage(s => s.Table("testorders"));
        services.AddDeadlineHandler("test-expiry", async invocation =>
        {
            var table = invocation.Services.GetRequiredService<StorageAccount>().Table("testorders");
            var now = invocation.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var changed = false;
            await table.TransitionAsync<TestOrder>("order", invocation.Key, o =>
            {
                changed = o.Status == "pending" && o.ExpiresAt <= now;
                return changed ? o with { Status = "expired" } : null;
            }, invocation.CancellationToken);
            // Side effects follow the transition this delivery made, never a repeat of it.
            if (changed)
                SideEffects.AddOrUpdate("expired:" + invocation.Key, 1, (_, n) => n + 1);
        });
    }

    public async Task<TestOrder> CreateOrderAsync(string id, TimeSpan expiresIn)
    {
        var order = new TestOrder { RowKey = id, ExpiresAt = Time.GetUtcNow() + expiresIn };
        await Get<StorageAccount>().Table("testorders").AddEntityAsync(order);
        await Get<DeadlineScheduler>().ScheduleAsync("test-expiry", id, order.ExpiresAt);
        return order;
    }

    public async Task<string> StatusAsync(string id) =>
        (await Get<StorageAccount>().Table("testorders").GetEntityAsync<TestOrder>("order", id)).Value.Status;

    public QueuePump Pump() => Get<StandalonePumps>().CreatePump(DeadlineRegistration.DueFunction);
}

public sealed class DeadlineTests(DeadlineFactory app) : IClassFixture<DeadlineFactory>
{
    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_deadline_due_now_runs_its_handler_at_once()
    {
        var id = NewId();
        await app.CreateOrderAsync(id, TimeSpan.Zero);

        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Equal("expired", await app.StatusAsync(id));
        Assert.Equal(1, app.SideEffects["expired:" + id]);
    }

    [Fact]
    public async Task A_deadline_in_nine_minutes_does_nothing_before_and_expires_after()
    {
        var id = NewId();
        await app.CreateOrderAsync(id, TimeSpan.FromMinutes(9));

        await app.Pump().RunOnceAsync(CancellationToken.None);
        Assert.Equal("pending", await app.StatusAsync(id));

        app.Time.Advance(TimeSpan.FromMinutes(9));
        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Equal("expired", await app.StatusAsync(id));
        Assert.Equal(1, app.SideEffects["expired:" + id]);
    }

    [Fact]
    public async Task A_deadline_31_days_away_chains_messages_of_at_most_six_days()
    {
        var scheduler = app.Get<DeadlineScheduler>();
        var capped = new DeadlineScheduler(app.Get<StorageAccount>(), app.Time, new DeadlineOptions());
        Assert.Equal(TimeSpan.FromDays(6), capped.VisibilityFor(app.Time.GetUtcNow() + TimeSpan.FromDays(31)));
        Assert.Equal(TimeSpan.FromMinutes(9), capped.VisibilityFor(app.Time.GetUtcNow() + TimeSpan.FromMinutes(9)));

        var id = NewId();
        await app.CreateOrderAsync(id, TimeSpan.FromDays(31));
        for (var day = 0; day < 30; day += 6)
        {
            // Each early delivery re-enqueues the remainder and changes nothing.
            Assert.Equal(1, await app.Pump().RunOnceAsync(CancellationToken.None));
            Assert.Equal("pending", await app.StatusAsync(id));
            app.Time.Advance(TimeSpan.FromDays(6));
        }
        app.Time.Advance(TimeSpan.FromDays(1));
        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Equal("expired", await app.StatusAsync(id));
        Assert.NotNull(scheduler);
    }

    [Fact]
    public async Task A_duplicate_delivery_changes_nothing_and_emits_no_second_event()
    {
        var id = NewId();
        var order = await app.CreateOrderAsync(id, TimeSpan.Zero);
        await app.Get<DeadlineScheduler>().ScheduleAsync("test-expiry", id, order.ExpiresAt);

        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Equal("expired", await app.StatusAsync(id));
        Assert.Equal(1, app.SideEffects["expired:" + id]);
    }

    [Fact]
    public async Task A_deadline_reached_after_the_entity_changed_state_does_nothing()
    {
        var id = NewId();
        await app.CreateOrderAsync(id, TimeSpan.FromMinutes(9));
        var table = app.Get<StorageAccount>().Table("testorders");
        await table.TransitionAsync<TestOrder>("order", id, o => o with { Status = "paid" });

        app.Time.Advance(TimeSpan.FromMinutes(10));
        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Equal("paid", await app.StatusAsync(id));
        Assert.False(app.SideEffects.ContainsKey("expired:" + id));
    }

    [Fact]
    public async Task The_sweep_recovers_a_deadline_whose_message_was_lost()
    {
        var id = NewId();
        await app.CreateOrderAsync(id, TimeSpan.FromMinutes(1));
        await app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName).ClearMessagesAsync();

        app.Time.Advance(TimeSpan.FromMinutes(4));
        await Sweep();
        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Equal("expired", await app.StatusAsync(id));
        Assert.Equal(1, app.SideEffects["expired:" + id]);
        // Handled: the safety-net row is gone, so later sweeps re-enqueue nothing.
        await Sweep();
        Assert.Equal(0, await app.Pump().DrainAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_deadline_the_sweep_gives_up_on_is_re_enqueued_for_the_last_time_and_its_row_removed()
    {
        var id = NewId();
        var order = await app.CreateOrderAsync(id, TimeSpan.FromMinutes(1));
        var queue = app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName);
        var rows = app.Get<StorageAccount>().Table(DeadlineScheduler.TableName);
        var row = DeadlineRow.For(new Deadline("test-expiry", id, order.ExpiresAt));
        async Task<bool> QueuedAsync() => (await queue.PeekMessagesAsync(32)).Value.Any(m => m.MessageText.Contains(id, StringComparison.Ordinal));
        await queue.ClearMessagesAsync();
        app.Time.Advance(TimeSpan.FromMinutes(4));

        var maxSweeps = app.Get<DeadlineOptions>().MaxSweeps;
        for (var sweep = 1; sweep <= maxSweeps; sweep++)
        {
            await Sweep();
            // Every message the sweep sends fails (here: is lost), so the row stays until the sweep gives up.
            Assert.True(await QueuedAsync());
            await queue.ClearMessagesAsync();
            if (sweep < maxSweeps)
                Assert.Equal(sweep, (await rows.FindAsync<DeadlineRow>(row.PartitionKey, row.RowKey))!.Sweeps);
        }

        Assert.Null(await rows.FindAsync<DeadlineRow>(row.PartitionKey, row.RowKey));
        await Sweep();
        Assert.False(await QueuedAsync());
        Assert.Equal("pending", await app.StatusAsync(id));
    }

    [Fact]
    public async Task A_deadline_is_delivered_through_a_host_invocation_too()
    {
        var id = NewId();
        var order = new TestOrder { RowKey = id, ExpiresAt = app.Time.GetUtcNow() };
        await app.Get<StorageAccount>().Table("testorders").AddEntityAsync(order);
        var message = JsonSerializer.Serialize(new { kind = "test-expiry", key = id, dueAt = order.ExpiresAt });

        var response = await app.HostInvocationAsync(DeadlineRegistration.DueFunction,
            JsonSerializer.Serialize(new { Data = new { message = JsonSerializer.Serialize(message) }, Metadata = new { DequeueCount = 1, Id = "m" } }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("expired", await app.StatusAsync(id));
    }

    [Fact]
    public async Task A_malformed_message_is_dropped_not_retried_forever()
    {
        await app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName).SendMessageAsync("{not a deadline");

        await app.Pump().DrainAsync(CancellationToken.None);

        Assert.Null((await app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName + "-poison").PeekMessageAsync()).Value);
    }

    private Task Sweep() => app.Get<TriggerInvoker>().InvokeAsync(app.Get<TriggerRegistry>().FindTimer(DeadlineRegistration.SweepFunction)!,
        app.Time.GetUtcNow(), false, CancellationToken.None);
}

/// <summary>The same app with visibility delays on (the default), so deadlines are waited out to the fraction of a second.</summary>
public sealed class VisibleDeadlineFactory() : DeadlineFactory(visibility: true);

public sealed class DeadlineWaitOutTests(VisibleDeadlineFactory app) : IClassFixture<VisibleDeadlineFactory>
{
    [Fact]
    public void A_deadline_within_reach_of_one_message_surfaces_less_than_a_second_before_it_is_due()
    {
        var scheduler = app.Get<DeadlineScheduler>();
        var now = app.Time.GetUtcNow();
        Assert.Equal(TimeSpan.FromSeconds(2), scheduler.WaitOutLimit);
        Assert.Equal(TimeSpan.FromSeconds(9), scheduler.VisibilityFor(now + TimeSpan.FromSeconds(9.4)));
        Assert.Equal(TimeSpan.FromSeconds(9), scheduler.VisibilityFor(now + TimeSpan.FromSeconds(9)));
        Assert.Equal(TimeSpan.Zero, scheduler.VisibilityFor(now + TimeSpan.FromMilliseconds(400)));
        Assert.Equal(TimeSpan.Zero, scheduler.VisibilityFor(now - TimeSpan.FromSeconds(3)));
        // Beyond the cap: a link of a chain, the cap itself.
        Assert.Equal(TimeSpan.FromDays(6), scheduler.VisibilityFor(now + TimeSpan.FromDays(31)));

        // Without a wait-out the message must not surface early: the time left rounded up, as before.
        var noWaitOut = new DeadlineScheduler(app.Get<StorageAccount>(), app.Time, new DeadlineOptions { WaitOut = TimeSpan.Zero });
        Assert.Equal(TimeSpan.FromSeconds(10), noWaitOut.VisibilityFor(now + TimeSpan.FromSeconds(9.4)));
    }

    [Fact]
    public async Task A_deadline_delivered_a_fraction_of_a_second_early_runs_at_its_time_not_before_and_is_not_re_enqueued()
    {
        var id = Guid.NewGuid().ToString("N");
        await app.CreateOrderAsync(id, TimeSpan.FromMilliseconds(600));

        // Visible at once (600 ms rounded down), but not due by the app's clock: the handler waits it out.
        var run = app.Pump().RunOnceAsync(CancellationToken.None);
        await Task.WhenAny(run, Task.Delay(500));
        Assert.False(run.IsCompleted);
        Assert.Equal("pending", await app.StatusAsync(id));

        for (var step = 0; step < 100 && !run.IsCompleted; step++)
        {
            app.Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(run, Task.Delay(50));
        }

        Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("expired", await app.StatusAsync(id));
        Assert.Equal(1, app.SideEffects["expired:" + id]);
        Assert.Null((await app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName).PeekMessageAsync()).Value);
    }

    [Fact]
    public async Task A_deadline_delivered_more_than_the_wait_out_early_goes_back_to_the_queue()
    {
        var id = Guid.NewGuid().ToString("N");
        var order = await app.CreateOrderAsync(id, TimeSpan.FromMinutes(9));
        // Delivered now (as a sweep or a clock skew would), 9 minutes early: not held, re-enqueued for the rest.
        await app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName).ClearMessagesAsync();
        await app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName)
            .SendMessageAsync(JsonSerializer.Serialize(new { kind = "test-expiry", key = id, dueAt = order.ExpiresAt }));

        Assert.Equal(1, await app.Pump().RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("pending", await app.StatusAsync(id));
        var queue = app.Get<StorageAccount>().Queue(DeadlineScheduler.QueueName);
        Assert.Null((await queue.PeekMessageAsync()).Value); // invisible for the 9 minutes left
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }
}
