using Serverless.Commerce.Catalog;
using Serverless.Commerce.Orders;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.Commerce.Identity;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Commerce;

/// <summary>Commerce orders of product tokens (document 002): routes under <c>/companies/{companyId}/</c>.</summary>
public static class CommerceRegistration
{
    public static IServiceCollection AddCommerce(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(CommerceCatalog.CurrenciesTable).Table(CommerceCatalog.CompaniesTable)
            .Table(CommerceCatalog.ProductsTable).Table(CommerceCatalog.TokensTable));
        services.AddSingleton<CommerceCatalog>();
        services.AddCommerceCatalog();
        services.AddScoped<CommerceCaller>();
        services.AddUserRoles(CommerceRoles.Admin);
        services.AddCommerceOrders();
        services.AddCommerceIdentity();
        services.AddAuthorizationBuilder().AddPolicy(CommerceRouteGroups.Policy,
            p => p.AddAuthenticationSchemes(TokenAudiences.Commerce.Scheme).RequireAuthenticatedUser());
        // Not "/admin" itself: print's admin routes live there too.
        services.AddErrorShapeForPrefixes(CommerceErrorShape.Instance, "/auth", "/currencies", "/companies", "/admin/currencies", "/admin/companies");
        return services;
    }

    public static IEndpointRouteBuilder MapCommerce(this IEndpointRouteBuilder app)
    {
        app.MapCommerceOrders();
        app.MapCommerceIdentity();
        app.MapCommerceCatalog();
        return app;
    }

    private static IServiceCollection AddCommerceOrders(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(CommerceOrders.TableName).Table(CommerceOrders.LinkTableName));
        services.AddSingleton<CommerceSettings>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<CommerceSettings>());
        services.AddSingleton<GasFeeSigner>();
        services.AddSingleton<TokenBookings>();
        services.AddSingleton<CommerceOrders>();
        services.AddSingleton<Platform.Payments.IPaymentIntentHandler, CommercePaymentHandler>();
        services.AddSingleton<IOutboxChannel, OrderDelivery>();
        services.AddQueueTrigger(OrderDelivery.FunctionName, OrderDelivery.QueueName, OrderDelivery.HandleAsync);
        services.AddDeadlineHandler(CommerceOrders.ExpiryDeadline, invocation =>
            CommerceOrders.ParseKey(invocation.Key) is var (partition, id)
                ? invocation.Services.GetRequiredService<CommerceOrders>().ExpireAsync(partition, id, invocation.CancellationToken)
                : Task.CompletedTask);
        return services;
    }
}
