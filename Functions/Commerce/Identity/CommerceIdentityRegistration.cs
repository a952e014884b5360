using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Identity;

/// <summary>Commerce accounts, sign-in, refresh tokens and integrations (tables <c>commercemembers</c>, <c>commercesessions</c>).</summary>
public static class CommerceIdentityRegistration
{
    public static IServiceCollection AddCommerceIdentity(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(CommerceAccounts.MembersTable).Table(CommerceSessions.TableName));
        services.AddSingleton<CommerceIdentitySettings>();
        services.AddSingleton<CommerceAccounts>();
        services.AddSingleton<CommerceSessions>();
        services.AddSingleton<CommerceIntegrations>();
        services.AddSingleton<IDevelopmentSeed, CommerceIdentitySeed>();
        return services;
    }
}

/// <summary>
/// Development seed for company <see cref="CompanyId"/>: the buyer <c>demo-buyer@example.com</c> (role user), the super
/// admin <c>demo-commerce-admin@example.com</c> (both <c>demo-password</c>) and the integration
/// <c>demo-commerce-integration</c>. It writes accounts and memberships only, not the company's catalogue rows.
/// </summary>
public sealed class CommerceIdentitySeed : IDevelopmentSeed
{
    public const string CompanyId = "11111111-1111-4111-8111-111111111111";
    public const string BuyerEmail = "demo-buyer@example.com";
    public const string AdminEmail = "demo-commerce-admin@example.com";
    public const string Password = "demo-password";
    public const string IntegrationId = "demo-commerce-integration";
    public const string IntegrationSecret = "demo-commerce-integration-secret";

    public IEnumerable<string> Credentials =>
    [
        $"commerce buyer (POST /auth/signin, companyId {CompanyId}): {BuyerEmail} / {Password}",
        $"commerce super admin (POST /auth/signin, companyId {CompanyId}): {AdminEmail} / {Password}",
        $"commerce integration (POST /auth/token, client credentials): {IntegrationId} / {IntegrationSecret}",
    ];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var accounts = services.GetRequiredService<CommerceAccounts>();
        // Fixed development credentials: the store does not apply the password rule (the admin API does), so these
        // are seeded as they are; "demo-password" happens to satisfy the rule anyway.
        foreach (var (email, name, role) in new[]
                 {
                     (BuyerEmail, "Demo Buyer", CommerceRoles.User), (AdminEmail, "Demo Commerce Admin", CommerceRoles.SuperAdmin),
                 })
        {
            if (await accounts.FindAsync(CompanyId, email, cancellationToken) is null)
                await accounts.CreateAsync(CompanyId, email, Password, name, [role], cancellationToken);
        }
        var integrations = services.GetRequiredService<CommerceIntegrations>();
        if (await services.GetRequiredService<ApiClientDirectory>().FindAsync(IntegrationId, cancellationToken) is null)
            await integrations.CreateAsync(CompanyId, "Demo Commerce Integration", IntegrationId, IntegrationSecret, cancellationToken);
    }
}
