using System.Net;
using System.Security.Cryptography;

namespace Serverless.Platform.Http;

/// <summary>
/// What the app's own HTML pages (a pre-order's pay page, a checkout page, the print shop's reset-password and
/// referral pages) share: a strict content security policy whose nonce alone lets the page's style and script run,
/// no caching, no referrer, and one layout.
/// </summary>
public static class HostedPages
{
    /// <summary>Documents a page: it answers <c>text/html</c>, also its 404 page when it has one.</summary>
    public static RouteHandlerBuilder ProducesHtml(this RouteHandlerBuilder builder, bool notFoundPage = true)
    {
        builder.Produces<string>(StatusCodes.Status200OK, "text/html");
        return notFoundPage ? builder.Produces<string>(StatusCodes.Status404NotFound, "text/html") : builder;
    }

    /// <summary>Sets the page's security headers and returns the nonce its inline style and script must carry.</summary>
    public static string Secure(HttpContext context)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        context.Response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; img-src data:; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        return nonce;
    }

    /// <summary>The shared look: a card on a light background, a blue button, a status coloured by its <c>data-status</c>.</summary>
    public const string BaseStyle = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
        main { max-width: 440px; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 1.5rem 2rem; box-shadow: 0 2px 12px #0001; }
        button { font-size: 1.05rem; padding: .65rem 1.5rem; border: 0; border-radius: 8px; background: #1f6feb; color: #fff; cursor: pointer; }
        button:disabled { opacity: .6; }
        .note { color: #666; font-size: .85rem; }
        """;

    /// <summary>A whole page: <paramref name="style"/> after the base style, then the body and its script.</summary>
    public static IResult Html(string nonce, string title, string style, string body, string script, int statusCode = StatusCodes.Status200OK) =>
        Results.Content($$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>{{WebUtility.HtmlEncode(title)}}</title>
              <style nonce="{{nonce}}">
            {{BaseStyle}}
            {{style}}
              </style>
            </head>
            <body>
            {{body}}
            <script nonce="{{nonce}}">
            {{script}}
            </script>
            </body>
            </html>
            """, "text/html; charset=utf-8", statusCode: statusCode);
}
