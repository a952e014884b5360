using Serverless.Platform.Storage;

namespace Serverless.Platform.Identity;

/// <summary>
/// Creates the first admin from <c>Admin__Email</c> and <c>Admin__Password</c> when no account has that email yet.
/// Runs in every environment once storage is ready; an existing account is never overwritten.
/// </summary>
public sealed class AdminBootstrap(IConfiguration configuration, ILogger<AdminBootstrap> logger) : IStartupTask
{
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var email = configuration["Admin:Email"];
        var password = configuration["Admin:Password"];
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password))
            return;
        var users = services.GetRequiredService<UserDirectory>();
        if (await users.IsLoginHeldAsync(email, cancellationToken))
            return;
        var created = await users.CreateAsync(new NewUser("admin", email, null, password, [Roles.Admin]), cancellationToken);
        if (!created.Created)
            created = await users.CreateAsync(new NewUser(null, email, null, password, [Roles.Admin]), cancellationToken);
        if (created.Created)
            logger.LogInformation("Created the first admin account {Email}", email);
    }
}

/// <summary>
/// A surface's demo data for local development: accounts and objects a newcomer can try the API with. Runs only in
/// the Development environment, after the first admin exists, and must be safe to run on every start.
/// </summary>
public interface IDevelopmentSeed
{
    /// <summary>Lines like "pre-orders merchant: demo-merchant / demo-merchant-password", printed by ./dev run.</summary>
    IEnumerable<string> Credentials { get; }

    Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken);
}

/// <summary>Runs every <see cref="IDevelopmentSeed"/> in Development and prints the demo credentials.</summary>
public sealed class DevelopmentSeedRunner(IHostEnvironment environment, IEnumerable<IDevelopmentSeed> seeds, IConfiguration configuration) : IStartupTask
{
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment())
            return;
        foreach (var seed in seeds)
            await seed.SeedAsync(services, cancellationToken);
        var lines = new List<string>();
        if (configuration["Admin:Email"] is { Length: > 0 } email)
            lines.Add($"platform admin: {email} / {configuration["Admin:Password"]}");
        lines.AddRange(seeds.SelectMany(s => s.Credentials));
        // Demo credentials of a development seed, printed to the console only (never to telemetry).
        Console.WriteLine("Development seed applied. Demo credentials:");
        foreach (var line in lines)
            Console.WriteLine("  " + line);
    }
}
