using Serverless.Commerce.Catalog;
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
        services.AddAuthorizationBuilder().AddPolicy(CommerceRouteGroups.Policy,
            p => p.AddAuthenticationSchemes(TokenAudiences.Commerce.Scheme).RequireAuthenticatedUser());
        return services;
    }

    public static IEndpointRouteBuilder MapCommerce(this IEndpointRouteBuilder app)
    {
        app.MapCommerceCatalog();
        return app;
    }
}
