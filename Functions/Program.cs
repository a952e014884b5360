using Serverless.Checkout;
using Serverless.Commerce;
using Serverless.ECards;
using Serverless.Platform;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.PreOrders;
using Serverless.Print;

StartupTimeline.Mark("main entered");
var builder = WebApplication.CreateBuilder(args);
StartupTimeline.Mark("builder created");
builder.AddPlatform();
builder.Services.AddPreOrders();
builder.Services.AddECards();
builder.Services.AddPrint();
builder.Services.AddCommerce();
builder.Services.AddCheckout();
StartupOverlap.SkipEagerKeyRing(builder.Services);
StartupTimeline.Mark("services registered");
StartupTimeline.TimeHostedServices(builder.Services);

var app = builder.Build();
StartupTimeline.Mark("app built");
app.UsePlatform();
app.UsePrint();
app.UseCommerce();
// Last: only a request that authentication, sessions and CSRF let through may claim an Idempotency-Key.
app.UseIdempotency();
var routes = DeferredJsonContracts.Routes(app);
routes.MapPreOrders();
routes.MapECards();
routes.MapPrint();
routes.MapCommerce();
routes.MapCheckout();
StartupOverlap.ShareEndpoints(app);
StartupTimeline.Mark("endpoints mapped");

// `Functions --write-functions <dir>` writes the Functions host's function folders instead of serving.
if (args is ["--write-functions", var directory])
{
    // The app's own endpoint table, as mapped above (the routing middleware that would publish it never runs here).
    var endpoints = new CompositeEndpointDataSource(((IEndpointRouteBuilder)app).DataSources);
    var count = ActivatorUtilities.CreateInstance<FunctionManifest>(app.Services, (EndpointDataSource)endpoints).WriteTo(directory);
    Console.WriteLine($"Wrote {count} function folders to {directory}");
    return;
}

// `Functions --write-endpoints <file>` writes the Markdown list of the served endpoints (ENDPOINTS.md).
if (args is ["--write-endpoints", var file])
{
    await File.WriteAllTextAsync(file, EndpointCatalog.Markdown(new CompositeEndpointDataSource(((IEndpointRouteBuilder)app).DataSources)));
    Console.WriteLine($"Wrote {file}");
    return;
}

// Beside the configuration check: the endpoints' build (nothing outside the process) and the storage catalog's
// marker read (a read, and silent; the storage work that may write waits for the check).
StartupOverlap.BuildEndpoints(app);
StartupOverlap.PrefetchStorage(app);

// A configuration mistake gets one line that says what to set, not a stack trace.
if (app.ConfigurationProblem() is { } problem)
{
    Console.Error.WriteLine($"Cannot start: {problem}");
    Environment.ExitCode = 1;
    return;
}
StartupTimeline.Mark("configuration checked");
// Storage work only once the configuration is known good (it writes: the first admin, migrations).
StartupOverlap.BeginStorage(app);

app.Lifetime.ApplicationStarted.Register(() => StartupTimeline.Mark("listening"));
app.Run();

public partial class Program;
