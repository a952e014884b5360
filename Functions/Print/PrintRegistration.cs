using Serverless.Platform.Deadlines;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Admin.Users;
using Serverless.Print.Admin.Stats;
using Serverless.Print.Files;
using Serverless.Print.Notifications;
using Serverless.Print.Payouts;
using Serverless.Print.Shops;

namespace Serverless.Print;

/// <summary>The print-shop platform (document 004): bare paths such as <c>/login</c> and <c>/profile</c>.</summary>
public static class PrintRegistration
{
    /// <summary>
    /// The first segment of every print path (the document's paths are bare): a request under one of them that matches
    /// no endpoint is answered in the print error shape. A test holds this list to the endpoint table.
    /// </summary>
    public static readonly string[] TopLevelPaths =
    [
        "/admin", "/app-downloads", "/calculate-cost", "/create-payment-order", "/csrf-token", "/delete-data", "/devices", "/file",
        "/forgot-password", "/forgot-username", "/login", "/logout", "/my-files", "/my-orders", "/payment", "/payment-order", "/profile",
        "/queue", "/r", "/referral", "/register", "/reset-password", "/shop", "/shopkeeper", "/shops", "/upload", "/wallet", "/withdraw",
    ];

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
        services.AddSingleton<Payments.PaymentOrders>();
        services.AddStorage(s => s.Table(Payments.PaymentOrderArchive.TableName));
        services.AddSingleton<IPrintAccountCleanup, Payments.PaymentOrderArchive>();
        services.AddSingleton<Platform.Payments.IPaymentIntentHandler, Payments.PrintPaymentHandler>();
        services.AddSingleton<IOutboxChannel, Payments.PrintRefundChannel>();
        services.AddDeadlineHandler(Payments.PaymentOrders.ExpiryDeadline, invocation =>
        {
            var key = invocation.Key.Split('|');
            return key.Length == 2 && long.TryParse(key[0], out var userId) && long.TryParse(key[1], out var id)
                ? invocation.Services.GetRequiredService<Payments.PaymentOrders>().ExpireAsync(userId, id, force: false, invocation.CancellationToken)
                : Task.CompletedTask;
        });
        services.AddSingleton<Wallet.ReferralCredits>();
        services.AddSingleton<IPrintAccountDeletionCheck, Wallet.WalletDeletionCheck>();
        services.AddSingleton<IPrintAccountCleanup, Wallet.WalletCleanup>();
        services.AddSingleton<Payments.IPrintQualifyingAction, Payments.ReferralOnQualifyingAction>();
        services.AddPrintPayouts();
        Admin.Payouts.AdminPayoutsRegistration.AddPrintAdminPayouts(services);
        services.AddPrintFiles();
        services.AddPrintNotifications();
        services.AddPrintShops();
        Admin.Orders.AdminOrdersApi.AddPrintAdminOrders(services);
        services.AddPrintAdminUsers();
        services.AddPrintAdminStats();
        services.AddSingleton<SignupTokens>();
        services.AddSingleton<Referrals>();
        services.AddSingleton<AppDownloadsStore>();
        services.AddPrintAuth();
        services.AddSingleton<IDevelopmentSeed, PrintSeed>();
        services.AddSingleton<IDevelopmentSeed, FilesSeed>();
        services.AddErrorShapeForPrefixes(PrintErrorShape.Instance, TopLevelPaths);
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
        Payments.PrintPaymentsApi.MapPrintPayments(app);
        app.MapPrintPayouts();
        Admin.Payouts.AdminPayoutsApi.MapPrintAdminPayouts(app);
        app.MapPrintFiles();
        app.MapPrintNotifications();
        app.MapPrintShops();
        Admin.Orders.AdminOrdersApi.MapPrintAdminOrders(app);
        app.MapPrintAdminUsers();
        app.MapPrintAdminStats();
    }
}

/// <summary>
/// Development seed: customer <c>demo-customer</c> and shopkeeper <c>demo-shop</c> (shop "Demo Print Shop" in
/// Bengaluru, open), both with the password <c>demo-password</c>. The demo customer's wallet holds ₹500, credited
/// through the ledger under one movement key, so every start credits it once.
/// </summary>
public sealed class PrintSeed : IDevelopmentSeed
{
    public const string Customer = "demo-customer";
    public const string Shopkeeper = "demo-shop";
    public const string Password = "demo-password";

    public const string WalletSeedKey = Wallet.WalletKeys.Seed + "demo";
    public const long CustomerWalletMinor = 50_000;

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
        if (await users.FindByLoginAsync(Customer, cancellationToken) is { } customer)
        {
            var wallets = services.GetRequiredService<Wallet.PrintWallets>();
            var credited = await wallets.Ledger.CreditAsync(Wallet.PrintWallets.Account(customer.Id), WalletSeedKey, CustomerWalletMinor,
                memo: "Demo wallet balance", cancellationToken: cancellationToken);
            if (!credited.Moved)
                throw new InvalidOperationException($"The demo customer's wallet could not be seeded: {credited.Status}.");
        }
    }
}
