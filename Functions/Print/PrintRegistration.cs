using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Payouts;

namespace Serverless.Print;

/// <summary>The print-shop platform (document 004): bare paths such as <c>/login</c> and <c>/profile</c>.</summary>
public static class PrintRegistration
{
    public static IServiceCollection AddPrint(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(OneTimeCodes.TableName).Table(AppDownloadsStore.TableName));
        services.AddOptions<OneTimeCodeOptions>().BindConfiguration(OneTimeCodeOptions.Section);
        services.AddSingleton<OneTimeCodes>();
        services.AddUserRoles(PrintRoles.Customer, PrintRoles.Shopkeeper);
        services.AddSingleton<IPhoneNumberCanonicalizer, IndianMobileNumbers>();
        services.AddSingleton<IUserSessionRows, PrintSessionRows>();
        services.AddSingleton<ILegacyUserRowMap, LegacyPrintRows>();
        services.AddSingleton<PrintSettings>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<PrintSettings>());
        services.AddSingleton<PrintAccounts>();
        services.AddSingleton<Wallet.PrintMoneySettings>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<Wallet.PrintMoneySettings>());
        services.AddSingleton<Wallet.PrintWallets>();
        services.AddPrintPayouts();
        services.AddSingleton<SignupTokens>();
        services.AddSingleton<Referrals>();
        services.AddSingleton<AppDownloadsStore>();
        services.AddPrintAuth();
        services.AddSingleton<IDevelopmentSeed, PrintSeed>();
        return services;
    }

    /// <summary>Checks each print request's session (after authorization, before the endpoint).</summary>
    public static WebApplication UsePrint(this WebApplication app)
    {
        app.UseMiddleware<PrintSessionMiddleware>();
        return app;
    }

    public static void MapPrint(this IEndpointRouteBuilder app)
    {
        app.MapPrintPublicPages();
        app.MapPrintAccounts();
        app.MapPrintReferrals();
        app.MapPrintPayouts();
    }
}

/// <summary>
/// Development seed: customer <c>demo-customer</c> and shopkeeper <c>demo-shop</c> (shop "Demo Print Shop" in
/// Bengaluru, open), both with the password <c>demo-password</c>.
/// </summary>
public sealed class PrintSeed : IDevelopmentSeed
{
    public const string Customer = "demo-customer";
    public const string Shopkeeper = "demo-shop";
    public const string Password = "demo-password";

    public IEnumerable<string> Credentials =>
    [
        $"print-shop customer (POST /login): {Customer} / {Password}",
        $"print-shop shopkeeper (POST /login): {Shopkeeper} / {Password}",
    ];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var accounts = services.GetRequiredService<PrintAccounts>();
        var users = services.GetRequiredService<UserDirectory>();
        if (await users.FindByLoginAsync(Customer, cancellationToken) is null)
            await accounts.RegisterAsync(new Registration("Demo Customer", Customer, "demo-customer@example.com", "9000000001", Password,
                PrintRoles.Customer, null, null, null, null, null), cancellationToken);
        if (await users.FindByLoginAsync(Shopkeeper, cancellationToken) is null)
            await accounts.RegisterAsync(new Registration("Demo Shopkeeper", Shopkeeper, "demo-shop@example.com", "9000000002", Password,
                PrintRoles.Shopkeeper, "Demo Print Shop", 12.9716, 77.5946, "MG Road, Bengaluru", null), cancellationToken);
    }
}
