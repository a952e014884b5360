using System.Globalization;
using System.Net;
using Serverless.Platform.Http;
using Serverless.Print.Wallet;

namespace Serverless.Print.Accounts;

/// <summary>
/// The page a referral link opens (<c>{Print__PublicWebUrl}/r/{code}</c>) when no separate web app serves it: the
/// invitation, the code to enter at sign-up, and where to get the customer apps (the links and "coming soon" flags of
/// <c>GET /app-downloads</c>). The page never looks the code up: whether a code belongs to someone is told only at
/// sign-up, as before, so it shows any well-formed code and names no one; a malformed one is a 404 page.
/// </summary>
public static class ReferralPage
{
    public static async Task<IResult> Render(string code, AppDownloadsStore downloads, PrintSettings settings, PrintMoneySettings money,
        HttpContext context)
    {
        var nonce = HostedPages.Secure(context);
        var app = E(settings.AppName);
        var apps = Apps(await downloads.GetAsync(context.RequestAborted));
        if (!PrintAccounts.IsReferralCode(code))
            return HostedPages.Html(nonce, "Invite link not valid", Style,
                $"""
                <main>
                  <h1>This invite link is not valid</h1>
                  <p>Check that the whole link was copied, or ask your friend for their referral code: you can enter it when you sign up to {app}.</p>
                  {apps}
                </main>
                """, "", StatusCodes.Status404NotFound);

        var shown = code.ToUpperInvariant();
        var welcome = money.ReferralWelcomeMinor > 0
            ? $" and get ₹{PrintMoney.Rupees(money.ReferralWelcomeMinor).ToString("0.##", CultureInfo.InvariantCulture)} in your wallet after your first top-up or print"
            : "";
        var body = $"""
            <main>
              <h1>You're invited to {app}</h1>
              <p>A friend invited you to {app}: print your documents at a shop near you.</p>
              <p>Your referral code</p>
              <p class="code" id="code">{E(shown)}</p>
              <p id="how">Enter it when you sign up{welcome}.</p>
              {apps}
            </main>
            """;
        return HostedPages.Html(nonce, $"You're invited to {settings.AppName}", Style, body, "");
    }

    /// <summary>The customer apps (referral codes are for customer sign-ups): a link, or "Coming soon" when it has none yet.</summary>
    private static string Apps(AppDownloadsRow row) => $"""
        <section id="apps">
          <h2>Get the app</h2>
          <ul>
            {App("android", "Android", row.AndroidCustomerUrl, row.AndroidComingSoon)}
            {App("ios", "iPhone", row.IosCustomerUrl, row.IosComingSoon)}
          </ul>
        </section>
        """;

    private static string App(string id, string platform, string url, bool comingSoon) =>
        comingSoon || url.Length == 0
            ? $"""<li id="{id}">{platform}: <span class="soon">Coming soon</span></li>"""
            : $"""<li id="{id}">{platform}: <a href="{E(url)}" rel="noopener noreferrer">Download the {platform} app</a></li>""";

    private static string E(string value) => WebUtility.HtmlEncode(value);

    private const string Style = """
        .code { font: 700 1.8rem ui-monospace, monospace; letter-spacing: .15em; margin: .2rem 0 .8rem; user-select: all; }
        section { border-top: 1px solid #e4e6eb; margin-top: 1rem; }
        ul { padding-left: 1.2rem; } li { margin: .4rem 0; }
        .soon { color: #666; font-style: italic; }
        """;
}
