// `dotnet new web` with its one endpoint at /health: the least an ASP.NET Core custom handler can be, and the limit
// the product's cold start is compared with (bench/README.md, "Cold start"). It listens where the product does: on
// loopback at FUNCTIONS_CUSTOMHANDLER_PORT when the Functions host starts it, else where ASPNETCORE_URLS says.
var builder = WebApplication.CreateBuilder(args);
if (int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT"), out var port))
    builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
var app = builder.Build();
app.MapGet("/health", () => "ok");
app.Run();
