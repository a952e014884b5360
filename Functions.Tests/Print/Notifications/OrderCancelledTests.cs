using System.Net.Http.Json;
using Serverless.Platform.Email;
using Serverless.Print.Notifications;

namespace Serverless.Tests.Print.Notifications;

/// <summary>An order cancelled by the shop reaches the customer by email and by FCM push to each registered device.</summary>
public sealed class OrderCancelledTests(FcmFactory app) : IClassFixture<FcmFactory>
{
    private static string NewToken() => "dev-" + Guid.NewGuid().ToString("N") + ":APA91bH" + new string('q', 120);

    private PrintNotifications Notifications => app.Get<PrintNotifications>();

    private async Task<(PrintAccount Customer, List<string> Tokens)> CustomerWithDevicesAsync(int count)
    {
        var customer = await app.SignUpAsync();
        var tokens = Enumerable.Range(0, count).Select(_ => NewToken()).ToList();
        foreach (var token in tokens)
            (await app.Bearer(customer).PostAsJsonAsync("/devices", new { fcm_token = token })).EnsureSuccessStatusCode();
        return (customer, tokens);
    }

    private Task NotifyAsync(PrintAccount customer, long orderId, decimal refund = 40m) =>
        Notifications.NotifyOrderCancelledAsync(customer.Id, orderId, "Shop of Test", "Printer out of order. Please try another shop.", refund, default);

    private async Task<List<string>> DeviceTokensAsync(PrintAccount customer) =>
        (await app.Get<PrintDevices>().ListAsync(customer.Id)).Select(d => d.FcmToken).OrderBy(t => t, StringComparer.Ordinal).ToList();

    [Fact]
    public async Task The_notification_reaches_each_device_and_the_email_outbox()
    {
        var (customer, tokens) = await CustomerWithDevicesAsync(2);

        await NotifyAsync(customer, 7001);

        foreach (var token in tokens)
        {
            var delivery = Assert.Single(app.Fcm.DeliveredTo(token));
            Assert.Equal(FakeFcm.ProjectId, delivery.Project);
            Assert.Equal("Order cancelled", delivery.Title);
            Assert.Equal("Shop of Test cancelled your order #7001 and refunded ₹40: Printer out of order. Please try another shop.", delivery.Body);
            Assert.Equal(new Dictionary<string, string>
            {
                ["type"] = "order_cancelled", ["order_id"] = "7001", ["reason"] = "Printer out of order. Please try another shop.",
            }, delivery.Data);
        }
        var email = await app.Get<Outbox>().LatestAsync(customer.Email);
        Assert.NotNull(email);
        Assert.Equal("Your QPrint order #7001 was cancelled", email.Subject);
        Assert.Contains("Shop of Test cancelled your QPrint order #7001.", email.Text);
        Assert.Contains("Reason: Printer out of order. Please try another shop.", email.Text);
        Assert.Contains("A refund of ₹40 has been issued for it.", email.Text);
    }

    [Fact]
    public async Task Notifying_again_sends_no_second_email()
    {
        var (customer, tokens) = await CustomerWithDevicesAsync(1);

        await NotifyAsync(customer, 7002);
        await NotifyAsync(customer, 7002);

        Assert.Single(await app.Get<Outbox>().ListAsync(customer.Email, 100), e => e.Subject.Contains("#7002"));
        // FCM has no idempotency key: a retried notification may reach the device twice, never the mailbox.
        Assert.Equal(2, app.Fcm.DeliveredTo(tokens[0]).Count);
    }

    [Fact]
    public async Task A_device_FCM_calls_unregistered_is_forgotten()
    {
        var (customer, tokens) = await CustomerWithDevicesAsync(2);
        app.Fcm.Unregistered[tokens[0]] = true;

        await NotifyAsync(customer, 7003);

        Assert.Equal([tokens[1]], await DeviceTokensAsync(customer));
        Assert.Single(app.Fcm.DeliveredTo(tokens[1]));
    }

    [Fact]
    public async Task A_token_FCM_calls_invalid_is_forgotten()
    {
        var (customer, tokens) = await CustomerWithDevicesAsync(2);
        app.Fcm.Malformed[tokens[1]] = true;

        await NotifyAsync(customer, 7004);

        Assert.Equal([tokens[0]], await DeviceTokensAsync(customer));
    }

    [Fact]
    public async Task A_server_error_is_retried_and_the_push_delivered()
    {
        var (customer, tokens) = await CustomerWithDevicesAsync(1);
        app.Fcm.Script(500, 503);

        await NotifyAsync(customer, 7005);

        Assert.Single(app.Fcm.DeliveredTo(tokens[0]));
        Assert.Equal(3, app.Fcm.SendAttempts.Count(t => t == tokens[0]));
        Assert.Equal(tokens.Order(StringComparer.Ordinal), await DeviceTokensAsync(customer));
    }

    [Fact]
    public async Task FCM_failing_past_the_retries_surfaces_for_a_later_try_and_keeps_the_device()
    {
        var (customer, tokens) = await CustomerWithDevicesAsync(1);
        app.Fcm.Script(500, 500, 429);

        await Assert.ThrowsAsync<PushUnavailableException>(() => NotifyAsync(customer, 7006));

        Assert.Empty(app.Fcm.DeliveredTo(tokens[0]));
        Assert.Equal(tokens.Order(StringComparer.Ordinal), await DeviceTokensAsync(customer));
        // The caller's retry delivers; the email was queued once.
        await NotifyAsync(customer, 7006);
        Assert.Single(app.Fcm.DeliveredTo(tokens[0]));
        Assert.Single(await app.Get<Outbox>().ListAsync(customer.Email, 100), e => e.Subject.Contains("#7006"));
    }

    [Fact]
    public async Task The_access_token_is_reused_until_it_nears_expiry()
    {
        var (customer, _) = await CustomerWithDevicesAsync(1);
        await NotifyAsync(customer, 7007);
        var requests = app.Fcm.TokenRequests;

        await NotifyAsync(customer, 7008);
        Assert.Equal(requests, app.Fcm.TokenRequests);

        app.Time.Advance(TimeSpan.FromMinutes(59));
        await NotifyAsync(customer, 7009);
        Assert.Equal(requests + 1, app.Fcm.TokenRequests);
    }

    [Fact]
    public async Task A_customer_without_devices_gets_the_email_only()
    {
        var customer = await app.SignUpAsync();

        await NotifyAsync(customer, 7010, refund: 0);

        var email = await app.Get<Outbox>().LatestAsync(customer.Email);
        Assert.Equal("Your QPrint order #7010 was cancelled", email?.Subject);
        Assert.Contains("Nothing was charged for it.", email?.Text);
    }
}
