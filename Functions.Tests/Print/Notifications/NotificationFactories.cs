namespace Serverless.Tests.Print.Notifications;

/// <summary>The print-shop app sending pushes to <see cref="FakeFcm"/>, retrying at once (no wall-clock waits).</summary>
public sealed class FcmFactory : PrintFactory
{
    public FakeFcm Fcm { get; } = new();

    public override async Task InitializeAsync()
    {
        await Fcm.StartAsync();
        With("Print:Fcm:ProjectId", FakeFcm.ProjectId);
        With("Print:Fcm:ServiceAccountJson", Fcm.ServiceAccountJson());
        With("Print:Fcm:BaseUrl", Fcm.Url);
        With("Print:Fcm:Retries", "2");
        With("Print:Fcm:RetryDelay", "00:00:00");
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Fcm.DisposeAsync();
    }
}

/// <summary>The print-shop app without FCM settings, its development outboxes served.</summary>
public sealed class NoFcmFactory : PrintFactory
{
    public NoFcmFactory() => With("Email:ExposeOutbox", "true");
}
