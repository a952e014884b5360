using System.Net;
using Serverless.Platform.Email;

namespace Serverless.Print.Accounts;

/// <summary>The emails accounts send: codes, reset links, username reminders and referral invites.</summary>
public static class AccountEmails
{
    public static EmailMessage SignupCode(PrintSettings settings, string to, string code, TimeSpan lifetime) =>
        Code(settings, to, code, lifetime, $"Your {settings.AppName} sign-up code", "to confirm your email and finish signing up");

    public static EmailMessage LoginCode(PrintSettings settings, string to, string code, TimeSpan lifetime) =>
        Code(settings, to, code, lifetime, $"Your {settings.AppName} sign-in code", "to sign in");

    public static EmailMessage PasswordReset(PrintSettings settings, string to, string token)
    {
        var link = $"{settings.PublicWebUrl}/reset-password?token={Uri.EscapeDataString(token)}";
        var hours = settings.ResetTokenLifetime.TotalHours;
        var text = $"Someone asked to reset the password of your {settings.AppName} account.\n\n" +
                   $"Reset it here: {link}\n\nThe link works once and expires in {hours:0.#} hour(s). " +
                   "If you did not ask for this, ignore this email: your password stays as it is.";
        var html = $"<p>Someone asked to reset the password of your {E(settings.AppName)} account.</p>" +
                   $"<p><a href=\"{E(link)}\">Reset your password</a></p>" +
                   $"<p>The link works once and expires in {hours:0.#} hour(s). If you did not ask for this, ignore this email.</p>";
        return new EmailMessage([to], $"Reset your {settings.AppName} password", html, text, Tags: Tag("password-reset"));
    }

    public static EmailMessage Username(PrintSettings settings, string to, string username)
    {
        var text = $"The username of your {settings.AppName} account is: {username}\n\nIf you did not ask for this, ignore this email.";
        var html = $"<p>The username of your {E(settings.AppName)} account is: <strong>{E(username)}</strong></p>" +
                   "<p>If you did not ask for this, ignore this email.</p>";
        return new EmailMessage([to], $"Your {settings.AppName} username", html, text, Tags: Tag("username-reminder"));
    }

    public static EmailMessage Invite(PrintSettings settings, string to, string referrerName, string code)
    {
        var link = settings.ReferralLink(code);
        var text = $"{referrerName} invited you to {settings.AppName}: print your documents at a shop near you.\n\n" +
                   $"Sign up with their link: {link}\n(or enter the referral code {code} when you sign up).";
        var html = $"<p>{E(referrerName)} invited you to {E(settings.AppName)}: print your documents at a shop near you.</p>" +
                   $"<p><a href=\"{E(link)}\">Sign up with their link</a>, or enter the referral code <strong>{E(code)}</strong> when you sign up.</p>";
        return new EmailMessage([to], $"{referrerName} invited you to {settings.AppName}", html, text, Tags: Tag("referral-invite"));
    }

    private static EmailMessage Code(PrintSettings settings, string to, string code, TimeSpan lifetime, string subject, string purpose)
    {
        var minutes = lifetime.TotalMinutes;
        var text = $"Your code is {code}. Enter it {purpose}. It expires in {minutes:0} minutes.\n\n" +
                   "If you did not ask for this code, ignore this email. Never share the code with anyone.";
        var html = $"<p>Your code is <strong style=\"font-size:1.4em;letter-spacing:0.2em\">{code}</strong>.</p>" +
                   $"<p>Enter it {E(purpose)}. It expires in {minutes:0} minutes.</p>" +
                   "<p>If you did not ask for this code, ignore this email. Never share the code with anyone.</p>";
        return new EmailMessage([to], subject, html, text, Tags: Tag("one-time-code"));
    }

    private static Dictionary<string, string> Tag(string category) => new() { ["category"] = category };

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
