using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Serverless.Platform.Http;

/// <summary>Document-wide OpenAPI facts: title, and the bearer-token scheme every protected endpoint uses.</summary>
public sealed class OpenApiConventions : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Serverless commerce and payments API",
            Version = "v1",
            Description = "Pre-orders, e-cards, commerce orders, checkout and print-shop APIs on one platform.",
        };
        // Each tag (a surface, or a part of one) says what it is and who calls it.
        var used = document.Paths?.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(o => o.Tags ?? new HashSet<OpenApiTagReference>()).Select(t => t.Name).OfType<string>().ToHashSet() ?? [];
        document.Tags = used.Order(StringComparer.Ordinal)
            .Select(name => new OpenApiTag { Name = name, Description = TagDescriptions.GetValueOrDefault(name) })
            .ToHashSet();
        // Server URLs without a trailing slash: paths start with one.
        foreach (var server in document.Servers ?? [])
            server.Url = server.Url?.TrimEnd('/');
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A token from the API's sign-in endpoint.",
        };
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "x-api-key",
            Description = "A checkout store's API key, issued by the platform admin.",
        };
        document.Components.SecuritySchemes[CookieScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = "token",
            Description = "The print shop's HttpOnly sign-in cookie, set by POST /login. A cookie-authenticated POST, PUT or DELETE " +
                          "must also send X-CSRF-Token from GET /csrf-token.",
        };
        return Task.CompletedTask;
    }

    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Platform"] = "The platform's own API: sign-in for operators, users and API clients, and health.",
        ["Payments"] = "Payment intents on the configured gateways (Razorpay, Stripe, the sandbox): the providers' webhooks, and the operator's view, refresh and refunds.",
        ["Webhooks"] = "Outbound webhooks: each owner's endpoint and signing secret, and the deliveries with their attempts, redelivery and retry.",
        ["Development"] = "Development only (off in production): the email and push outboxes and the webhook inbox that receives and verifies deliveries.",
        ["Pre-orders"] = "Pre-orders paid by QR code (document 000): merchants sign in, create pre-orders and follow their payment.",
        ["Pre-order payment page"] = "The hosted page a pre-order's QR code opens, where the customer pays.",
        ["E-cards"] = "E-card orders for partners (document 001): a prepaid balance, the catalogue, orders delivered with certificate codes.",
        ["Commerce identity"] = "Commerce sign-in (document 002): company users with refresh tokens, integrations with client credentials.",
        ["Commerce catalogue"] = "Commerce catalogue for buyers: products for sale with prices and stock, payment options, gas fees.",
        ["Commerce orders"] = "Commerce orders of product tokens for buyers: preview, create with payment, list and read.",
        ["Commerce admin"] = "Commerce administration for company admins and super admins: companies, currencies, products, tokens, coupons, payment options, webhooks, orders.",
        ["Checkout"] = "Checkout plugin orders for stores (document 003), authenticated with the store's x-api-key.",
        ["Checkout admin"] = "Checkout stores, for the platform admin: create, change, disable, rotate the callback secret, confirm a transfer.",
        ["Checkout page"] = "The hosted checkout page a store's customer opens with the order's session token.",
        ["Print-shop accounts"] = "Print-shop accounts (document 004): sign-up with an emailed code, sign-in by username, email or mobile, profile, password reset.",
        ["Print-shop public pages"] = "Print-shop pages and links for everyone: app downloads, account deletion, the password-reset page, referral landing.",
        ["Print-shop referrals"] = "Print-shop referrals: a customer's code, its summary and history, and invitations.",
        ["Print-shop shops"] = "Print shops: nearby open shops for customers, and a shopkeeper's open state and heartbeat.",
        ["Print-shop notifications"] = "Push notification devices of a print-shop account.",
        ["Print-shop payments"] = "Print-shop payment orders, paid from the wallet or online, and Razorpay's webhook.",
        ["Print-shop wallet"] = "A print-shop customer's wallet: balance, top-ups and statement.",
        ["Print-shop payouts"] = "Print-shop withdrawals to a bank account and a shop's payouts of its earnings.",
        ["Print-shop files and queue"] = "Print-shop files: upload and cost, the customer's files, the shop's queue, printing, confirmation and cancellation.",
        ["Print-shop admin"] = "Print-shop administration for admins: dashboard, orders, users, payouts and shops' bank accounts.",
    };

    public const string BearerScheme = "Bearer";
    public const string ApiKeyScheme = "StoreApiKey";
    public const string CookieScheme = "PrintCookie";
}

