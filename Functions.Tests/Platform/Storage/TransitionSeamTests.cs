using System.Collections.Concurrent;
using System.Runtime.Serialization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Storage;

public sealed class TransitionSeamTests(TransitionSeamTests.Factory app) : IClassFixture<TransitionSeamTests.Factory>
{
    public const string TableName = "seamtests";

    /// <summary>The app with a table of its own, its table endpoint behind a lossy proxy, and an outbox channel that records.</summary>
    public sealed class Factory : PlatformFactory
    {
        public Factory() => FrontTablesWithLossyProxy();

        public RecordingChannel Channel { get; } = new();

        protected override void ConfigureTestServices(IServiceCollection services)
        {
            services.AddStorage(s => s.Table(TableName));
            services.AddSingleton<IOutboxChannel>(Channel);
        }
    }

    /// <summary>An outbox channel that keeps what it is given, and fails while told to.</summary>
    public sealed class RecordingChannel : IOutboxChannel
    {
        public const string ChannelName = "recording";

        public ConcurrentQueue<OutboxEvent> Delivered { get; } = new();

        public volatile bool Failing;

        public string Name => ChannelName;

        public Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
        {
            if (Failing)
                throw new HttpRequestException("The channel's receiver is down.");
            Delivered.Enqueue(message);
            return Task.CompletedTask;
        }

        public int CountOf(string key) => Delivered.Count(e => e.Key == key);
    }

    /// <summary>A job: pending, then done or cancelled; a done job may be archived.</summary>
    public sealed class JobRow : IStampedRow, IStatefulRow
    {
        public static readonly StateMachine Machine = new("job", ("pending", "done"), ("pending", "cancelled"), ("done", "archived"));

        public string PartitionKey { get; set; } = "";
        public string RowKey { get; set; } = "";
        public DateTimeOffset? Timestamp { get; set; }
        public ETag ETag { get; set; }
        public string Status { get; set; } = "pending";
        public long Counter { get; set; }
        public string? OperationId { get; set; }

        [IgnoreDataMember]
        public StateMachine Moves => Machine;

        public JobRow With(string? status = null, long? counter = null) => new()
        {
            PartitionKey = PartitionKey, RowKey = RowKey, ETag = ETag, OperationId = OperationId,
            Status = status ?? Status, Counter = counter ?? Counter,
        };
    }

    private TableClient Table => app.Get<StorageAccount>().Table(TableName);

    private Transitions Transitions => app.Get<Transitions>();

    private Outbox Outbox => app.Get<Outbox>();

    private async Task<JobRow> NewJobAsync(string status = "pending", long counter = 0)
    {
        var job = new JobRow { PartitionKey = "job-" + Guid.NewGuid().ToString("N")[..12], RowKey = "job", Status = status, Counter = counter };
        await Table.AddEntityAsync(job);
        return (await Table.FindAsync<JobRow>(job.PartitionKey, job.RowKey))!;
    }

    private Task<JobRow?> ReadAsync(JobRow job) => Table.FindAsync<JobRow>(job.PartitionKey, job.RowKey);

    private async Task<int> OutboxMessagesAsync() =>
        (await app.Get<StorageAccount>().Queue(Serverless.Platform.Storage.Outbox.QueueName).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private static OutboxEvent Event(string key) => new(RecordingChannel.ChannelName, key, "owner-1", "job.done", JsonSerializer.Serialize(new { key }));

    [Fact]
    public async Task A_replace_whose_answer_was_lost_answers_with_the_outcome_it_stored_not_a_new_decision()
    {
        var job = await NewJobAsync(counter: 5);
        var decisions = 0;
        app.Proxy!.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.Contains(job.PartitionKey, StringComparison.Ordinal));
        var lost = app.Proxy.Lost;

        var result = await Transitions.ApplyAsync<JobRow, long>(Table, job.PartitionKey, job.RowKey, change =>
        {
            decisions++;
            var next = change.Current!.Counter + 1;
            change.Write(change.Current.With(counter: next));
            return next;
        });

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.True(result.Written);
        Assert.Equal(6, result.Outcome);
        Assert.Equal(1, decisions);
        Assert.Equal(6, result.Row!.Counter);
        Assert.Equal(6, (await ReadAsync(job))!.Counter);
    }

    [Fact]
    public async Task An_insert_whose_answer_was_lost_answers_written_once()
    {
        var key = "job-" + Guid.NewGuid().ToString("N")[..12];
        var decisions = 0;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value!.EndsWith(app.Get<StorageAccount>().TableName(TableName), StringComparison.Ordinal));
        var lost = app.Proxy.Lost;

