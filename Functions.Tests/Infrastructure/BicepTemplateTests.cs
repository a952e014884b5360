using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Serverless.Tests.Infrastructure;

// Compiles and lints infra/ with the Bicep CLI from the NuGet cache and checks, in the compiled ARM template, the
// facts a reviewer of the Azure footprint cares about. Nothing is deployed and no network is needed.
public sealed partial class BicepTemplateTests(BicepTemplateTests.CompiledInfrastructure infra)
    : IClassFixture<BicepTemplateTests.CompiledInfrastructure>
{
    [Fact]
    public void Main_template_builds_without_errors_or_warnings() => AssertClean(infra.Build);

    [Fact]
    public void Main_template_passes_the_linter_without_warnings() => AssertClean(infra.Lint);

    [Fact]
    public void Parameter_file_builds_and_lints_without_errors_or_warnings()
    {
        AssertClean(infra.BuildParams);
        AssertClean(infra.LintParams);

        using var output = JsonDocument.Parse(infra.BuildParams.StandardOutput);
        using var parameters = JsonDocument.Parse(output.RootElement.GetProperty("parametersJson").GetString()!);
        var values = parameters.RootElement.GetProperty("parameters");
        Assert.Equal(
            CompiledInfrastructure.ExampleSecrets["JWT_SIGNING_KEY"],
            values.GetProperty("jwtSigningKey").GetProperty("value").GetString());
    }

    [Fact]
    public void Parameter_file_refuses_to_build_without_the_signing_key_and_admin_password()
    {
        var run = infra.BuildParamsWithoutSecrets;

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("JWT_SIGNING_KEY", run.Diagnostics);
        Assert.Contains("ADMIN_PASSWORD", run.Diagnostics);
        Assert.Contains("COMMERCE_GAS_FEE_SIGNING_KEY", run.Diagnostics);
        Assert.Contains("CHECKOUT_MARKET_RATES_URL", run.Diagnostics);
    }

    [Fact]
    public void Secrets_are_secure_parameters_and_never_outputs()
    {
        var template = infra.Template;
        var parameters = template.GetProperty("parameters");

        foreach (var name in new[]
                 {
                     "jwtSigningKey", "adminPassword", "razorpayKeySecret", "razorpayWebhookSecret", "razorpayPayoutAccountNumber",
                     "stripeSecretKey", "stripeWebhookSecret", "resendApiKey", "fcmServiceAccountJson", "checkoutMarketRatesApiKey",
                 })
        {
            Assert.Equal("securestring", parameters.GetProperty(name).GetProperty("type").GetString());
        }
        foreach (var output in template.GetProperty("outputs").EnumerateObject())
        {
            Assert.NotEqual("securestring", output.Value.GetProperty("type").GetString());
        }
    }

    [Fact]
    public void Function_app_runs_the_custom_handler_on_flex_consumption()
    {
        var site = Assert.Single(infra.ResourcesOfType("Microsoft.Web/sites"));
        var kind = site.GetProperty("kind").GetString()!;
        Assert.Contains("functionapp", kind);
        Assert.Contains("linux", kind);

        var properties = site.GetProperty("properties");
        Assert.True(properties.GetProperty("httpsOnly").GetBoolean());
        var config = properties.GetProperty("functionAppConfig");
        Assert.Equal("custom", config.GetProperty("runtime").GetProperty("name").GetString());
        Assert.Equal("blobContainer", config.GetProperty("deployment").GetProperty("storage").GetProperty("type").GetString());

        var plan = Assert.Single(infra.ResourcesOfType("Microsoft.Web/serverfarms"));
        Assert.Equal("FC1", plan.GetProperty("sku").GetProperty("name").GetString());
        Assert.Equal("FlexConsumption", plan.GetProperty("sku").GetProperty("tier").GetString());
        Assert.True(plan.GetProperty("properties").GetProperty("reserved").GetBoolean());
    }

    [Fact]
    public void Deployment_package_is_fetched_with_the_managed_identity()
    {
        var site = Assert.Single(infra.ResourcesOfType("Microsoft.Web/sites"));
        var authentication = site.GetProperty("properties").GetProperty("functionAppConfig")
            .GetProperty("deployment").GetProperty("storage").GetProperty("authentication");

        Assert.EndsWith("AssignedIdentity", authentication.GetProperty("type").GetString());
    }

    [Fact]
    public void Storage_account_allows_no_shared_keys()
    {
        var account = Assert.Single(infra.ResourcesOfType("Microsoft.Storage/storageAccounts"));
        var properties = account.GetProperty("properties");

        Assert.Equal("StorageV2", account.GetProperty("kind").GetString());
        Assert.False(properties.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.False(properties.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.True(properties.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
        Assert.Equal("TLS1_2", properties.GetProperty("minimumTlsVersion").GetString());
    }

    [Fact]
    public void No_storage_account_key_is_read_anywhere()
    {
        Assert.DoesNotContain("listKeys", infra.TemplateText, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey=", infra.TemplateText, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void App_settings_connect_to_storage_through_the_managed_identity()
    {
        // The settings compile to one union(...) expression, so the names are checked in its text.
        var settings = Assert.Single(infra.ResourcesOfType("Microsoft.Web/sites/config")).GetRawText();

        foreach (var name in new[]
        {
            "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId",
            "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri",
            "AzureWebJobsStorage__tableServiceUri",
        })
        {
            Assert.Contains($"'{name}'", settings);
        }
        Assert.Contains("'AzureWebJobsStorage__credential', 'managedidentity'", settings);
        // A plain AzureWebJobsStorage connection string would carry an account key.
        Assert.DoesNotContain("'AzureWebJobsStorage',", settings);
    }

    [Fact]
    public void App_settings_carry_what_the_app_reads_in_production()
    {
        var settings = Assert.Single(infra.ResourcesOfType("Microsoft.Web/sites/config")).GetRawText();

        foreach (var name in new[]
        {
            "ASPNETCORE_ENVIRONMENT", "PublicBaseUrl", "Admin__Email", "Admin__Password", "Jwt__SigningKey",
            "Jwt__Lifetimes__Platform", "Jwt__Lifetimes__PreOrders", "Jwt__Lifetimes__ECards",
            "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            "RateLimits__Auth__PermitLimit", "RateLimits__Auth__Window",
            "Payments__Gateway", "Payments__Razorpay__KeyId", "Payments__Razorpay__KeySecret", "Payments__Razorpay__WebhookSecret",
            "Payments__Stripe__SecretKey", "Payments__Stripe__WebhookSecret",
            "Checkout__MarketRatesUrl", "Checkout__MarketRatesApiKey", "Checkout__OrderExpiry", "Cors__AllowedOrigins",
        })
        {
            Assert.Contains($"'{name}'", settings);
        }
        Assert.Contains("'ASPNETCORE_ENVIRONMENT', 'Production'", settings);
        Assert.Contains("'RateLimits__Auth__PermitLimit', '10'", settings);
    }

    [Fact]
    public void Secrets_live_in_a_key_vault_the_app_reads_by_reference()
    {
        var vault = Assert.Single(infra.ResourcesOfType("Microsoft.KeyVault/vaults")).GetProperty("properties");
        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.True(vault.GetProperty("enableSoftDelete").GetBoolean());
        Assert.True(vault.GetProperty("enablePurgeProtection").GetBoolean());
        Assert.True(infra.ResourcesOfType("Microsoft.KeyVault/vaults/secrets").Count() >= 2);

        Assert.Contains("@Microsoft.KeyVault(VaultName=", infra.TemplateText);
        Assert.Contains("jwt-signing-key", infra.TemplateText);
        Assert.Contains("admin-password", infra.TemplateText);
        var site = Assert.Single(infra.ResourcesOfType("Microsoft.Web/sites"));
        Assert.False(string.IsNullOrEmpty(site.GetProperty("properties").GetProperty("keyVaultReferenceIdentity").GetString()));
    }

    [Fact]
    public void Application_insights_accepts_only_entra_id_authenticated_telemetry()
    {
        var component = Assert.Single(infra.ResourcesOfType("Microsoft.Insights/components"));
        var properties = component.GetProperty("properties");

        Assert.True(properties.GetProperty("DisableLocalAuth").GetBoolean());
        Assert.False(string.IsNullOrEmpty(properties.GetProperty("WorkspaceResourceId").GetString()));
        Assert.Single(infra.ResourcesOfType("Microsoft.OperationalInsights/workspaces"));
    }

    [Fact]
    public void App_identity_holds_the_data_roles_it_needs()
    {
        Assert.NotEmpty(infra.ResourcesOfType("Microsoft.Authorization/roleAssignments"));

        // Built-in role definition ids, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
        var roleIds = new[]
        {
            "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
            "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
            "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
            "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
            "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
        };
        // Role definition ids are the only GUID literals in the template (assignment names are guid() expressions).
        var guidsInTemplate = GuidLiteral().Matches(infra.TemplateText).Select(m => m.Value.ToLowerInvariant()).ToHashSet();
        Assert.Subset(guidsInTemplate, roleIds.ToHashSet());
    }

    static void AssertClean(BicepRun run)
    {
        Assert.True(run.ExitCode == 0, $"{run.Command} exited with {run.ExitCode}:\n{run.Diagnostics}");
        var findings = Diagnostic().Matches(run.Diagnostics).Select(m => m.Value).ToList();
        Assert.True(findings.Count == 0, $"{run.Command} reported:\n{string.Join('\n', findings)}");
    }

    // Bicep prints diagnostics as "path(line,col) : Warning rule-name: message".
    [GeneratedRegex(@"^.*\(\d+,\d+\)\s*:\s*(Warning|Error)\b.*$", RegexOptions.Multiline)]
    private static partial Regex Diagnostic();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex GuidLiteral();

    public sealed record BicepRun(string Command, int ExitCode, string StandardOutput, string StandardError)
    {
        public string Diagnostics => StandardError + StandardOutput;
    }

    public sealed class CompiledInfrastructure : IAsyncLifetime
    {
        // The parameter file reads these from the deploying shell; placeholders stand in for them here.
        public static readonly IReadOnlyDictionary<string, string> ExampleSecrets = new Dictionary<string, string>
        {
            ["JWT_SIGNING_KEY"] = "example-jwt-signing-key-for-template-tests-0123456789",
            ["ADMIN_PASSWORD"] = "example-admin-password",
            ["COMMERCE_GAS_FEE_SIGNING_KEY"] = "example-commerce-gas-fee-key-for-template-tests-0123",
            ["CHECKOUT_MARKET_RATES_URL"] = "https://rates.example.test/latest?base=BRL",
        };

        static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

        JsonDocument? template;

        public BicepRun Build { get; private set; } = null!;
        public BicepRun Lint { get; private set; } = null!;
        public BicepRun BuildParams { get; private set; } = null!;
        public BicepRun LintParams { get; private set; } = null!;
        public BicepRun BuildParamsWithoutSecrets { get; private set; } = null!;

        public JsonElement Template
        {
            get
            {
                if (template is null)
                {
                    Assert.True(Build.ExitCode == 0, $"{Build.Command} exited with {Build.ExitCode}:\n{Build.Diagnostics}");
                    template = JsonDocument.Parse(Build.StandardOutput);
                }
                return template.RootElement;
            }
        }

        public string TemplateText => Template.GetRawText();

        // Modules compile to nested deployments, so their resources are searched as well.
        public IEnumerable<JsonElement> ResourcesOfType(string type) =>
            AllResources(Template).Where(r => string.Equals(r.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase));

        static IEnumerable<JsonElement> AllResources(JsonElement template)
        {
            var resources = template.GetProperty("resources");
            // Symbolic-name templates (languageVersion 2.0) hold an object of resources instead of an array.
            var items = resources.ValueKind == JsonValueKind.Object
                ? resources.EnumerateObject().Select(p => p.Value)
                : resources.EnumerateArray();
            foreach (var resource in items)
            {
                yield return resource;
                if (resource.GetProperty("type").GetString() == "Microsoft.Resources/deployments"
                    && resource.GetProperty("properties").TryGetProperty("template", out var nested))
                {
                    foreach (var inner in AllResources(nested))
                    {
                        yield return inner;
                    }
                }
            }
        }

        public async Task InitializeAsync()
        {
            var root = RepositoryRoot();
            var bicep = LocateBicep(root);
            var withoutSecrets = ExampleSecrets.Keys.ToDictionary(k => k, _ => (string?)null);
            var withSecrets = ExampleSecrets.ToDictionary(p => p.Key, p => (string?)p.Value);

            var runs = await Task.WhenAll(
                RunAsync(bicep, root, ["build", "infra/main.bicep", "--stdout"], withoutSecrets),
                RunAsync(bicep, root, ["lint", "infra/main.bicep"], withoutSecrets),
                RunAsync(bicep, root, ["build-params", "infra/main.bicepparam", "--stdout"], withSecrets),
                RunAsync(bicep, root, ["lint", "infra/main.bicepparam"], withSecrets),
                RunAsync(bicep, root, ["build-params", "infra/main.bicepparam", "--stdout"], withoutSecrets));
            (Build, Lint, BuildParams, LintParams, BuildParamsWithoutSecrets) = (runs[0], runs[1], runs[2], runs[3], runs[4]);
        }

        public Task DisposeAsync()
        {
            template?.Dispose();
            return Task.CompletedTask;
        }

        static string RepositoryRoot()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Serverless.sln")))
                {
                    return directory.FullName;
                }
            }
            throw new InvalidOperationException($"No Serverless.sln above {AppContext.BaseDirectory}.");
        }

        // The CLI comes from the Azure.Bicep.CommandLine.linux-x64 package the test project restores (ExcludeAssets="all").
        static string LocateBicep(string root)
        {
            const string packageId = "Azure.Bicep.CommandLine.linux-x64";
            var version = XDocument.Load(Path.Combine(root, "Directory.Packages.props"))
                .Descendants("PackageVersion")
                .FirstOrDefault(e => (string?)e.Attribute("Include") == packageId)
                ?.Attribute("Version")?.Value
                ?? throw new InvalidOperationException($"Directory.Packages.props has no version for {packageId}.");

            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
                ? configured
                : Path.Combine(
                    Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                    ".nuget", "packages");
            var bicep = Path.Combine(packages, packageId.ToLowerInvariant(), version, "tools", "bicep");
            if (!File.Exists(bicep))
            {
                throw new FileNotFoundException(
                    $"Bicep CLI not found at {bicep}. Restore Functions.Tests (dotnet restore) so NuGet fetches " +
                    $"{packageId} {version}; the package is built for linux-x64 only.", bicep);
            }

            // NuGet extraction can drop the execute bit.
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(bicep);
                if (!mode.HasFlag(UnixFileMode.UserExecute))
                {
                    File.SetUnixFileMode(bicep, mode | UnixFileMode.UserExecute);
                }
            }
            return bicep;
        }

        static async Task<BicepRun> RunAsync(
            string bicep, string root, string[] arguments, IReadOnlyDictionary<string, string?> environment)
        {
            var command = $"bicep {string.Join(' ', arguments)}";
            var startInfo = new ProcessStartInfo(bicep)
            {
                WorkingDirectory = root,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }
            startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            foreach (var (name, value) in environment)
            {
                // A null value removes a variable the test run itself may have, so the outcome never depends on it.
                if (value is null)
                {
                    startInfo.Environment.Remove(name);
                }
                else
                {
                    startInfo.Environment[name] = value;
                }
            }

            using var process = Process.Start(startInfo)
                ?? throw new InvalidOperationException($"Could not start {bicep}.");
            process.StandardInput.Close();
            var standardOutput = process.StandardOutput.ReadToEndAsync();
            var standardError = process.StandardError.ReadToEndAsync();

            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{command} did not finish within {Timeout.TotalMinutes} minutes.");
            }
            return new BicepRun(command, process.ExitCode, await standardOutput, await standardError);
        }
    }
}
