using Serverless.Platform;
using Serverless.Platform.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPlatform();

var app = builder.Build();
app.UsePlatform();

// `Functions --write-functions <dir>` writes the Functions host's function folders instead of serving.
if (args is ["--write-functions", var directory])
{
    var count = app.Services.GetRequiredService<FunctionManifest>().WriteTo(directory);
    Console.WriteLine($"Wrote {count} function folders to {directory}");
    return;
}

app.Run();

public partial class Program;