/// <summary>
/// Endpoint metadata naming an OpenAPI security scheme an endpoint's callers may present, for endpoints that take
/// more or other than the bearer token: the checkout stores' <c>x-api-key</c>, the print shop's cookie or bearer.
/// </summary>
public sealed record OpenApiSecurityName(string Name);

/// <summary>
/// Each operation's security as its endpoint requires it: none (an empty list) when anonymous, the scheme its metadata names, else
/// the bearer token.
/// </summary>
public sealed class OpenApiOperationSecurity : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any()
            || !metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any())
        {
            // Said explicitly: this operation takes no credentials (or takes them in its body, as client credentials do).
            operation.Security = [];
            return Task.CompletedTask;
        }
        // Each named scheme is an alternative (one requirement each); without a name, the bearer token.
        var schemes = metadata.OfType<OpenApiSecurityName>().Select(n => n.Name).Distinct().DefaultIfEmpty(OpenApiConventions.BearerScheme);
        operation.Security = schemes
            .Select(scheme => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] })
            .ToList();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Schema names that stay unique across surfaces: a type whose name another type of the app also has (a
/// <c>LoginResponse</c> of pre-orders and one of print) is named with its surface first (<c>PreOrdersLoginResponse</c>,
/// <c>PrintLoginResponse</c>), so one schema never stands for two shapes. Other names are the default ones.
/// </summary>
public static class OpenApiSchemaNames
{
    private static readonly Dictionary<Type, string> Prefixes = PrefixesOfSharedNames();

    /// <summary>
    /// The prefix of each type whose name another type shares: its surface (<c>Serverless.Print.Accounts</c> → Print),
    /// or, where that would still clash (with another type's name, or two types of one surface), its whole namespace
    /// (<c>Serverless.Commerce.Catalog</c> → CommerceCatalog).
    /// </summary>
    private static Dictionary<Type, string> PrefixesOfSharedNames()
    {
        var types = typeof(OpenApiSchemaNames).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.Namespace?.StartsWith("Serverless.", StringComparison.Ordinal) == true)
            .ToList();
        var names = types.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var shared = types.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).SelectMany(g => g).ToList();
        static string Surface(Type t) => t.Namespace!["Serverless.".Length..].Split('.')[0];
        static string Namespace(Type t) => t.Namespace!["Serverless.".Length..].Replace(".", "", StringComparison.Ordinal);
        var bySurface = shared.GroupBy(t => Surface(t) + t.Name, StringComparer.Ordinal).ToList();
        var prefixes = new Dictionary<Type, string>();
        foreach (var group in bySurface)
        {
            var clashes = group.Count() > 1 || names.Contains(group.Key);
            foreach (var type in group)
                prefixes[type] = clashes ? Namespace(type) : Surface(type);
        }
        return prefixes;
    }

    public static string? Create(JsonTypeInfo type)
    {
        var name = OpenApiOptions.CreateDefaultSchemaReferenceId(type);
        if (name is null || !Prefixes.TryGetValue(type.Type, out var prefix))
            return name;
        // Serverless.PreOrders.LoginResponse → PreOrdersLoginResponse; Serverless.Print.Accounts.LoginResponse → PrintLoginResponse.
        return prefix + name;
    }
}

/// <summary>
/// A property the app leaves out when it is null (<c>[JsonIgnore(Condition = WhenWritingNull)]</c>: a pending
/// pre-order's <c>payment_details</c>) is not required in its schema, since the wire may not carry it.
/// </summary>
public sealed class OpenApiOmittedWhenNull : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Required is not { Count: > 0 } required || context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object)
            return Task.CompletedTask;
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            var ignore = property.AttributeProvider?.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), true)
                .OfType<System.Text.Json.Serialization.JsonIgnoreAttribute>().FirstOrDefault();
            if (ignore?.Condition is System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull
                or System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)
                required.Remove(property.Name);
        }
        return Task.CompletedTask;
    }
}

