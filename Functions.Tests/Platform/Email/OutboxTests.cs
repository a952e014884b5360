using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Serverless.Platform.Email;
using Serverless.Platform.Hosting;

namespace Serverless.Tests.Platform.Email;

public sealed class OutboxTests(OutboxFactory app) : IClassFixture<OutboxFactory>
{
    [Fact]
    public async Task Without_an_api_key_emails_go_to_the_outbox_which_lists_them_newest_first()
    {
        var mailer = app.Get<Mailer>();
        var first = await mailer.EnqueueAsync(Emails.Code("reader@example.test", "100001"));
        app.Time.Advance(TimeSpan.FromMinutes(1));
        var second = await mailer.EnqueueAsync(Emails.Code("reader@example.test", "100002"));
        await mailer.EnqueueAsync(Emails.Code("someone-else@example.test"));

        await app.DrainEmailsAsync();

        Assert.Empty(app.Resend.Calls);
        Assert.Equal(EmailStatus.Outbox, (await app.EmailAsync(first))!.Status);
        var response = await app.CreateClient().GetAsync("/dev/outbox?to=reader@example.test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var listed = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal([second, first], listed.Select(e => e.GetProperty("id").GetString()));
        var newest = listed[0];
        Assert.Equal(["reader@example.test"], newest.GetProperty("to").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("Your sign-in code", newest.GetProperty("subject").GetString());
        Assert.Equal("Your code is 100002", newest.GetProperty("text").GetString());
        Assert.Equal("<p>Your code is <b>100002</b></p>", newest.GetProperty("html").GetString());
        Assert.Equal("outbox", newest.GetProperty("status").GetString());
        Assert.Equal(app.Time.GetUtcNow(), newest.GetProperty("created_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Code_reads_the_outbox_too_even_before_the_email_function_has_run()
    {
        await app.Get<Mailer>().EnqueueAsync(Emails.Code("otp-reader@example.test", "654321"));

        var latest = await app.Get<Outbox>().LatestAsync("OTP-Reader@example.test");

        Assert.NotNull(latest);
        Assert.Equal("Your code is 654321", latest.Text);
        Assert.Equal(EmailStatus.Queued, latest.Status);
    }

    [Fact]
    public async Task The_outbox_log_line_names_recipient_and_subject_but_outside_Development_not_the_body()
    {
        var id = await app.Get<Mailer>().EnqueueAsync(Emails.Code("logged@example.test", "777888"));

        await app.DrainEmailsAsync();

        var line = Assert.Single(app.Logs.Entries, e => e.Category == typeof(EmailDelivery).FullName && e.Message.Contains(id));
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("logged@example.test", line.Message);
        Assert.Contains("Your sign-in code", line.Message);
        Assert.DoesNotContain("777888", line.Message);
    }

    [Theory]
    [InlineData("/dev/outbox?to=not-an-email")]
    [InlineData("/dev/outbox?limit=0")]
    [InlineData("/dev/outbox?limit=1000")]
    [InlineData("/dev/outbox?limit=many")]
    public async Task Bad_outbox_queries_are_400(string path) =>
        Assert.Equal(HttpStatusCode.BadRequest, (await app.CreateClient().GetAsync(path)).StatusCode);

    [Fact]
    public async Task The_limit_caps_how_many_emails_are_listed()
    {
        var mailer = app.Get<Mailer>();
        for (var i = 0; i < 3; i++)
            await mailer.EnqueueAsync(Emails.Code("many@example.test"));

        var listed = await app.CreateClient().GetFromJsonAsync<JsonElement>("/dev/outbox?to=many@example.test&limit=2");

        Assert.Equal(2, listed.GetArrayLength());
    }
}

public sealed class HiddenOutboxTests(HiddenOutboxFactory app) : IClassFixture<HiddenOutboxFactory>
{
    [Fact]
    public async Task With_the_outbox_switched_off_the_route_does_not_exist()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync("/dev/outbox")).StatusCode);
        Assert.DoesNotContain(app.Get<FunctionManifest>().Build(), f => f.Name == "DevOutbox");
        Assert.DoesNotContain(app.Get<EndpointDataSource>().Endpoints, e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == "DevOutbox");
    }
}

public sealed class DevelopmentOutboxTests(DevelopmentOutboxFactory app) : IClassFixture<DevelopmentOutboxFactory>
{
    [Fact]
    public async Task In_Development_the_outbox_is_on_by_default_and_the_log_shows_the_text_body()
    {
        var id = await app.Get<Mailer>().EnqueueAsync(Emails.Code("developer@example.test", "246810"));

        await app.DrainEmailsAsync();

        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/dev/outbox")).StatusCode);
        Assert.Contains(app.Get<FunctionManifest>().Build(), f => f.Name == "DevOutbox");
        var line = Assert.Single(app.Logs.Entries, e => e.Category == typeof(EmailDelivery).FullName && e.Message.Contains(id));
        Assert.Contains("Your code is 246810", line.Message);
    }
}
