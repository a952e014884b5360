using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Email;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Payments;
using Serverless.Platform.Observability;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.Platform;

/// <summary>The shared platform every surface stands on: hosting, storage, identity, HTTP conventions, telemetry.</summary>
public static class PlatformRegistration
{
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        configuration.AddDefaultLogLevels();
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(HostingMode.PortVariable)))
            configuration.AddLocalSettings(builder.Environment.ContentRootPath);
        var mode = HostingMode.From(configuration);
        var maxBody = configuration.GetValue("Http:MaxRequestBodyBytes", DefaultMaxRequestBodyBytes);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = maxBody;
            // Under the Functions host, listen where it forwards to, and only on loopback.
            if (mode.CustomHandlerPort is { } port)
                kestrel.Listen(IPAddress.Loopback, port);
        });

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(mode);
        services.AddHttpContextAccessor();

        // Storage
        services.AddStorage(s => s.Table(StorageReadiness.CatalogTable).Table(IdempotencyMiddleware.TableName).Table(IdBlockAllocator.TableName)
            .Table(UserDirectory.TableName).Table(ApiClientDirectory.TableName));
        services.AddSingleton<StorageAccount>();
        services.AddSingleton<StorageReadiness>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageReadiness>());
        services.AddSingleton<IdBlockAllocator>(sp => new IdBlockAllocator(sp.GetRequiredService<StorageAccount>()));
        services.AddOutbox();

        // Triggers and the function manifest
        services.AddOptions<TriggerOptions>().BindConfiguration(TriggerOptions.Section);
        services.AddSingleton<TriggerRegistry>();
        services.AddSingleton<TriggerInvoker>();
        services.AddSingleton<StandalonePumps>();
        services.AddHostedService(sp => sp.GetRequiredService<StandalonePumps>());
        services.AddSingleton<FunctionManifest>();
        services.AddTimerTrigger("IdempotencySweep", "0 17 * * * *", IdempotencyMiddleware.SweepAsync);
        services.AddDeadlines(configuration);
        services.AddPayments(configuration, builder.Environment);

        // Identity
        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.Section)
            .Validate(o => System.Text.Encoding.UTF8.GetByteCount(o.SigningKey) >= 32,
                "Jwt__SigningKey must be set to a secret of at least 32 characters (see local.settings.sample.json).")
            .ValidateOnStart();
        services.AddSingleton<TokenService>();
        services.AddSingleton<StoredResponseCipher>();
        services.AddSingleton<SecretSealer>();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();
        var authentication = services.AddAuthentication(TokenAudiences.Platform.Scheme);
        foreach (var audience in TokenAudiences.All)
            authentication.AddJwtBearer(audience.Scheme);
        services.AddAuthorizationBuilder()
            .AddPolicy(PlatformApi.UserPolicy, p => p.AddAuthenticationSchemes(TokenAudiences.Platform.Scheme).RequireAuthenticatedUser())
            .AddPolicy(PlatformApi.AdminPolicy, p => p.AddAuthenticationSchemes(TokenAudiences.Platform.Scheme).RequireAuthenticatedUser()
                .RequireClaim(PlatformClaims.Kind, PlatformClaims.UserKind).RequireClaim(PlatformClaims.Role, Roles.Admin));
        services.AddScoped<CurrentUser>();
        services.AddUserRoles(Roles.Admin, Roles.User, Roles.SuperAdmin, Roles.Integration);
        services.AddSingleton<UserRoles>();
        // A surface whose users share a numbering plan registers its own (the last registration is the one used).
        services.AddSingleton<IPhoneNumberCanonicalizer, DigitsOnlyPhoneNumbers>();
        services.AddSingleton<UserDirectory>();
        services.AddTimerTrigger(UserDirectory.SweepFunction, "45 * * * * *", UserDirectory.SweepAsync);
        services.AddSingleton<ApiClientDirectory>();
        // Before anything looks a user up: existing accounts move out of the old shared partition first.
        services.AddSingleton<IStartupTask, UserPartitionMigration>();
        services.AddSingleton<IStartupTask, AdminBootstrap>();
        services.AddSingleton<IStartupTask, DevelopmentSeedRunner>();
        services.AddEmail(configuration);

        // HTTP conventions
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.TryAddSingleton<ErrorShapesByPath>();
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.AddPlatformRateLimits(configuration, builder.Environment);
        services.AddPlatformCors();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Under the host every request comes from the host on loopback; the client is in X-Forwarded-For.
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = 1;
        });
        services.AddOpenApi("v1", o =>
        {
            o.AddDocumentTransformer<OpenApiConventions>().AddOperationTransformer<OpenApiOperationSecurity>()
                .AddOperationTransformer<OpenApiIdempotencyHeader>().AddOperationTransformer<OpenApiClientCredentialsForm>()
                .AddOperationTransformer<OpenApiQueryParameterDocuments>().AddOperationTransformer<OpenApiErrorResponses>()
                .AddSchemaTransformer<OpenApiOmittedWhenNull>().AddSchemaTransformer<OpenApiValidationAttributes>()
                .AddDocumentTransformer<OpenApiValidationAttributes>();
            o.CreateSchemaReferenceId = OpenApiSchemaNames.Create;
        });
        services.AddWebhooks(configuration, builder.Environment);

        AddTelemetry(builder);
        return builder;
    }

    /// <summary>Strict JSON: numbers are numbers, required means required, null only where the contract allows it.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.AllowTrailingCommas = false;
        options.ReadCommentHandling = JsonCommentHandling.Disallow;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter());
        // Build-time contracts first; reflection for anything they do not list.
        if (!options.TypeInfoResolverChain.Contains(ApiJsonContext.Default))
            options.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
    }

    /// <summary>
    /// Routing, CORS, authentication, authorization and rate limits, and the platform's own endpoints. Surfaces add their
    /// request checks after it; <see cref="IdempotencyExtensions.UseIdempotency"/> comes last (see Program.cs).
    /// </summary>
    public static WebApplication UsePlatform(this WebApplication app)
    {
        var mode = app.Services.GetRequiredService<HostingMode>();
        if (mode.IsFunctionsHost)
            app.UseForwardedHeaders();
        var exposeStorageCount = app.Configuration.GetValue("Metering:ExposeStorageCount", app.Environment.IsDevelopment());
        app.UseMiddleware<StorageMeteringMiddleware>(exposeStorageCount);
        if (app.Configuration.RequestLinesOn())
            app.UseMiddleware<RequestLineMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseRouting();
        app.UsePlatformCors();
        app.UseMiddleware<RequestSizeMiddleware>();
        app.UseAuthentication();
        StartupOverlap.UseAuthorizationOnFirstRequest(app);
        app.UseMiddleware<SessionCheckMiddleware>();
        app.UseRateLimiter();

        // Endpoints that read a JSON body resolve its contract when first read (DeferredJsonContracts).
        var routes = DeferredJsonContracts.Routes(app);
        routes.MapHealth();
        app.MapOpenApi("/openapi/{documentName}.json").WithName("OpenApiDocument");
        // Operations titled by their summaries; every security scheme selectable, with placeholders for the bearer
        // token and the store key in the samples; no vendor buttons (deploy toolbar, SDK generation, AI agent, MCP).
        app.MapScalarApiReference("/docs", o => o.WithTitle("Serverless commerce and payments API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .WithOperationTitleSource(OperationTitleSource.Summary)
            .AddPreferredSecuritySchemes([OpenApiConventions.BearerScheme])
            .AddHttpAuthentication(OpenApiConventions.BearerScheme, a => a.Token = "paste a token from a sign-in endpoint")
            .AddApiKeyAuthentication(OpenApiConventions.ApiKeyScheme, a => a.Value = "the store's API key")
            .EnablePersistentAuthentication()
            .HideDeveloperTools().HideClientButton().DisableAgent().DisableMcp())
            .WithFunctionNamesFromRoutes("ApiReference");
        routes.MapPlatformApi();
        routes.MapEmailApi();
        routes.MapWebhooksApi();
        routes.MapWebhookInboxApi();
        routes.MapPaymentsApi();
        if (mode.IsFunctionsHost)
            routes.MapHostInvocations();
        return app;
    }

    /// <summary>What is wrong with the settings the app cannot run without, or null when nothing is.</summary>
    public static string? ConfigurationProblem(this WebApplication app)
    {
        try
        {
            _ = app.Services.GetRequiredService<StorageAccount>();
            _ = app.Services.GetRequiredService<IOptions<JwtOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<EmailOptions>>().Value;
            _ = app.Services.GetServices<IValidatedSettings>().ToList();
            return null;
        }
        catch (StorageNotConfiguredException ex)
        {
            return ex.Message;
        }
        catch (OptionsValidationException ex)
        {
            return string.Join(" ", ex.Failures);
        }
    }

    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var appInsights = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        var otlp = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        // Nowhere to send it: no providers, instrumentation or log processor at all (they would cost start-up time and
        // every request something, for nothing). The platform's own ActivitySource and Meter still work for listeners.
        if (string.IsNullOrEmpty(appInsights) && string.IsNullOrEmpty(otlp))
            return;
        void AzureMonitor(AzureMonitorExporterOptions o)
        {
            o.ConnectionString = appInsights;
            // Entra ID authentication (no instrumentation key secret) when the deployment asks for it.
            if (configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] is { } auth
                && auth.Split(';').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == "ClientId") is { Length: 2 } clientId)
                o.Credential = new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.FromUserAssignedClientId(clientId[1]));
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("serverless-functions"))
            .WithTracing(t =>
            {
                t.AddSource(PlatformTelemetry.Name).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                if (!string.IsNullOrEmpty(appInsights)) t.AddAzureMonitorTraceExporter(AzureMonitor);
            })
            .WithMetrics(m =>
            {
                m.AddMeter(PlatformTelemetry.Name).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation();
                if (!string.IsNullOrEmpty(appInsights)) m.AddAzureMonitorMetricExporter(AzureMonitor);
            });
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
            if (!string.IsNullOrEmpty(appInsights)) o.AddAzureMonitorLogExporter(AzureMonitor);
        });
        if (!string.IsNullOrEmpty(otlp))
            otel.UseOtlpExporter();
    }
}

/// <summary>
/// A surface's settings object that checks itself when built (throwing <see cref="OptionsValidationException"/>):
/// registered under this interface too, it is built at start-up, so a bad value stops the app with one line
/// instead of failing every request that needs it.
/// </summary>
public interface IValidatedSettings;
