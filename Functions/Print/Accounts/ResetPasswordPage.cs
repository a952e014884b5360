using System.Net;
using Serverless.Platform.Http;

namespace Serverless.Print.Accounts;

/// <summary>
/// The page a password-reset email links to (<c>{Print__PublicWebUrl}/reset-password?token=...</c>) when no separate
/// web app serves it: a new password typed twice, sent with the link's token to <c>POST /reset-password</c>, whose
/// answer the page shows (a weak password, a link already used or expired, or the new password taking effect). The
/// token is read by the script from the address and never written into the page; the request carries no cookie, so
/// it needs no CSRF token.
/// </summary>
public static class ResetPasswordPage
{
    public static IResult Render(PrintSettings settings, HttpContext context, string? token = null)
    {
        var nonce = HostedPages.Secure(context);
        var app = WebUtility.HtmlEncode(settings.AppName);
        if (string.IsNullOrWhiteSpace(token))
            return HostedPages.Html(nonce, $"Reset your {settings.AppName} password", Style,
                $"""
                <main>
                  <h1>This link is incomplete</h1>
                  <p id="message" data-kind="error">Open the link from the password-reset email again, or ask {app} for a new one.</p>
                </main>
                """, "", StatusCodes.Status400BadRequest);

        var body = $"""
            <main>
              <h1 id="heading">Choose a new password</h1>
              <p>for your {app} account.</p>
              <form id="reset" method="post" novalidate>
                <label for="password">New password</label>
                <input id="password" name="password" type="password" autocomplete="new-password" maxlength="512">
                <label for="confirm">Confirm the new password</label>
                <input id="confirm" name="confirm" type="password" autocomplete="new-password" maxlength="512">
                <p class="note">At least 8 characters. The new password signs you out wherever you are signed in.</p>
                <button id="submit" type="submit">Set the new password</button>
              </form>
              <p id="message" role="status"></p>
            </main>
            """;
        const string script = """
            const token = new URLSearchParams(window.location.search).get('token') || '';
            const form = document.getElementById('reset');
            const password = document.getElementById('password');
            const confirm = document.getElementById('confirm');
            const button = document.getElementById('submit');
            const heading = document.getElementById('heading');
            const message = document.getElementById('message');
            function say(text, kind) { message.textContent = text; message.dataset.kind = kind; }
            form.addEventListener('submit', async (event) => {
              event.preventDefault();
              if (password.value !== confirm.value) { say('The two passwords do not match.', 'error'); confirm.focus(); return; }
              button.disabled = true;
              say('Saving...', 'busy');
              let response;
              try {
                // No cookie goes with it: the token alone authorises the change.
                response = await fetch('/reset-password', {
                  method: 'POST', credentials: 'omit', cache: 'no-store',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ token: token, password: password.value })
                });
              } catch (e) {
                say('Could not reach the server. Check your connection and try again.', 'error');
                button.disabled = false;
                return;
              }
              const answer = await response.json().catch(() => ({}));
              if (response.ok) {
                form.remove();
                heading.textContent = 'Password changed';
                document.title = heading.textContent;
                say(answer.message || 'Your password has been reset.', 'done');
                return;
              }
              say(answer.error || 'The password could not be changed. Try again.', 'error');
              // A link that no longer works cannot be tried again: only a new email helps.
              if (answer.code === 'invalid_reset_token') { form.remove(); heading.textContent = 'This link no longer works'; }
              else button.disabled = false;
            });
            """;
        return HostedPages.Html(nonce, $"Reset your {settings.AppName} password", Style, body, script);
    }

    private const string Style = """
        label { display: block; margin-top: .8rem; font-weight: 600; }
        input { width: 100%; box-sizing: border-box; margin: .3rem 0; padding: .5rem; font-size: 1rem; border: 1px solid #c8ccd4; border-radius: 6px; }
        form button { margin-top: .6rem; }
        [data-kind=error] { color: #b42318; } [data-kind=done] { color: #1a7f37; }
        """;
}
