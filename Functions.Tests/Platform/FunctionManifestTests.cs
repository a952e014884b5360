using System.Text.Json;
using Microsoft.Extensions.Configuration;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Hosting;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform;

public sealed class FunctionManifestTests(TriggerFactory app) : IClassFixture<TriggerFactory>
{
    private static string[] Methods(JsonNode binding) => binding["methods"]!.AsArray().Select(m => m!.GetValue<string>().ToUpperInvariant()).Order().ToArray();

    [Fact]
    public void Every_endpoint_has_exactly_one_http_function_with_its_methods_and_route()
    {
        var functions = app.Get<FunctionManifest>().Build();
        var endpoints = app.Get<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HostInternalEndpoint>() is null).ToList();

        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints)
        {
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName;
            var function = Assert.Single(functions, f => f.Name == name);
            var trigger = function.FunctionJson["bindings"]![0]!;
            Assert.Equal("httpTrigger", trigger["type"]!.GetValue<string>());
            Assert.Equal("anonymous", trigger["authLevel"]!.GetValue<string>());
            // The endpoint's methods, plus OPTIONS on one function of each route (see the test below).
            Assert.Equal(endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Order().ToArray(), Methods(trigger).Where(m => m != "OPTIONS"));
            Assert.Equal(endpoint.RoutePattern.RawText!.Trim('/').Replace("{**", "{*"), trigger["route"]!.GetValue<string>());
            Assert.Equal("http", function.FunctionJson["bindings"]![1]!["type"]!.GetValue<string>());
        }
        var httpFunctions = functions.Count(f => f.FunctionJson["bindings"]![0]!["type"]!.GetValue<string>() == "httpTrigger");
        Assert.Equal(endpoints.Count, httpFunctions);
    }

    [Fact]
    public void Exactly_one_function_of_each_route_takes_options_so_preflights_reach_the_app_without_a_route_conflict()
    {
        var triggers = app.Get<FunctionManifest>().Build().Select(f => f.FunctionJson["bindings"]![0]!)
            .Where(b => b["type"]!.GetValue<string>() == "httpTrigger").ToList();

        var routes = triggers.GroupBy(b => b["route"]!.GetValue<string>(), StringComparer.OrdinalIgnoreCase).ToList();
        Assert.Contains(routes, r => r.Count() > 1);
        foreach (var route in routes)
        {
            Assert.Single(route, b => Methods(b).Contains("OPTIONS"));
            // The host refuses two functions of one route whose methods overlap.
            var methods = route.SelectMany(Methods).ToList();
            Assert.Equal(methods.Count, methods.Distinct().Count());
        }
    }

    [Fact]
    public void Every_timer_and_queue_function_has_its_trigger_binding()
    {
        var functions = app.Get<FunctionManifest>().Build();
        var registry = app.Get<TriggerRegistry>();

        foreach (var timer in registry.Timers)
        {
            var binding = Assert.Single(functions, f => f.Name == timer.Name).FunctionJson["bindings"]![0]!;
            Assert.Equal("timerTrigger", binding["type"]!.GetValue<string>());
            Assert.Equal(timer.Schedule, binding["schedule"]!.GetValue<string>());
            Assert.Equal(6, timer.Schedule.Split(' ').Length);
        }
        foreach (var queue in registry.Queues)
        {
            var binding = Assert.Single(functions, f => f.Name == queue.Name).FunctionJson["bindings"]![0]!;
            Assert.Equal("queueTrigger", binding["type"]!.GetValue<string>());
            Assert.Equal(app.Prefix + queue.QueueName, binding["queueName"]!.GetValue<string>());
            Assert.Equal("AzureWebJobsStorage", binding["connection"]!.GetValue<string>());
        }
        Assert.Equal(app.Get<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Count(e => e.Metadata.GetMetadata<HostInternalEndpoint>() is null)
                     + registry.Timers.Count + registry.Queues.Count, functions.Count);
    }

    [Fact]
    public void The_health_and_docs_endpoints_become_functions_and_host_internal_ones_do_not()
    {
        var functions = app.Get<FunctionManifest>().Build().ToDictionary(f => f.Name);

        Assert.Equal("health", functions["Health"].FunctionJson["bindings"]![0]!["route"]!.GetValue<string>());
        Assert.Contains(functions.Values, f => f.FunctionJson["bindings"]![0]!["route"]?.GetValue<string>().StartsWith("docs", StringComparison.Ordinal) == true);
        Assert.False(functions.ContainsKey("Readiness"));
    }

    [Fact]
    public void Writing_the_manifest_creates_one_folder_per_function_and_nothing_else()
    {
        var directory = Path.Combine(Path.GetTempPath(), "functions-" + Guid.NewGuid().ToString("N"));
        try
        {
            var count = app.Get<FunctionManifest>().WriteTo(directory);

            var folders = Directory.GetDirectories(directory).Select(Path.GetFileName).Order().ToArray();
            Assert.Equal(count, folders.Length);
            Assert.Equal(app.Get<FunctionManifest>().Build().Select(f => f.Name).Order(StringComparer.Ordinal).ToArray(), folders);
            foreach (var folder in Directory.GetDirectories(directory))
            {
                Assert.Equal(["function.json"], Directory.GetFiles(folder).Select(Path.GetFileName));
                using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "function.json")));
                Assert.True(json.RootElement.GetProperty("bindings").GetArrayLength() >= 1);
            }
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void An_endpoint_without_a_name_cannot_become_a_function()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddRouting();
        var web = builder.Build();
        web.MapGet("/unnamed", () => "x");
        var source = new CompositeEndpointDataSource(((IEndpointRouteBuilder)web).DataSources);
        var manifest = new FunctionManifest(source, new TriggerRegistry([], []), app.Get<Serverless.Platform.Storage.StorageAccount>());

        var error = Assert.Throws<InvalidOperationException>(() => manifest.Build());

        Assert.Contains("/unnamed", error.Message);
    }

    [Fact]
    public void A_page_and_an_api_on_one_route_are_two_functions_each_with_its_method()
    {
        var functions = app.Get<FunctionManifest>().Build().ToDictionary(f => f.Name);

        var page = functions["PrintResetPasswordPage"].FunctionJson["bindings"]![0]!;
        var api = functions["PrintResetPassword"].FunctionJson["bindings"]![0]!;
        Assert.Equal("reset-password", page["route"]!.GetValue<string>());
        Assert.Equal("reset-password", api["route"]!.GetValue<string>());
        // Either may also list OPTIONS (one function of each route does, for CORS preflights): never both.
        Assert.Equal(["GET"], Methods(page).Where(m => m != "OPTIONS"));
        Assert.Equal(["POST"], Methods(api).Where(m => m != "OPTIONS"));
        Assert.Single(new[] { page, api }, b => Methods(b).Contains("OPTIONS"));
        Assert.Equal(["GET", "OPTIONS"], Methods(functions["PrintReferralPage"].FunctionJson["bindings"]![0]!));
        Assert.Equal("r/{code}", functions["PrintReferralPage"].FunctionJson["bindings"]![0]!["route"]!.GetValue<string>());
    }

    [Fact]
    public void Two_endpoints_answering_one_method_on_one_route_cannot_both_become_functions()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddRouting();
        var web = builder.Build();
        web.MapGet("/shared", () => "page").WithName("SharedPage");
        web.MapPost("/shared", () => "api").WithName("SharedApi");
        web.MapMethods("/shared", ["GET", "HEAD"], () => "again").WithName("SharedAgain");
        var source = new CompositeEndpointDataSource(((IEndpointRouteBuilder)web).DataSources);
        var manifest = new FunctionManifest(source, new TriggerRegistry([], []), app.Get<Serverless.Platform.Storage.StorageAccount>());

        var error = Assert.Throws<InvalidOperationException>(() => manifest.Build());

        Assert.Equal("Functions 'SharedPage' and 'SharedAgain' both answer GET /shared.", error.Message);
    }

    [Theory]
    [InlineData("/api/pre-orders/{id}", "api/pre-orders/{id}")]
    [InlineData("/files/{**path}", "files/{*path}")]
    [InlineData("/v1/orders/{order_id:guid}/status", "v1/orders/{order_id:guid}/status")]
    public void Routes_are_written_in_the_hosts_syntax(string pattern, string route) =>
        Assert.Equal(route, FunctionManifest.HostRoute(Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(pattern)));
}