/// <summary>Operations that honour <c>Idempotency-Key</c> document the header.</summary>
public sealed class OpenApiIdempotencyHeader : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotentEndpoint>().Any())
            return Task.CompletedTask;
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotencyMiddleware.HeaderName,
            In = ParameterLocation.Header,
            Required = false,
            Description = "A key of your choosing (1 to 255 printable characters): a retry with the same key and request answers the first " +
                          "response instead of doing the work again; the same key with another request is 409 idempotency_key_reused.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 255 },
        });
        return Task.CompletedTask;
    }
}

/// <summary>
/// Request fields' checks that the schema generator does not read on its own, from the standard attributes a request
/// record puts on its properties (<c>[property: ...]</c>), so the document says what the handler's checks enforce:
/// <list type="bullet">
/// <item><c>[Required]</c>: the field must be present and not null (the handler answers 400 "'x' is required."), so it is
/// listed as required and its type loses <c>null</c>.</item>
/// <item><c>[AllowedValues("a", "b")]</c>: an <c>enum</c> of those values (null stays allowed where the type allows it); on a
/// list, of its items.</item>
/// </list>
/// <c>[StringLength]</c>, <c>[MinLength]</c>, <c>[MaxLength]</c>, <c>[Range]</c>, <c>[RegularExpression]</c>,
/// <c>[Url]</c> and <c>[Base64String]</c> are read by the generator itself.
/// </summary>
public sealed class OpenApiValidationAttributes : IOpenApiSchemaTransformer, IOpenApiDocumentTransformer
{
    /// <summary>The [Required] properties of each object schema, which may not be null.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<OpenApiSchema, HashSet<string>> NotNull = new();

    /// <summary>A required nested object, <c>oneOf: [null, {$ref}]</c> in the components, becomes the reference alone.</summary>
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var schema in document.Components?.Schemas?.Values.OfType<OpenApiSchema>() ?? [])
        {
            if (!NotNull.TryGetValue(schema, out var names) || schema.Properties is not { } properties)
                continue;
            foreach (var name in names)
            {
                if (properties.TryGetValue(name, out var described) && described is OpenApiSchema { OneOf: { Count: 2 } choices }
                    && choices.Count(c => c is OpenApiSchema { Type: JsonSchemaType.Null }) == 1)
                    properties[name] = choices.Single(c => c is not OpenApiSchema { Type: JsonSchemaType.Null });
            }
        }
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is not { Count: > 0 } properties)
            return Task.CompletedTask;
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if (property.AttributeProvider is not { } provider || !properties.TryGetValue(property.Name, out var described))
                continue;
            var attributes = provider.GetCustomAttributes(true);
            if (attributes.OfType<System.ComponentModel.DataAnnotations.RequiredAttribute>().Any())
            {
                schema.Required ??= new HashSet<string>();
                schema.Required.Add(property.Name);
                if (described is OpenApiSchema inline && inline.Type is { } type)
                    inline.Type = type & ~JsonSchemaType.Null;
                // A nested object only becomes "null or the object" (oneOf) once it is moved to the components: the
                // document transformer below takes null out then.
                NotNull.GetOrCreateValue(schema).Add(property.Name);
            }
            if (attributes.OfType<System.ComponentModel.DataAnnotations.AllowedValuesAttribute>().FirstOrDefault() is { } allowed
                && described is OpenApiSchema values)
            {
                // On a list, the values are its items'.
                if (values.Type is { } listType && listType.HasFlag(JsonSchemaType.Array) && values.Items is OpenApiSchema items)
                    values = items;
                values.Enum = allowed.Values.Where(v => v is not null)
                    .Select(v => System.Text.Json.JsonSerializer.SerializeToNode(v, v!.GetType())!)
                    .ToList();
                // An optional field that may be null keeps null among its values, as the handler takes it for absent.
                if (values.Type is { } type && type.HasFlag(JsonSchemaType.Null))
                    values.Enum.Add(null!);
            }
        }
        return Task.CompletedTask;
    }
}