        var result = await Transitions.ApplyAsync<JobRow, string>(Table, key, "job", change =>
        {
            decisions++;
            if (change.Current is not null)
                return "exists";
            change.Write(new JobRow { PartitionKey = key, RowKey = "job", Counter = 1 });
            return "created";
        });

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(("created", true, 1), (result.Outcome, result.Written, decisions));
        Assert.Equal(1, (await Table.FindAsync<JobRow>(key, "job"))!.Counter);
    }

    [Fact]
    public async Task An_undeclared_move_is_refused_and_nothing_is_written()
    {
        var job = await NewJobAsync();

        await Assert.ThrowsAsync<IllegalTransitionException>(() => Transitions.ApplyAsync<JobRow, bool>(Table, job.PartitionKey, job.RowKey, change =>
        {
            change.Write(change.Current!.With(status: "archived"));
            return true;
        }));

        var stored = await ReadAsync(job);
        Assert.Equal(("pending", job.ETag), (stored!.Status, stored.ETag));
        Assert.False(JobRow.Machine.Allows("pending", "archived"));
        Assert.True(JobRow.Machine.Allows("pending", "done"));
    }

    [Fact]
    public async Task An_undeclared_move_made_by_changing_the_row_read_is_refused_too()
    {
        var job = await NewJobAsync();

        await Assert.ThrowsAsync<IllegalTransitionException>(() => Transitions.ApplyAsync<JobRow, bool>(Table, job.PartitionKey, job.RowKey, change =>
        {
            change.Current!.Status = "archived";
            change.Write(change.Current);
            return true;
        }));

        Assert.Equal("pending", (await ReadAsync(job))!.Status);
    }

    [Fact]
    public async Task Twenty_racing_transitions_from_pending_to_done_write_once()
    {
        var job = await NewJobAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            Transitions.ApplyAsync<JobRow, string>(Table, job.PartitionKey, job.RowKey, change =>
            {
                if (change.Current!.Status != "pending")
                    return "already " + change.Current.Status;
                change.Write(change.Current.With(status: "done", counter: i));
                return "done by " + i;
            }))));

        var winner = Assert.Single(results, r => r.Written);
        Assert.StartsWith("done by ", winner.Outcome);
        Assert.All(results.Where(r => !r.Written), r => Assert.Equal("already done", r.Outcome));
        var stored = await ReadAsync(job);
        Assert.Equal("done", stored!.Status);
        Assert.Equal("done by " + stored.Counter, winner.Outcome);
    }

    [Fact]
    public async Task A_row_changed_under_every_attempt_ends_in_a_conflict_after_the_bounded_attempts()
    {
        var job = await NewJobAsync();
        var attempts = 0;

        var error = await Assert.ThrowsAsync<ConcurrencyConflictException>(() => Transitions.ApplyAsync<JobRow, bool>(Table, job.PartitionKey, job.RowKey,
            change =>
            {
                attempts++;
                Assert.Equal(attempts, change.Attempt);
                // Another writer gets in between this read and this write, every time.
                Table.UpdateEntity(change.Current!.With(counter: change.Current.Counter + 1), ETag.All, TableUpdateMode.Replace);
                change.Write(change.Current.With(status: "done"));
                return true;
            }));

        Assert.Equal(TransitionSeam.MaxAttempts, attempts);
        Assert.Contains("try again", error.Message);
        var stored = await ReadAsync(job);
        Assert.Equal(("pending", (long)TransitionSeam.MaxAttempts), (stored!.Status, stored.Counter));
    }

    [Fact]
    public async Task A_published_event_is_delivered_once_and_leaves_no_outbox_row_or_message()
    {
        var job = await NewJobAsync();
        var messages = await OutboxMessagesAsync();
        var key = "done-" + job.PartitionKey;

        var result = await Transitions.ApplyAsync<JobRow, bool>(Table, job.PartitionKey, job.RowKey, change =>
        {
            change.Write(change.Current!.With(status: "done")).Publish(Event(key));
            return true;
        });

        Assert.True(result.Written);
        Assert.Equal(1, app.Channel.CountOf(key));
        Assert.Empty(await Outbox.PendingAsync(Table, job.PartitionKey));
        Assert.Equal(messages, await OutboxMessagesAsync());
        Assert.Equal("done", (await ReadAsync(job))!.Status);
    }

    [Fact]
    public async Task An_event_whose_transition_answer_was_lost_is_delivered_once()
    {
        var job = await NewJobAsync();
        var key = "lost-" + job.PartitionKey;
        var messages = await OutboxMessagesAsync();
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");
        var lost = app.Proxy.Lost;

        var result = await Transitions.ApplyAsync<JobRow, bool>(Table, job.PartitionKey, job.RowKey, change =>
        {
            if (change.Current!.Status != "pending")
                return false;
            change.Write(change.Current.With(status: "done")).Publish(Event(key));
            return true;
        });

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.True(result.Written);
        Assert.True(result.Outcome);
        Assert.Equal(1, app.Channel.CountOf(key));
        Assert.Empty(await Outbox.PendingAsync(Table, job.PartitionKey));
        Assert.Equal(messages, await OutboxMessagesAsync());
    }

    [Fact]
    public async Task An_event_whose_transition_answer_was_lost_while_another_request_changed_the_row_is_still_delivered_once()
    {
        var job = await NewJobAsync();
        var key = "changed-" + job.PartitionKey;
        var messages = await OutboxMessagesAsync();
        app.Proxy!.LoseAnswerTo(r =>
        {
            if (r.Method != "POST" || r.Path.Value != "/devstoreaccount1/$batch")
                return false;
            // Another request changes the row after this transition stored it, before its retry reads it back.
            var stored = Table.GetEntity<JobRow>(job.PartitionKey, job.RowKey).Value;
            var changed = stored.With(counter: stored.Counter + 1);
            changed.OperationId = "another-request";
            Table.UpdateEntity(changed, stored.ETag, TableUpdateMode.Replace);
            return true;
        });

        var result = await Transitions.ApplyAsync<JobRow, string>(Table, job.PartitionKey, job.RowKey, change =>
        {
            if (change.Current!.Status != "pending")
                return "already " + change.Current.Status;
            change.Write(change.Current.With(status: "done")).Publish(Event(key));
            return "done";
        });

        Assert.Equal(("done", true), (result.Outcome, result.Written));
        Assert.Equal(1, app.Channel.CountOf(key));
        Assert.Empty(await Outbox.PendingAsync(Table, job.PartitionKey));
        Assert.Equal(messages, await OutboxMessagesAsync());
        Assert.Equal(("done", 1L), ((await ReadAsync(job))!.Status, (await ReadAsync(job))!.Counter));
    }

    [Fact]
    public async Task Events_a_failed_forward_left_behind_are_forwarded_once_by_the_recovery_message()
    {
        var job = await NewJobAsync();
        var keys = new[] { "first-" + job.PartitionKey, "second-" + job.PartitionKey };
        var messages = await OutboxMessagesAsync();
        app.Channel.Failing = true;
        Transitioned<JobRow, bool> result;
        try
        {
            result = await Transitions.ApplyAsync<JobRow, bool>(Table, job.PartitionKey, job.RowKey, change =>
            {
                change.Write(change.Current!.With(status: "done")).Publish(Event(keys[0])).Publish(Event(keys[1]));
                return true;
            });
        }
        finally
        {
            app.Channel.Failing = false;
        }

        // The change is stored; its events wait in its partition, and a recovery message waits on the queue.
        Assert.True(result.Written);
        Assert.Equal("done", (await ReadAsync(job))!.Status);
        Assert.All(keys, k => Assert.Equal(0, app.Channel.CountOf(k)));
        var pending = await Outbox.PendingAsync(Table, job.PartitionKey);
        Assert.Equal(keys, pending.Select(p => p.EventKey));
        Assert.Equal(messages + 1, await OutboxMessagesAsync());

        // The queue function, given the message the transition left.
        var operation = pending[0].RowKey.Split('|')[1];
        var message = JsonSerializer.Serialize(new OutboxRecoveryMessage(Table.Name, job.PartitionKey, operation));
        await Serverless.Platform.Storage.Outbox.RecoverAsync(new QueueInvocation(app.Services, message, "message-1", 1, CancellationToken.None));
        var again = await Outbox.RecoverAsync(new OutboxRecoveryMessage(Table.Name, job.PartitionKey, operation), CancellationToken.None);

        Assert.All(keys, k => Assert.Equal(1, app.Channel.CountOf(k)));
        Assert.Empty(await Outbox.PendingAsync(Table, job.PartitionKey));
        Assert.Equal(0, again);
    }

    [Fact]
    public async Task A_decision_that_writes_nothing_publishes_nothing_even_after_an_attempt_that_would_have()
    {
        var job = await NewJobAsync();
        var key = "never-" + job.PartitionKey;
        var messages = await OutboxMessagesAsync();

        var result = await Transitions.ApplyAsync<JobRow, string>(Table, job.PartitionKey, job.RowKey, change =>
        {
            if (change.Current!.Status != "pending")
                return "nothing to do";
            // Another request finishes the job between this read and this write.
            Table.UpdateEntity(change.Current.With(status: "cancelled"), ETag.All, TableUpdateMode.Replace);
            change.Write(change.Current.With(status: "done")).Publish(Event(key));
            return "done";
        });
        var untouched = await Transitions.ApplyAsync<JobRow, string>(Table, job.PartitionKey, job.RowKey, _ => "looked");

        Assert.Equal(("nothing to do", false), (result.Outcome, result.Written));
        Assert.Equal(("looked", false), (untouched.Outcome, untouched.Written));
        Assert.Equal(0, app.Channel.CountOf(key));
        Assert.Empty(await Outbox.PendingAsync(Table, job.PartitionKey));
        Assert.Equal(messages, await OutboxMessagesAsync());
        Assert.Equal("cancelled", (await ReadAsync(job))!.Status);
    }

    [Fact]
    public async Task A_malformed_recovery_message_is_discarded()
    {
        await Serverless.Platform.Storage.Outbox.RecoverAsync(new QueueInvocation(app.Services, "not json", "message-2", 1, CancellationToken.None));
        await Serverless.Platform.Storage.Outbox.RecoverAsync(new QueueInvocation(app.Services, "{}", "message-3", 1, CancellationToken.None));
    }
}