public sealed class LocalSettingsTests
{
    [Fact]
    public void Values_become_configuration_keys_with_double_underscores_as_sections()
    {
        var path = Path.Combine(Path.GetTempPath(), "local-settings-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """
            { "IsEncrypted": false, "Values": { "Jwt__SigningKey": "abc", "Plain": "1", "Flag": true } }
            """);
        try
        {
            var values = LocalSettings.Read(path);

            Assert.Equal("abc", values["Jwt:SigningKey"]);
            Assert.Equal("1", values["Plain"]);
            Assert.Equal("true", values["Flag"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Environment_variables_win_over_local_settings()
    {
        var path = Path.Combine(Path.GetTempPath(), "local-settings-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{ "Values": { "LocalSettingsTest__Value": "from-file", "LocalSettingsTest__Other": "file-only" } }""");
        Environment.SetEnvironmentVariable("LocalSettingsTest__Value", "from-environment");
        try
        {
            var configuration = new Microsoft.Extensions.Configuration.ConfigurationManager();
            configuration.AddEnvironmentVariables();
            configuration["LOCAL_SETTINGS_PATH"] = path;
            configuration.AddLocalSettings(Path.GetTempPath());

            Assert.Equal("from-environment", configuration["LocalSettingsTest:Value"]);
            Assert.Equal("file-only", configuration["LocalSettingsTest:Other"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LocalSettingsTest__Value", null);
            File.Delete(path);
        }
    }
}

public sealed class PackagedManifestTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task The_app_writes_the_same_function_folders_when_asked_on_the_command_line()
    {
        var directory = Path.Combine(Path.GetTempPath(), "functions-cli-" + Guid.NewGuid().ToString("N"));
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(Program).Assembly.Location, "--write-functions", directory },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
                ["LOCAL_SETTINGS_PATH"] = Path.Combine(directory, "none.json"),
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
            },
        };
        try
        {
            using var process = System.Diagnostics.Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

            Assert.True(process.ExitCode == 0, output + errors);
            var expected = app.Get<FunctionManifest>().Build().Select(f => f.Name).Order(StringComparer.Ordinal);
            Assert.Equal(expected, Directory.GetDirectories(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }
}
