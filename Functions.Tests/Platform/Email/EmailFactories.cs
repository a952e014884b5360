using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Platform.Email;
using Serverless.Platform.Hosting;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Email;

/// <summary>Every log line the app wrote, formatted, with its level and the exception it carried (whose stack a console would print).</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Entries.Enqueue((logLevel, category, formatter(state, exception), exception));
    }
}

/// <summary>The app with email going through a fake Resend on loopback, and the outbox route exposed.</summary>
public class EmailFactory : PlatformFactory
{
    public const string ApiKey = "re_test_0123456789abcdef";
    public const string From = "Serverless Shop <no-reply@example.test>";

    public EmailFactory()
    {
        With("RESEND_API_KEY", ApiKey);
        With("EMAIL_FROM", From);
        With("Email:ExposeOutbox", "true");
    }

    public FakeResend Resend { get; } = new();

    public LogCapture Logs { get; } = new();

    public override async Task InitializeAsync()
    {
        await Resend.StartAsync();
        With("Resend:BaseUrl", Resend.Url);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Resend.DisposeAsync();
    }

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.AddSingleton<ILoggerProvider>(Logs);

    /// <summary>Runs the SendEmail function over the emails queue, as the standalone pump does, until it is empty.</summary>
    public Task<int> DrainEmailsAsync() =>
        Get<StandalonePumps>().CreatePump(EmailDelivery.FunctionName).DrainAsync(CancellationToken.None);

    public Task<EmailRecord?> EmailAsync(string id) => Get<EmailStore>().FindAsync(id);
}

/// <summary>No RESEND_API_KEY: emails go to the development outbox.</summary>
public sealed class OutboxFactory : EmailFactory
{
    public OutboxFactory() => With("RESEND_API_KEY", "");
}

/// <summary>The outbox switched off explicitly.</summary>
public sealed class HiddenOutboxFactory : EmailFactory
{
    public HiddenOutboxFactory()
    {
        With("RESEND_API_KEY", "");
        With("Email:ExposeOutbox", "false");
    }
}

/// <summary>The Development environment with no outbox setting at all: the outbox is on by default.</summary>
public sealed class DevelopmentOutboxFactory : EmailFactory
{
    public DevelopmentOutboxFactory()
    {
        With("RESEND_API_KEY", "");
        With("Email:ExposeOutbox", null);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Development");
    }
}

/// <summary>The app as the Functions host runs it, sending through the fake Resend.</summary>
public sealed class EmailHostModeFactory : EmailFactory
{
    public EmailHostModeFactory() => RunAsFunctionsHost();
}
