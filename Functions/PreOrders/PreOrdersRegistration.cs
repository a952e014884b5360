using Serverless.Platform.Deadlines;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.PreOrders;

public static class PreOrdersRegistration
{
    public static IServiceCollection AddPreOrders(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(PreOrderService.TableName).Table(PreOrderService.LinkTableName));
        services.AddSingleton<PreOrderService>();
        services.AddSingleton<PreOrderSettings>();
        services.AddSingleton<Platform.Payments.IPaymentIntentHandler, PreOrderPayments>();
        services.AddDeadlineHandler(PreOrderService.ExpiryDeadline,
            invocation => invocation.Services.GetRequiredService<PreOrderService>().ExpireAsync(invocation.Key, invocation.CancellationToken));
        services.AddAuthorizationBuilder().AddPolicy(PreOrdersApi.MerchantPolicy,
            p => p.AddAuthenticationSchemes(TokenAudiences.PreOrders.Scheme).RequireAuthenticatedUser()
                .RequireClaim(PlatformClaims.ClientKind, ClientKinds.Merchant));
        services.AddSingleton<IDevelopmentSeed, PreOrdersSeed>();
        services.AddErrorShapeForPrefixes(PreOrderErrorShape.Instance, "/api", "/pay");
        return services;
    }
}

/// <summary>Development seed: the merchant <c>demo-merchant</c> / <c>demo-merchant-password</c>.</summary>
public sealed class PreOrdersSeed : IDevelopmentSeed
{
    public const string Username = "demo-merchant";
    public const string Password = "demo-merchant-password";

    public IEnumerable<string> Credentials => [$"pre-orders merchant (POST /api/auth/login): {Username} / {Password}"];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var clients = services.GetRequiredService<ApiClientDirectory>();
        if (await clients.FindAsync(Username, cancellationToken) is null)
            await clients.CreateAsync(ClientKinds.Merchant, "Demo Merchant", Username, Password, cancellationToken);
    }
}
