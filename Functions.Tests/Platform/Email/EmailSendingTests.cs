using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Email;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Tests.Platform.Email;

internal static class Emails
{
    public static EmailMessage Code(string to, string code = "493021") => new(
        [to], "Your sign-in code", Html: $"<p>Your code is <b>{code}</b></p>", Text: $"Your code is {code}",
        ReplyTo: "help@example.test", Tags: new Dictionary<string, string> { ["category"] = "otp" });

    public static async Task<string[]> QueuedTextsAsync(StorageAccount storage, string queue) =>
        (await storage.Queue(queue).PeekMessagesAsync(32)).Value.Select(m => m.MessageText).ToArray();
}

public sealed class EmailSendingTests(EmailFactory app) : IClassFixture<EmailFactory>
{
    private Mailer Mailer => app.Get<Mailer>();

    [Fact]
    public async Task Enqueueing_stores_the_email_and_queues_only_its_id_without_contacting_Resend()
    {
        var id = await Mailer.EnqueueAsync(Emails.Code("quiet@example.test"));

        Assert.Empty(app.Resend.CallsFor(id));
        Assert.Contains(id, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName));
        Assert.Equal(EmailStatus.Queued, (await app.EmailAsync(id))!.Status);
        await app.DrainEmailsAsync();
    }

    [Fact]
    public async Task The_pump_sends_the_email_to_Resend_with_the_key_and_the_email_id_as_idempotency_key()
    {
        var id = await Mailer.EnqueueAsync(Emails.Code(" buyer@example.test "));

        await app.DrainEmailsAsync();

        var call = Assert.Single(app.Resend.CallsFor(id));
        Assert.Equal("POST", call.Method);
        Assert.Equal("/emails", call.Path);
        Assert.Equal("Bearer " + EmailFactory.ApiKey, call.Authorization);
        Assert.Equal(EmailFactory.From, call.Body.GetProperty("from").GetString());
        Assert.Equal(["buyer@example.test"], call.Body.GetProperty("to").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("Your sign-in code", call.Body.GetProperty("subject").GetString());
        Assert.Equal("<p>Your code is <b>493021</b></p>", call.Body.GetProperty("html").GetString());
        Assert.Equal("Your code is 493021", call.Body.GetProperty("text").GetString());
        Assert.Equal("help@example.test", call.Body.GetProperty("reply_to").GetString());
        var tag = Assert.Single(call.Body.GetProperty("tags").EnumerateArray());
        Assert.Equal(("category", "otp"), (tag.GetProperty("name").GetString(), tag.GetProperty("value").GetString()));

        var email = (await app.EmailAsync(id))!;
        Assert.Equal(EmailStatus.Sent, email.Status);
        Assert.StartsWith("re_", email.ProviderId);
        Assert.Equal(app.Time.GetUtcNow(), email.CompletedAt);
        // The body (and the code in it) is not kept once Resend has it.
        Assert.Null(await app.Get<EmailStore>().ReadContentAsync(id));
        Assert.DoesNotContain(id, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName));
    }

    [Fact]
    public async Task A_429_puts_the_email_back_on_the_queue_for_as_long_as_retry_after_says_and_it_is_sent_later()
    {
        var storage = app.Get<StorageAccount>();
        var queuedBefore = await CountQueuedAsync(storage);
        var id = await Mailer.EnqueueAsync(Emails.Code("patient@example.test"));
        app.Resend.Script(id, ResendReply.TooManyRequests(3));

        await app.DrainEmailsAsync();

        Assert.Single(app.Resend.CallsFor(id));
        var deferred = (await app.EmailAsync(id))!;
        Assert.Equal(EmailStatus.Queued, deferred.Status);
        Assert.Equal(1, deferred.Deferrals);
        Assert.Equal(app.Time.GetUtcNow() + TimeSpan.FromSeconds(3), deferred.NextAttemptAt);
        Assert.StartsWith("429 rate_limit_exceeded", deferred.Error);
        // The queue holds the email again, but invisibly: the pump had nothing left to take.
        Assert.DoesNotContain(id, await Emails.QueuedTextsAsync(storage, Mailer.QueueName));
        Assert.Equal(queuedBefore + 1, await CountQueuedAsync(storage));

        // Three seconds later the queue delivers it again.
        app.Time.Advance(TimeSpan.FromSeconds(3));
        var trigger = app.Get<TriggerRegistry>().FindQueue(EmailDelivery.FunctionName)!;
        await app.Get<TriggerInvoker>().InvokeAsync(trigger, id, "redelivered", 1, CancellationToken.None);

        Assert.Equal(2, app.Resend.CallsFor(id).Count);
        Assert.All(app.Resend.CallsFor(id), c => Assert.Equal(id, c.IdempotencyKey));
        Assert.Equal(EmailStatus.Sent, (await app.EmailAsync(id))!.Status);
    }

    [Fact]
    public async Task Another_message_for_an_email_waiting_out_a_429_goes_back_on_the_queue_without_calling_Resend()
    {
        var storage = app.Get<StorageAccount>();
        var id = await Mailer.EnqueueAsync(Emails.Code("waiting@example.test"));
        app.Resend.Script(id, ResendReply.TooManyRequests(30));
        await app.DrainEmailsAsync();
        var queuedBefore = await CountQueuedAsync(storage);
        var trigger = app.Get<TriggerRegistry>().FindQueue(EmailDelivery.FunctionName)!;

        // A second message for the email (a duplicate, or the same idempotency key enqueued again) during the wait.
        await app.Get<TriggerInvoker>().InvokeAsync(trigger, id, "early", 1, CancellationToken.None);

        Assert.Single(app.Resend.CallsFor(id));
        var waiting = (await app.EmailAsync(id))!;
        Assert.Equal(EmailStatus.Queued, waiting.Status);
        Assert.Equal(1, waiting.Attempts);
        Assert.Equal(queuedBefore + 1, await CountQueuedAsync(storage));

        app.Time.Advance(TimeSpan.FromSeconds(30));
        await app.Get<TriggerInvoker>().InvokeAsync(trigger, id, "due", 1, CancellationToken.None);

        Assert.Equal(2, app.Resend.CallsFor(id).Count);
        Assert.Equal(EmailStatus.Sent, (await app.EmailAsync(id))!.Status);
        // The messages still waiting (invisibly) for this email would only find it sent.
        await storage.Queue(Mailer.QueueName).ClearMessagesAsync();
    }

    [Fact]
    public async Task A_server_error_or_a_dropped_connection_is_retried_by_the_queue_and_then_sent()
    {
        var id = await Mailer.EnqueueAsync(Emails.Code("retry@example.test"));
        app.Resend.Script(id, ResendReply.ServerError(), ResendReply.DroppedConnection);

        await app.DrainEmailsAsync();

        Assert.Equal(3, app.Resend.CallsFor(id).Count);
        Assert.All(app.Resend.CallsFor(id), c => Assert.Equal(id, c.IdempotencyKey));
        var email = (await app.EmailAsync(id))!;
        Assert.Equal(EmailStatus.Sent, email.Status);
        Assert.Equal(3, email.Attempts);
        Assert.DoesNotContain(id, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName + "-poison"));
    }

    [Fact]
    public async Task An_email_that_keeps_failing_is_marked_failed_after_five_attempts_and_its_message_poisoned()
    {
        var id = await Mailer.EnqueueAsync(Emails.Code("unlucky@example.test"));
        app.Resend.Script(id, Enumerable.Repeat(ResendReply.ServerError(503), 6).ToArray());

        await app.DrainEmailsAsync();

        Assert.Equal(5, app.Resend.CallsFor(id).Count);
        var email = (await app.EmailAsync(id))!;
        Assert.Equal(EmailStatus.Failed, email.Status);
        Assert.StartsWith("Gave up after 5 attempts: 503", email.Error);
        Assert.Contains(id, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName + "-poison"));
    }

    [Fact]
    public async Task A_422_fails_the_email_for_good_with_Resends_reason_and_is_not_retried()
    {
        var id = await Mailer.EnqueueAsync(Emails.Code("rejected@example.test"));
        app.Resend.Script(id, ResendReply.Unprocessable("Invalid `to` field."));

        await app.DrainEmailsAsync();

        Assert.Single(app.Resend.CallsFor(id));
        var email = (await app.EmailAsync(id))!;
        Assert.Equal(EmailStatus.Failed, email.Status);
        Assert.Equal("422 validation_error: Invalid `to` field.", email.Error);
        Assert.DoesNotContain(id, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName));
        Assert.DoesNotContain(id, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName + "-poison"));
    }

    [Fact]
    public async Task A_duplicate_queue_message_sends_the_email_once()
    {
        var id = await Mailer.EnqueueAsync(Emails.Code("twice@example.test"));
        await app.Get<StorageAccount>().Queue(Mailer.QueueName).SendMessageAsync(id);

        await app.DrainEmailsAsync();
        await app.DrainEmailsAsync();

        Assert.Single(app.Resend.CallsFor(id));
        Assert.Equal(EmailStatus.Sent, (await app.EmailAsync(id))!.Status);
    }

    [Fact]
    public async Task The_same_idempotency_key_makes_one_email()
    {
        var first = await Mailer.EnqueueAsync(Emails.Code("once@example.test", "111111"), "sign-up-otp/once@example.test/1");
        var second = await Mailer.EnqueueAsync(Emails.Code("once@example.test", "222222"), "sign-up-otp/once@example.test/1");
        var other = await Mailer.EnqueueAsync(Emails.Code("once@example.test", "333333"), "sign-up-otp/once@example.test/2");

        await app.DrainEmailsAsync();

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        var call = Assert.Single(app.Resend.CallsFor(first));
        Assert.Equal("Your code is 111111", call.Body.GetProperty("text").GetString());
        Assert.Single(app.Resend.CallsFor(other));
        // Asked again after it went out: still the same email, and nothing new is queued.
        Assert.Equal(first, await Mailer.EnqueueAsync(Emails.Code("once@example.test", "444444"), "sign-up-otp/once@example.test/1"));
        Assert.DoesNotContain(first, await Emails.QueuedTextsAsync(app.Get<StorageAccount>(), Mailer.QueueName));
    }

    public static TheoryData<EmailMessage> Unsendable => new()
    {
        new EmailMessage(["not-an-email"], "Hello", Text: "Hi"),
        new EmailMessage(["fine@example.test", "two@@example.test"], "Hello", Text: "Hi"),
        new EmailMessage([], "Hello", Text: "Hi"),
        new EmailMessage(["fine@example.test"], "Hello", Text: "Hi", ReplyTo: "nobody"),
        new EmailMessage(["fine@example.test"], "", Text: "Hi"),
        new EmailMessage(["fine@example.test"], "Hello\r\nBcc: victim@example.test", Text: "Hi"),
        new EmailMessage(["fine@example.test"], "Hello"),
        new EmailMessage(["fine@example.test"], "Hello", Text: "Hi", Tags: new Dictionary<string, string> { ["bad tag"] = "x" }),
    };

    [Theory]
    [MemberData(nameof(Unsendable))]
    public async Task An_unsendable_email_is_refused_before_anything_is_stored_or_queued(EmailMessage message)
    {
        var storage = app.Get<StorageAccount>();
        var rowsBefore = await CountRowsAsync(storage);
        var queuedBefore = await CountQueuedAsync(storage);

        await Assert.ThrowsAsync<ArgumentException>(() => Mailer.EnqueueAsync(message));

        Assert.Equal(rowsBefore, await CountRowsAsync(storage));
        Assert.Equal(queuedBefore, await CountQueuedAsync(storage));
    }

    [Fact]
    public async Task A_large_html_body_travels_through_the_table_not_the_queue()
    {
        var html = "<p>" + new string('x', 200_000) + "</p>";
        var id = await Mailer.EnqueueAsync(new EmailMessage(["newsletter@example.test"], "All the news", Html: html));

        await app.DrainEmailsAsync();

        Assert.Equal(html, Assert.Single(app.Resend.CallsFor(id)).Body.GetProperty("html").GetString());
        Assert.False(Assert.Single(app.Resend.CallsFor(id)).Body.TryGetProperty("text", out _));
    }

    /// <summary>Messages on the emails queue, the invisible ones included.</summary>
    private static async Task<int> CountQueuedAsync(StorageAccount storage) =>
        (await storage.Queue(Mailer.QueueName).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private static async Task<int> CountRowsAsync(StorageAccount storage)
    {
        var count = 0;
        await foreach (var _ in storage.Table(EmailStore.TableName).QueryAsync<TableEntity>(select: ["PartitionKey"]))
            count++;
        return count;
    }
}

