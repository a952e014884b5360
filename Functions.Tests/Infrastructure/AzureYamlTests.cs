using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Serverless.Tests.Infrastructure;

// azure.yaml is what `azd up` reads: it must provision infra/ and deploy the folder ./dev package writes, so a
// rename on either side fails here rather than in someone's first deployment.
public sealed partial class AzureYamlTests
{
    [Fact]
    public void Azd_provisions_the_bicep_entry_point_with_its_parameter_file()
    {
        var project = AzureYaml.Load();
        var infra = project.Mapping("infra");

        Assert.Equal("bicep", infra.Scalar("provider") ?? "bicep");
        var path = infra.Scalar("path") ?? "infra";
        var module = infra.Scalar("module") ?? "main";
        Assert.Equal("infra/main.bicep", $"{path.TrimStart('.', '/').TrimEnd('/')}/{module}.bicep");
        // azd passes <module>.bicepparam when it exists, which is where the secrets come from the environment.
        Assert.True(File.Exists(Path.Combine(AzureYaml.RepositoryRoot, path, module + ".bicep")));
        Assert.True(File.Exists(Path.Combine(AzureYaml.RepositoryRoot, path, module + ".bicepparam")));
    }

    [Fact]
    public void Azd_deploys_the_folder_dev_package_writes_to_a_function_app()
    {
        var service = AzureYaml.Load().OnlyService();

        Assert.Equal("function", service.Scalar("host"));
        // Nothing for azd to build: the hook below makes the whole deployable folder.
        Assert.Equal("custom", service.Scalar("language"));
        Assert.Equal(".", service.Scalar("project"));
        Assert.Equal(PackageFolderOfDevScript(), service.Scalar("dist")?.TrimStart('.', '/').TrimEnd('/'));
        Assert.Equal("false", service.Scalar("remoteBuild"));
    }

    [Fact]
    public void Azd_packages_with_dev_package()
    {
        var service = AzureYaml.Load().OnlyService();

        var hook = service.Mapping("hooks").Mapping("prepackage").Mapping("posix");
        Assert.Equal("./dev package", hook.Scalar("run"));
    }

    // The folder cmd_package in the dev script publishes into (local out="$ROOT/<folder>").
    static string PackageFolderOfDevScript()
    {
        var dev = File.ReadAllText(Path.Combine(AzureYaml.RepositoryRoot, "dev"));
        var match = PackageOutput().Match(dev);
        Assert.True(match.Success, "cmd_package in ./dev no longer sets local out=\"$ROOT/...\"");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"cmd_package\(\) \{[^}]*?local out=""\$ROOT/([^""]+)""")]
    private static partial Regex PackageOutput();
}

/// <summary>azure.yaml at the repository root, read with YamlDotNet's representation model.</summary>
public sealed class AzureYaml(YamlMappingNode root)
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static AzureYaml Load()
    {
        using var reader = new StreamReader(Path.Combine(RepositoryRoot, "azure.yaml"));
        var stream = new YamlStream();
        stream.Load(reader);
        return new AzureYaml((YamlMappingNode)Assert.Single(stream.Documents).RootNode);
    }

    /// <summary>The name azd deploys the app under; the function app carries it as its azd-service-name tag.</summary>
    public string ServiceName => Assert.Single(Services.Children).Key.ToString();

    public Section OnlyService() => new((YamlMappingNode)Assert.Single(Services.Children).Value);

    public Section Mapping(string key) => new Section(root).Mapping(key);

    YamlMappingNode Services => Assert.IsType<YamlMappingNode>(root.Children[new YamlScalarNode("services")]);

    public sealed class Section(YamlMappingNode node)
    {
        public Section Mapping(string key) =>
            new(Assert.IsType<YamlMappingNode>(node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null));

        public string? Scalar(string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? Assert.IsType<YamlScalarNode>(child).Value : null;
    }

    static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Serverless.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"No Serverless.sln above {AppContext.BaseDirectory}.");
    }
}
