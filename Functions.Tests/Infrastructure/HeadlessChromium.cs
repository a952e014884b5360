using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// One headless Chromium for a test class (use it as a class fixture): Debian's <c>chromium</c> driven through its
/// <c>chromium-driver</c>, both installed by <c>./dev test</c>. Selenium Manager is never asked for a driver or a
/// browser (the paths are given and <c>SE_OFFLINE</c> is set), and Chromium starts with the switches that keep it
/// off the network, in a fresh profile that is deleted when the class is done.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    /// <summary>How long a test waits for the page to reach a state before it fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _profile;

    public HeadlessChromium()
    {
        if (!File.Exists(BrowserPath) || !File.Exists(DriverPath))
            throw new InvalidOperationException(
                $"Browser tests need {BrowserPath} and {DriverPath} (Debian's chromium and chromium-driver); ./dev test installs them.");
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");

        _profile = Directory.CreateTempSubdirectory("chromium-profile-").FullName;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=800,900", "--user-data-dir=" + _profile);
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        try
        {
            Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        }
        catch
        {
            service.Dispose();
            DeleteProfile();
            throw;
        }
    }

    public ChromeDriver Driver { get; }

    /// <summary>Waits, up to <see cref="Patience"/>, until <paramref name="condition"/> returns a value other than null or false.</summary>
    public T WaitFor<T>(Func<IWebDriver, T> condition, string what)
    {
        var wait = new WebDriverWait(Driver, Patience) { Message = "Waited for " + what };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition);
    }

    /// <summary>The browser console since the last call: what the page logged, failed loads and policy violations.</summary>
    public IReadOnlyList<LogEntry> ConsoleLog() => Driver.Manage().Logs.GetLog(LogType.Browser);

    /// <summary>Fails when the console took a warning or an error since the last look, other than those <paramref name="expected"/> names.</summary>
    public void AssertNoConsoleErrors(Func<string, bool>? expected = null)
    {
        var errors = ConsoleLog().Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message).Where(m => expected?.Invoke(m) != true).ToList();
        Assert.True(errors.Count == 0, "The browser console has errors:\n" + string.Join("\n", errors));
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            DeleteProfile();
        }
    }

    private void DeleteProfile()
    {
        if (Directory.Exists(_profile))
            Directory.Delete(_profile, recursive: true);
    }
}