public sealed class EmailHostModeTests(EmailHostModeFactory app) : IClassFixture<EmailHostModeFactory>
{
    /// <summary>What the Functions host POSTs to <c>/SendEmail</c> for one delivery of a queue message.</summary>
    private Task<HttpResponseMessage> InvokeAsync(string message, int dequeueCount) =>
        app.HostInvocationAsync(EmailDelivery.FunctionName,
            JsonSerializer.Serialize(new { Data = new { message }, Metadata = new { DequeueCount = dequeueCount, Id = "x" } }));

    [Fact]
    public async Task A_host_invocation_of_SendEmail_sends_the_email()
    {
        var id = await app.Get<Mailer>().EnqueueAsync(Emails.Code("hosted@example.test"));

        var response = await InvokeAsync(id, 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(app.Resend.CallsFor(id));
        Assert.Equal("Bearer " + EmailFactory.ApiKey, call.Authorization);
        Assert.Equal(EmailStatus.Sent, (await app.EmailAsync(id))!.Status);

        // The host delivers the same message again: answered 2xx, nothing sent twice.
        Assert.Equal(HttpStatusCode.OK, (await InvokeAsync(id, 1)).StatusCode);
        Assert.Single(app.Resend.CallsFor(id));
    }

    [Fact]
    public async Task A_server_error_fails_the_invocation_so_the_host_retries_it()
    {
        var id = await app.Get<Mailer>().EnqueueAsync(Emails.Code("hosted-retry@example.test"));
        app.Resend.Script(id, ResendReply.ServerError());

        var first = await InvokeAsync(id, 1);

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(EmailStatus.Queued, (await app.EmailAsync(id))!.Status);

        var second = await InvokeAsync(id, 2);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, app.Resend.CallsFor(id).Count);
        Assert.Equal(EmailStatus.Sent, (await app.EmailAsync(id))!.Status);
    }

    [Fact]
    public void SendEmail_is_a_queue_function_on_the_emails_queue_in_the_manifest()
    {
        var function = Assert.Single(app.Get<FunctionManifest>().Build(), f => f.Name == EmailDelivery.FunctionName);
        var binding = function.FunctionJson["bindings"]![0]!;

        Assert.Equal("queueTrigger", binding["type"]!.GetValue<string>());
        Assert.Equal(app.Prefix + Mailer.QueueName, binding["queueName"]!.GetValue<string>());
    }
}
