using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Time.Testing;
using Azure.Data.Tables;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Hosting;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// The app, in process, against the shared Azurite with its own storage prefix, on a fake clock. Clients it makes
/// carry real JWTs signed with the app's key, so requests pass through real authentication.
/// </summary>
public class PlatformFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string SigningKey = "test-signing-key-that-is-long-enough-0123456789";
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "admin-password-for-tests";

    private readonly Dictionary<string, string?> _settings = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    public string Prefix { get; } = "t" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The storage connection string; <see cref="Azurite"/> unless a test points it elsewhere.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Wait for storage to be provisioned before the first test (off for tests of storage being down).</summary>
    public bool WaitForStorage { get; set; } = true;

    /// <summary>Adds or overrides a setting (configuration key syntax, e.g. <c>RateLimits:Auth:PermitLimit</c>).</summary>
    public PlatformFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>A proxy in front of the table endpoint that can lose storage's answers, when a test class asks for one.</summary>
    public LossyStorageProxy? Proxy { get; private set; }

    /// <summary>Puts <see cref="Proxy"/> between the app and the table endpoint (call in the factory's constructor).</summary>
    protected void FrontTablesWithLossyProxy() => Proxy = new LossyStorageProxy();

    public virtual async Task InitializeAsync()
    {
        ConnectionString ??= await Azurite.ConnectionStringAsync();
        if (Proxy is not null)
            ConnectionString = await Proxy.FrontTableEndpointAsync(ConnectionString);
        if (WaitForStorage)
            await Services.GetRequiredService<StorageReadiness>().WaitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (ConnectionString is not null && WaitForStorage)
            await DeleteStorageAsync();
        await DisposeAsync();
        if (Proxy is not null)
            await Proxy.DisposeAsync();
    }

    /// <summary>
    /// Runs the deadline pump until no deadline due by the fake clock is left. Deadlines still in the future keep
    /// coming back (visibility is off in tests), so "the queue is empty" is not the end condition here.
    /// </summary>
    public async Task RunDeadlinesAsync()
    {
        var table = Get<StorageAccount>().Table(DeadlineScheduler.TableName);
        var pump = Get<StandalonePumps>().CreatePump(DeadlineRegistration.DueFunction);
        for (var batch = 0; batch < 100; batch++)
        {
            var now = Time.GetUtcNow();
            var due = table.QueryAsync<DeadlineRow>(TableClient.CreateQueryFilter($"DueAt le {now}"), maxPerPage: 1);
            await using var rows = due.GetAsyncEnumerator();
            if (!await rows.MoveNextAsync())
                return;
            await pump.RunOnceAsync(CancellationToken.None);
        }
        throw new TimeoutException("Deadlines that are due were not handled after 100 batches.");
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>The port the app listens on when it runs as under the Functions host (see <see cref="RunAsFunctionsHost"/>).</summary>
    public int? HostPort { get; private set; }

    /// <summary>
    /// Runs the app as the Functions host would: on loopback at FUNCTIONS_CUSTOMHANDLER_PORT, over real HTTP, with
    /// trigger invocation endpoints mapped and the standalone pumps off unless a test drives them.
    /// </summary>
    protected void RunAsFunctionsHost()
    {
        HostPort = Azurite.FreePort();
        With("FUNCTIONS_CUSTOMHANDLER_PORT", HostPort.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        UseKestrel();
    }

    /// <summary>Where the app listens for a browser, once <see cref="ServeOnLoopback"/> has put it on a socket.</summary>
    public Uri BaseAddress => _loopback ?? throw new InvalidOperationException("Call ServeOnLoopback() in the factory's constructor first.");

    private Uri? _loopback;

    /// <summary>
    /// Serves the app on a real socket (Kestrel on 127.0.0.1, on a free port) that is also its <c>PublicBaseUrl</c>, so
    /// a browser can open its pages and the links it hands out (payment returns, emailed links) lead back to it.
    /// </summary>
    protected void ServeOnLoopback()
    {
        var port = Azurite.FreePort();
        UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port));
        _loopback = new Uri($"http://127.0.0.1:{port}/");
        With("PublicBaseUrl", $"http://127.0.0.1:{port}");
    }

    /// <summary>POSTs a host-shaped invocation payload to <c>/{function}</c>, as the Functions host does.</summary>
    public async Task<HttpResponseMessage> HostInvocationAsync(string function, string payload)
    {
        if (HostPort is null)
            throw new InvalidOperationException("Call RunAsFunctionsHost() in the factory's constructor first.");
        StartServer();
        using var host = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HostPort}") };
        return await host.PostAsync("/" + function, new StringContent(payload, System.Text.Encoding.UTF8, "application/json"));
    }

    /// <summary>
    /// The audience of the surface a test class exercises: <see cref="CreateClientFor"/> and a non-admin
    /// <see cref="CreateClientAs"/> mint tokens for it, so role and kind checks inside the surface are what they meet.
    /// </summary>
    public virtual TokenAudience Audience => TokenAudiences.Platform;

    /// <summary>
    /// A client authenticated as a user with these roles: an admin gets a platform token (the operator APIs take
    /// those), anyone else one of <see cref="Audience"/>. For a platform token the account row is stored when
    /// missing, as a sign-in would have found it, so the per-request session check passes.
    /// </summary>
    public HttpClient CreateClientAs(long userId, params string[] roles)
    {
        var audience = roles.Contains(Roles.Admin) ? TokenAudiences.Platform : Audience;
        var sessionVersion = audience == TokenAudiences.Platform ? EnsureAccount(userId, roles).SessionVersion : 0;
        return WithToken(IssueForUser(audience, userId, roles, sessionVersion));
    }

    /// <summary>A platform token for this user, as <c>POST /platform/auth/token</c> issues it.</summary>
    public string IssueForUser(TokenAudience audience, long userId, string[] roles, int sessionVersion = 0) =>
        Get<TokenService>().IssueForUser(audience, userId, "user" + userId, roles, sessionVersion).Token;

    private UserAccount EnsureAccount(long userId, string[] roles)
    {
        var table = Get<StorageAccount>().Table(UserDirectory.TableName);
        var existing = table.GetEntityIfExists<UserAccount>(UserDirectory.PartitionOf(userId), UserDirectory.AccountRow);
        if (existing.HasValue && existing.Value is { } account)
            return account;
        var created = new UserAccount
        {
            PartitionKey = UserDirectory.PartitionOf(userId), Id = userId, Username = "user" + userId,
            Roles = string.Join(',', roles), CreatedAt = Time.GetUtcNow(),
        };
        table.UpsertEntity(created);
        return created;
    }

    /// <summary>A client authenticated as an API client of this kind, with a token of <see cref="Audience"/>.</summary>
    public HttpClient CreateClientFor(string clientId, string clientKind)
    {
        var token = Get<TokenService>().IssueForClient(Audience, clientId, clientId, clientKind).Token;
        return WithToken(token);
    }

    public HttpClient WithToken(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("LOCAL_SETTINGS_PATH", Path.Combine(Path.GetTempPath(), "no-local-settings.json"));
        builder.UseSetting("AzureWebJobsStorage", ConnectionString);
        builder.UseSetting("Storage:Prefix", Prefix);
        builder.UseSetting("Jwt:SigningKey", SigningKey);
        builder.UseSetting("Admin:Email", AdminEmail);
        builder.UseSetting("Admin:Password", AdminPassword);
        builder.UseSetting("Triggers:RunPumps", "false");
        builder.UseSetting("Triggers:RetryDelay", "00:00:00");
        builder.UseSetting("Metering:ExposeStorageCount", "true");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        // The test run's console shows results: the app under test writes only warnings and errors there. Other
        // providers (a test's LogCapture) still receive every level the app's settings let through.
        builder.ConfigureLogging(logging => logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning)
            // The in-memory test server cannot limit request bodies, and routing warns so on every such request.
            .AddFilter<ConsoleLoggerProvider>("Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware", LogLevel.Error));
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Time);
            // Every answer a test gets is held to the document this app serves (see ContractRecorder).
            services.AddSingleton<IStartupFilter>(new ContractRecorder.StartupFilter());
            ConfigureTestServices(services);
        });
    }

    /// <summary>Extra registrations a test class needs (test triggers, fakes).</summary>
    protected virtual void ConfigureTestServices(IServiceCollection services)
    {
    }

    private async Task DeleteStorageAsync()
    {
        var storage = Get<StorageAccount>();
        try
        {
            var work = storage.Catalog.Tables.Select(t => storage.Table(t).DeleteAsync())
                .Concat<Task>(storage.Catalog.Queues.Select(q => storage.Queue(q).DeleteIfExistsAsync()))
                .Concat(storage.Catalog.Containers.Select(c => storage.Container(c).DeleteIfExistsAsync()));
            await Task.WhenAll(work);
        }
        catch (Azure.RequestFailedException)
        {
            // Best effort: the emulator is in memory and goes away with the run anyway.
        }
    }
}
