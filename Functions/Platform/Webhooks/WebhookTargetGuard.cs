using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Serverless.Platform.Webhooks;

/// <summary>A target the guard will not send to (a non-public address, a scheme that is not allowed).</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);

/// <summary>
/// Keeps webhooks from being aimed at the app's own network (SSRF): https only (http where
/// <see cref="WebhookOptions.AllowHttp"/>), and every address the host resolves to must be public, unless
/// <see cref="WebhookOptions.AllowPrivateTargets"/>. A URL is checked when it is registered, and again at send time
/// by the connection itself: the HTTP handler resolves the host, drops the addresses that are not allowed and
/// connects to one it checked, so a DNS answer that changes between check and send (rebinding) gains nothing.
/// </summary>
public sealed class WebhookTargetGuard(IOptions<WebhookOptions> options)
{
    public const int MaxUrlLength = 2000;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private static readonly IPNetwork[] NonPublic =
    [
        // IPv4: "this network", private, carrier-grade NAT, loopback, link-local (cloud metadata 169.254.169.254),
        // IETF and documentation ranges, 6to4 relay, benchmarking, multicast, reserved and broadcast.
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("192.88.99.0/24"),
        IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        // IPv6: unspecified, loopback and IPv4-compatible (::/96), local-use NAT64, discard, Teredo, documentation,
        // unique local (fc00::/7), link-local, site-local, multicast.
        IPNetwork.Parse("::/96"), IPNetwork.Parse("64:ff9b:1::/48"), IPNetwork.Parse("100::/64"),
        IPNetwork.Parse("2001::/32"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    // IPv6 ranges that carry an IPv4 address inside: judged by the address they reach.
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private WebhookOptions Options => options.Value;

    /// <summary>Whether an address is on the public internet (false for loopback, private, link-local, ...).</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            return IsPublic(address.MapToIPv4());
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            if (Nat64.Contains(address))
                return IsPublic(new IPAddress(bytes.AsSpan(12, 4)));
            if (SixToFour.Contains(address))
                return IsPublic(new IPAddress(bytes.AsSpan(2, 4)));
        }
        return !NonPublic.Any(network => network.Contains(address));
    }

    /// <summary>The URL's form: absolute, https (or http where allowed), no credentials. Null when it is fine.</summary>
    public string? CheckForm(string? url, string field, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(url))
            return $"'{field}' is required.";
        if (url.Length > MaxUrlLength)
            return $"'{field}' must be at most {MaxUrlLength} characters.";
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var parsed) || parsed.Host.Length == 0
            || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp))
            return $"'{field}' must be an absolute https:// URL.";
        if (parsed.Scheme == Uri.UriSchemeHttp && Options.AllowHttp != true)
            return $"'{field}' must use https://; plain http:// is not allowed here.";
        if (parsed.UserInfo.Length > 0)
            return $"'{field}' must not carry a user name or password.";
        uri = parsed;
        return null;
    }

    /// <summary>
    /// The whole check made when a URL is registered: its form, then its host must resolve, and only to addresses
    /// webhooks may reach. Returns the problem, for a 400, or null.
    /// </summary>
    public async Task<string?> CheckAsync(string? url, string field, CancellationToken cancellationToken)
    {
        if (CheckForm(url, field, out var uri) is { } problem)
            return problem;
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ResolveTimeout);
            addresses = await ResolveAsync(uri!.IdnHost, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            return $"'{field}' host '{uri!.Host}' could not be resolved.";
        }
        if (addresses.Length == 0)
            return $"'{field}' host '{uri!.Host}' could not be resolved.";
        if (!Options.AllowPrivateTargets && addresses.FirstOrDefault(a => !IsPublic(a)) is { } blocked)
            return $"'{field}' resolves to {blocked}, a loopback, private, link-local or otherwise non-public address, which webhooks may not target.";
        return null;
    }

    /// <summary>The addresses of <paramref name="host"/> that may be connected to; refused when there are none.</summary>
    public async Task<IPAddress[]> AllowedAddressesAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken);
        var allowed = Options.AllowPrivateTargets ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
            throw new WebhookTargetRefusedException(
                $"Refused to connect to {host}: it resolves only to non-public addresses ({string.Join(", ", addresses.Take(4))}).");
        return allowed;
    }

    /// <summary>
    /// The handler behind the named webhook HttpClient: no redirects, no proxy, no cookies, and connections made
    /// only to addresses this guard allowed.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = Options.RequestTimeout,
        // Connections are re-made (and re-resolved, and re-checked) at least this often.
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var allowed = await AllowedAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex) when (ex is SocketException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(literal, out var address))
            return [address];
        return await Dns.GetHostAddressesAsync(host, cancellationToken);
    }
}
