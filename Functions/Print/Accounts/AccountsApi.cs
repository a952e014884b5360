using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Email;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Print.Accounts;

/// <summary>
/// Print-shop accounts, in the document's order: sign-up with an emailed code, password and code sign-in, password
/// and username recovery, the CSRF token, sign-out, and the signed-in user's profile.
/// </summary>
public static partial class AccountsApi
{
    public const string SignupPurpose = "print-signup";
    public const string LoginPurpose = "print-login";
    private const string ThrottleScope = "print-auth";

    /// <summary>Password guesses per account, whichever identifier names it.</summary>
    private const string AccountThrottleScope = "print-auth-account";

    public static void MapPrintAccounts(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("").WithTags("Print-shop accounts").WithErrorShape(PrintErrorShape.Instance)
            .AllowAnonymous().RequireRateLimiting(RateLimitPolicies.Auth);
        auth.MapPost("/register/send-otp", SendSignupOtp).WithName("PrintRegisterSendOtp").WithSummary("Email a sign-up code")
            .WithDescription("Emails a 6-digit sign-up code to `email` (trimmed) and answers with a message saying how many minutes it " +
                "stays valid; a new code replaces the previous one. Anyone may call it, without a token. 400 " +
                "`validation_error` when `email` is missing or not an email address (at most 254 characters), 400 " +
                "`email_registered` when an account already uses it; 429 with `Retry-After` when a code was sent to that " +
                "address too recently, or the address or the caller has made too many requests.");
        auth.MapPost("/register/verify-otp", VerifySignupOtp).WithName("PrintRegisterVerifyOtp").WithSummary("Check a sign-up code and get a sign-up token")
            .WithDescription("Checks the 6-digit `code` emailed to `email` and, when it matches, answers with a `signup_token` that lets " +
                "POST /register create an account with that same email; a code works once. Anyone may call it, without a " +
                "token. 400 `validation_error` for a missing or malformed email or code, 400 `invalid_code` for a wrong or " +
                "expired code, 400 `code_locked` once too many wrong codes were tried (request a new one); 429 with " +
                "`Retry-After` when the address or the caller has made too many requests.");
        auth.MapPost("/register", Register).WithName("PrintRegister")
            .Produces<string>(StatusCodes.Status400BadRequest, "text/plain") // "This username is already in use."
            .WithSummary("Create a customer or shopkeeper account")
            .WithDescription("Creates a customer account (`role` absent, blank or `customer`) or a shopkeeper account (`shopkeeper`, which " +
                "also needs `shop_name` and the shop's `lat`/`long`), signs it in with the sign-in cookie and answers 201 with " +
                "a session `token`. Anyone may call it; unless sign-up codes are switched off (never in production) it needs " +
                "the `signup_token` from POST /register/verify-otp for the same email; `username` is 3 to 30 letters, digits, " +
                "'.', '_' or '-' starting with a letter, `phone` is optional with 10 to 15 digits, and `referral_code` is for " +
                "customers only. 400 `validation_error` for a field that fails its check, `signup_token_required` or " +
                "`signup_token_invalid` for a missing, expired or other-address token, `invalid_referral_code` for an unknown " +
                "code, and a plain-text 400 naming the username, email or mobile number already in use; 429 with `Retry-After` " +
                "when the email or the caller has made too many requests.");
        auth.MapPost("/login", Login).WithName("PrintLogin").ProducesErrors(StatusCodes.Status401Unauthorized).WithSummary("Sign in with a username, email or mobile number and a password")
            .WithDescription("Signs in with the account's username, email address or mobile number in `username` and its `password`; " +
                "answers with a session `token`, the `role` and the username, and sets the sign-in cookie for browsers. Anyone " +
                "may call it, without a token. 400 `validation_error` when a field is missing or too long; 401 " +
                "`invalid_credentials` when no enabled account matches the identifier and password; 429 with `Retry-After` " +
                "when the identifier, the account (however it is named) or the caller has used up its sign-in attempts.");
        auth.MapPost("/login/request-otp", RequestLoginOtp).WithName("PrintLoginRequestOtp").WithSummary("Email a sign-in code")
            .WithDescription("Emails a 6-digit sign-in code to the account registered with the email address in `login`; the answer is the " +
                "same whether or not such an account exists. Anyone may call it, without a token; codes go to email addresses " +
                "only. 400 `otp_email_only` when `login` is not an email address, 400 `validation_error` when it is missing or " +
                "malformed; 429 with `Retry-After` when a code was sent to that address too recently, or the address or the " +
                "caller has made too many requests.");
        auth.MapPost("/login/verify-otp", VerifyLoginOtp).WithName("PrintLoginVerifyOtp").WithSummary("Sign in with an emailed code")
            .WithDescription("Signs in with the 6-digit `code` emailed for the address in `login`: answers with a session `token`, the " +
                "`role` and the username, and sets the sign-in cookie; a code works once. Anyone may call it, without a token. " +
                "400 `validation_error` or `otp_email_only` for a malformed login or code, 400 `invalid_code` for a wrong or " +
                "expired code (or an address without an account), 400 `code_locked` once too many wrong codes were tried; 429 " +
                "with `Retry-After` when the address or the caller has made too many requests.");
        auth.MapPost("/forgot-password", ForgotPassword).WithName("PrintForgotPassword").WithSummary("Email a password-reset link")
            .WithDescription("Emails a single-use password-reset link, valid for a limited time, to the account registered with `email`; " +
                "the answer is the same whether or not such an account exists. Anyone may call it, without a token. 400 " +
                "`validation_error` when `email` is missing or not an email address; 429 with `Retry-After` when the address " +
                "or the caller has made too many requests.");
        auth.MapPost("/reset-password", ResetPassword).WithName("PrintResetPassword").WithSummary("Set a new password with a reset token")
            .WithDescription("Sets a new `password` (8 to 128 characters, not one of the most common passwords) with the `token` from a " +
                "reset link: the token and the account's other reset links stop working, and every session of the account " +
                "ends. Anyone may call it: the token is the authority. 400 `validation_error` for a missing token or an " +
                "unacceptable password, 400 `invalid_reset_token` when the token is unknown, already used or expired; 429 when " +
                "the caller has made too many requests.");
        auth.MapPost("/forgot-username", ForgotUsername).WithName("PrintForgotUsername").WithSummary("Email the account's username")
            .WithDescription("Emails the username of the account registered with `email` to that address; the answer is the same whether or " +
                "not such an account exists. Anyone may call it, without a token. 400 `validation_error` when `email` is " +
                "missing or not an email address; 429 with `Retry-After` when the address or the caller has made too many " +
                "requests.");

        var session = app.MapGroup("").WithTags("Print-shop accounts").WithErrorShape(PrintErrorShape.Instance)
            .AllowAnonymous().RequireRateLimiting(RateLimitPolicies.PerCaller);
        session.MapGet("/csrf-token", CsrfToken).WithName("PrintCsrfToken").WithSummary("A CSRF token for cookie-authenticated requests")
            .WithDescription("Returns the CSRF token that a browser signed in with the cookie must send in the `X-CSRF-Token` header on " +
                "requests that change something (POST, PUT, DELETE); sets the `csrf_secret` cookie the token belongs to when " +
                "the browser has none, and the answer is never cached. Anyone may call it. 429 when the caller has made too " +
                "many requests.");
        session.MapPost("/logout", Logout).WithName("PrintLogout").WithSummary("Sign out: clear the sign-in cookie")
            .WithDescription("Clears the sign-in cookie and answers with a message; it needs neither a token nor a CSRF token and always " +
                "succeeds. A bearer token is not revoked by it: it stays valid until it expires. 429 when the caller has made " +
                "too many requests.");

        var profile = app.MapGroup("/profile").WithTags("Print-shop accounts").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.UserPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        profile.MapGet("/", GetProfile).WithName("PrintGetProfile").WithSummary("The signed-in account's profile")
            .WithDescription("Returns the signed-in account's profile: identifiers, role, address, shop details and open state " +
                "(shopkeepers) and, for customers, the referral code and link. Any signed-in print-shop account (customer, " +
                "shopkeeper or admin) with the bearer token or the sign-in cookie. 401 without a valid token, or " +
                "`session_ended` when the account was deleted or its password changed since the token was issued.");
        profile.MapPut("/", UpdateProfile).WithName("PrintUpdateProfile")
            .Produces<string>(StatusCodes.Status400BadRequest, "text/plain") // "This username is already in use."
            .WithSummary("Change the profile (a password change needs the current password)").WithDescription(UpdateProfileDescription);
        profile.MapDelete("/", DeleteProfile).WithName("PrintDeleteProfile").WithSummary("Delete the account (needs the password)")
            .WithDescription("Deletes the signed-in account and the data that belongs to it after checking `password`, clears the sign-in " +
                "cookie, and frees its username, email, mobile number and referral code. Customers and shopkeepers, with the " +
                "bearer token or the sign-in cookie (plus the `X-CSRF-Token` header; 403 `csrf_token_invalid` without it); " +
                "admin accounts are refused with 403. 400 `validation_error` when `password` is missing, 400 " +
                "`invalid_password` when it is wrong, 400 `wallet_not_empty` while the wallet holds money and 400 " +
                "`prints_pending` while prints or shop orders are waiting; 401 `session_ended` when the session was revoked; " +
                "429 with `Retry-After` when the account has used up its password attempts (shared with POST /login).");
    }

    public static async Task<Results<Ok<MessageResponse>, ErrorResult>> SendSignupOtp(
        SendSignupOtpRequest body, PrintAccounts accounts, OneTimeCodes codes, Mailer mailer, PrintSettings settings,
        IdentifierThrottle throttle, HttpContext context)
    {
        var email = body.Email?.Trim() ?? "";
        if (Admit(email, CheckEmail(email, "email"), throttle, context) is { } problem)
            return problem;
        if (await accounts.IsEmailRegisteredAsync(email, context.RequestAborted))
            return ApiErrors.BadRequest("This email is already registered. Sign in instead, or reset your password.", "email_registered");
        var issued = await codes.IssueAsync(SignupPurpose, email, cancellationToken: context.RequestAborted);
        if (issued.Throttled)
            return RateLimitPolicies.TooManyRequests(context, issued.RetryAfter!.Value);
        await mailer.EnqueueAsync(AccountEmails.SignupCode(settings, email, issued.Code!, codes.Settings.Lifetime), cancellationToken: context.RequestAborted);
        return TypedResults.Ok(new MessageResponse($"A 6-digit code has been sent to {email}. It expires in {codes.Settings.Lifetime.TotalMinutes:0} minutes."));
    }

    public static async Task<Results<Ok<SignupTokenResponse>, ErrorResult>> VerifySignupOtp(
        VerifySignupOtpRequest body, OneTimeCodes codes, SignupTokens signup, IdentifierThrottle throttle, HttpContext context)
    {
        var email = body.Email?.Trim() ?? "";
        if (Admit(email, CheckEmail(email, "email") ?? CheckCode(body.Code), throttle, context) is { } problem)
            return problem;
        return await codes.VerifyAsync(SignupPurpose, email, body.Code.Trim(), context.RequestAborted) switch
        {
            CodeCheck.Verified => TypedResults.Ok(new SignupTokenResponse(signup.Issue(email), email)),
            CodeCheck.Locked => CodeLocked(),
            _ => CodeInvalid(),
        };
    }

    public static async Task<Results<Created<RegisterResponse>, ContentHttpResult, ErrorResult>> Register(
        RegisterRequest body, PrintAccounts accounts, SignupTokens signup, PrintSettings settings, TokenService tokens,
        IdentifierThrottle throttle, HttpContext context)
    {
        var role = string.IsNullOrWhiteSpace(body.Role) ? PrintRoles.Customer : body.Role.Trim();
        var email = body.Email?.Trim() ?? "";
        var referralCode = string.IsNullOrWhiteSpace(body.ReferralCode) ? null : body.ReferralCode.Trim();
        var problem = Check.Required(body.FullName, "full_name", 100)
                      ?? CheckUsername(body.Username)
                      ?? CheckEmail(email, "email")
                      ?? CheckPhone(body.Phone)
                      ?? CheckPassword(body.Password)
                      ?? (role is PrintRoles.Customer or PrintRoles.Shopkeeper ? null
                          : ApiErrors.BadRequest("'role' must be customer or shopkeeper.", "validation_error"))
                      ?? (role == PrintRoles.Shopkeeper ? CheckShop(body.ShopName, body.Lat, body.Long, required: true) : null)
                      ?? (body.Address is { Length: > 300 } ? ApiErrors.BadRequest("'address' must be at most 300 characters.", "validation_error") : null)
                      ?? (referralCode is not null && role != PrintRoles.Customer
                          ? ApiErrors.BadRequest("'referral_code' applies to customer sign-ups only.", "validation_error") : null);
        if (Admit(email, problem, throttle, context) is { } refused)
            return refused;
        if (!settings.SkipSignupOtp)
        {
            if (string.IsNullOrWhiteSpace(body.SignupToken))
                return ApiErrors.BadRequest("'signup_token' is required: verify the email with POST /register/send-otp and POST /register/verify-otp first.", "signup_token_required");
            var verified = await signup.ValidateAsync(body.SignupToken.Trim());
            if (verified is null)
                return ApiErrors.BadRequest("The signup_token is invalid or has expired; verify the email again.", "signup_token_invalid");
            if (!string.Equals(verified, email, StringComparison.OrdinalIgnoreCase))
                return ApiErrors.BadRequest("The signup_token was issued for a different email address.", "signup_token_invalid");
        }

        var result = await accounts.RegisterAsync(new Registration(
            body.FullName.Trim(), body.Username.Trim(), email, Blank(body.Phone), body.Password, role,
            Blank(body.ShopName), body.Lat, body.Long, Blank(body.Address), referralCode), context.RequestAborted);
        if (result.UnknownReferralCode)
            return ApiErrors.BadRequest($"Referral code '{referralCode}' is not valid.", "invalid_referral_code");
        if (result.TakenFields.Count > 0)
            return InUse(result.TakenFields);
        var (user, profile) = (result.User!, result.Profile!);
        var token = StartSession(context, tokens, settings, user, profile);
        return TypedResults.Created("/profile", new RegisterResponse("Registration successful.", user.Id, token, profile.Role, user.Username!));
    }

    public static async Task<Results<Ok<LoginResponse>, ErrorResult>> Login(
        LoginRequest body, PrintAccounts accounts, TokenService tokens, PrintSettings settings, IdentifierThrottle throttle, HttpContext context)
    {
        if (Admit(body.Username, Check.Required(body.Username, "username", 320) ?? Check.Required(body.Password, "password", 256),
                throttle, context) is { } problem)
            return problem;
        var outcome = await accounts.SignInAsync(body.Username, body.Password,
            userId => throttle.TryAcquire(AccountThrottleScope, userId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            context.RequestAborted);
        if (outcome.Throttled)
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        if (outcome.Account is not var (user, profile))
            return ApiErrors.Result(new ApiError(401, "invalid_credentials", "Invalid username or password."));
        return TypedResults.Ok(SignedIn(context, tokens, settings, user, profile));
    }

    public static async Task<Results<Ok<MessageResponse>, ErrorResult>> RequestLoginOtp(
        RequestLoginOtpRequest body, PrintAccounts accounts, OneTimeCodes codes, Mailer mailer, PrintSettings settings,
        IdentifierThrottle throttle, HttpContext context)
    {
        var login = body.Login?.Trim() ?? "";
        if (Admit(login, CheckOtpLogin(login), throttle, context) is { } problem)
            return problem;
        var account = await accounts.FindByEmailAsync(login, context.RequestAborted);
        // An unregistered address gets a decoy code row, so that answers, cooldown and lockout look the same.
        var issued = await codes.IssueAsync(LoginPurpose, login, deliverable: account is not null, context.RequestAborted);
        if (issued.Throttled)
            return RateLimitPolicies.TooManyRequests(context, issued.RetryAfter!.Value);
        if (issued.Code is { } code && account is var (user, _))
            await mailer.EnqueueAsync(AccountEmails.LoginCode(settings, user.Email!, code, codes.Settings.Lifetime), cancellationToken: context.RequestAborted);
        return TypedResults.Ok(new MessageResponse("If an account exists for that email, a 6-digit sign-in code has been sent to it."));
    }

    public static async Task<Results<Ok<LoginResponse>, ErrorResult>> VerifyLoginOtp(
        VerifyLoginOtpRequest body, PrintAccounts accounts, OneTimeCodes codes, TokenService tokens, PrintSettings settings,
        IdentifierThrottle throttle, HttpContext context)
    {
        var login = body.Login?.Trim() ?? "";
        if (Admit(login, CheckOtpLogin(login) ?? CheckCode(body.Code), throttle, context) is { } problem)
            return problem;
        var check = await codes.VerifyAsync(LoginPurpose, login, body.Code.Trim(), context.RequestAborted);
        if (check == CodeCheck.Locked)
            return CodeLocked();
        if (check != CodeCheck.Verified || await accounts.FindByEmailAsync(login, context.RequestAborted) is not var (user, profile))
            return CodeInvalid();
        return TypedResults.Ok(SignedIn(context, tokens, settings, user, profile));
    }

    public static async Task<Results<Ok<MessageResponse>, ErrorResult>> ForgotPassword(
        EmailRequest body, PrintAccounts accounts, Mailer mailer, PrintSettings settings, IdentifierThrottle throttle, HttpContext context)
    {
        var email = body.Email?.Trim() ?? "";
        if (Admit(email, CheckEmail(email, "email"), throttle, context) is { } problem)
            return problem;
        if (await accounts.FindByEmailAsync(email, context.RequestAborted) is var (user, profile) && profile.ETag != default)
        {
            var token = await accounts.CreateResetTokenAsync(user.Id, context.RequestAborted);
            await mailer.EnqueueAsync(AccountEmails.PasswordReset(settings, user.Email!, token), cancellationToken: context.RequestAborted);
        }
        return TypedResults.Ok(new MessageResponse("If an account exists for that email, a password reset link has been sent to it."));
    }

    public static async Task<Results<Ok<MessageResponse>, ErrorResult>> ResetPassword(
        ResetPasswordRequest body, PrintAccounts accounts, HttpContext context)
    {
        var problem = Check.Required(body.Token, "token", 200) ?? CheckPassword(body.Password);
        if (problem is not null)
            return problem;
        if (!await accounts.ResetPasswordAsync(body.Token.Trim(), body.Password, context.RequestAborted))
            return ApiErrors.BadRequest("This reset link is invalid, already used or expired; request a new one.", "invalid_reset_token");
        return TypedResults.Ok(new MessageResponse("Your password has been reset. Sign in with the new password."));
    }

    public static async Task<Results<Ok<MessageResponse>, ErrorResult>> ForgotUsername(
        EmailRequest body, PrintAccounts accounts, Mailer mailer, PrintSettings settings, IdentifierThrottle throttle, HttpContext context)
    {
        var email = body.Email?.Trim() ?? "";
        if (Admit(email, CheckEmail(email, "email"), throttle, context) is { } problem)
            return problem;
        if (await accounts.FindByEmailAsync(email, context.RequestAborted) is var (user, _) && user.Username is not null)
            await mailer.EnqueueAsync(AccountEmails.Username(settings, user.Email!, user.Username), cancellationToken: context.RequestAborted);
        return TypedResults.Ok(new MessageResponse("If an account exists for that email, its username has been sent to it."));
    }

    public static Ok<CsrfTokenResponse> CsrfToken(CsrfTokens csrf, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new CsrfTokenResponse(csrf.Issue(context)));
    }

    public static Ok<MessageResponse> Logout(HttpContext context)
    {
        PrintAuth.ClearSessionCookie(context);
        return TypedResults.Ok(new MessageResponse("Logged out successfully"));
    }

    public static async Task<Results<Ok<ProfileResponse>, ErrorResult>> GetProfile(
        PrintSession session, PrintAccounts accounts, PrintSettings settings, HttpContext context)
    {
        // The session already holds the profile row, with copies of the account's identifiers.
        var profile = await accounts.WithIdentifiersAsync(session.Profile, context.RequestAborted);
        return profile is null ? SessionEnded() : TypedResults.Ok(View(profile, settings));
    }

    public const string UpdateProfileDescription =
        "Changes the signed-in user's profile. A new `password` needs the account's `current_password`: without it the answer is " +
        "400 `validation_error` naming `current_password`; a wrong one is 403 `{\"error\":\"The current password is incorrect.\"," +
        "\"code\":\"invalid_current_password\"}` and changes nothing. Every attempt spends one of the account's sign-in guesses " +
        "(shared with `POST /login`); past the budget the answer is 429 with `Retry-After`. A changed password ends every other " +
        "session and the response carries a fresh `token`. Other refusals: 400 `validation_error` for a field that fails its " +
        "check (shop details from an account that is not a shopkeeper included), 400 `email_immutable` for a different `email`, a " +
        "plain-text 400 naming a username or mobile number already in use, 401 `session_ended`, and with the sign-in cookie 403 " +
        "`csrf_token_invalid` without the `X-CSRF-Token` header.";

    public static async Task<Results<Ok<ProfileResponse>, ContentHttpResult, ErrorResult>> UpdateProfile(
        UpdateProfileRequest body, PrintSession session, PrintAccounts accounts, PrintSettings settings, TokenService tokens,
        IdentifierThrottle throttle, HttpContext context)
    {
        var isShop = session.Role == PrintRoles.Shopkeeper;
        var problem = (body.FullName is null ? null : Check.Required(body.FullName, "full_name", 100))
                      ?? (body.Username is null ? null : CheckUsername(body.Username))
                      ?? CheckPhone(body.Phone)
                      ?? (body.Password is null ? null : CheckPassword(body.Password))
                      ?? (body.Address is { Length: > 300 } ? ApiErrors.BadRequest("'address' must be at most 300 characters.", "validation_error") : null)
                      ?? (!isShop && (body.ShopName ?? (object?)body.Lat ?? body.Long) is not null
                          ? ApiErrors.BadRequest("Only shopkeepers have shop details (shop_name, lat, long).", "validation_error") : null)
                      ?? (isShop ? CheckShop(body.ShopName, body.Lat, body.Long, required: false) : null)
                      ?? (body.Password is not null && string.IsNullOrEmpty(body.CurrentPassword)
                          ? ApiErrors.BadRequest("'current_password' is required to change the password.", "validation_error") : null)
                      ?? (body.CurrentPassword is { Length: > 256 } ? ApiErrors.BadRequest("'current_password' must be at most 256 characters.", "validation_error") : null);
        if (problem is not null)
            return problem;
        // A current-password check is a password guess: it spends the same per-account budget as POST /login.
        if (body.Password is not null && !throttle.TryAcquire(AccountThrottleScope, session.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);

        var result = await accounts.UpdateAsync(session.Profile, new ProfileChanges(
            body.FullName?.Trim(), body.Username?.Trim(), body.Email, Blank(body.Phone), body.Address?.Trim(), body.Password,
            body.ShopName?.Trim(), body.Lat, body.Long, body.CurrentPassword), context.RequestAborted);
        if (result is null)
            return SessionEnded();
        if (result.WrongCurrentPassword)
            return ApiErrors.Result(new ApiError(403, "invalid_current_password", "The current password is incorrect."));
        if (result.EmailChange)
            return ApiErrors.BadRequest("The email address cannot be changed: it is the verified address of this account.", "email_immutable");
        if (result.TakenFields.Count > 0)
            return InUse(result.TakenFields);
        var (user, profile) = (result.User!, result.Profile!);
        // A new password revokes earlier sessions, this one included: hand the caller a fresh one.
        var token = body.Password is null ? null : StartSession(context, tokens, settings, user, profile, setCookie: session.ByCookie);
        return TypedResults.Ok(View(profile, settings) with { Token = token });
    }

    public static async Task<Results<Ok<MessageResponse>, ErrorResult>> DeleteProfile(
        [Microsoft.AspNetCore.Mvc.FromBody] DeleteProfileRequest body, PrintSession session, PrintAccounts accounts, IdentifierThrottle throttle, HttpContext context)
    {
        if (Check.Required(body.Password, "password", 256) is { } problem)
            return problem;
        if (session.Role == Roles.Admin)
            return ApiErrors.Result(new ApiError(403, "forbidden", "Admin accounts cannot be deleted through this endpoint."));
        // The confirmation is a password guess: it spends the account's sign-in budget, like POST /login.
        if (!throttle.TryAcquire(AccountThrottleScope, session.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        if (await accounts.AccountOfAsync(session.Profile, context.RequestAborted) is not var (user, profile))
            return SessionEnded();
        if (!Secrets.Verify(user.PasswordHash, body.Password))
            return ApiErrors.BadRequest("The password is incorrect.", "invalid_password");
        if (await accounts.DeleteAsync(user, profile, context.RequestAborted) is { } refusal)
            return ApiErrors.BadRequest(refusal.Message, refusal.Code);
        PrintAuth.ClearSessionCookie(context);
        return TypedResults.Ok(new MessageResponse("Account deleted successfully"));
    }

    internal static ProfileResponse View(PrintProfile profile, PrintSettings settings)
    {
        var isCustomer = profile.Role == PrintRoles.Customer;
        return new ProfileResponse(profile.UserId, profile.Username, profile.FullName, profile.Email, profile.Phone, profile.Role,
            profile.ShopName, profile.Address, profile.IsOpen, profile.Lat, profile.Long,
            isCustomer ? profile.ReferralCode : null,
            isCustomer && profile.ReferralCode is { } code ? settings.ReferralLink(code) : null);
    }

    private static LoginResponse SignedIn(HttpContext context, TokenService tokens, PrintSettings settings, UserAccount user, PrintProfile profile) =>
        new(StartSession(context, tokens, settings, user, profile), profile.Role, user.Username ?? user.DisplayName);

    /// <summary>Issues a session token carrying the account's session version, and sets the sign-in cookie.</summary>
    private static string StartSession(HttpContext context, TokenService tokens, PrintSettings settings, UserAccount user, PrintProfile profile,
        bool setCookie = true)
    {
        var token = tokens.IssueForUser(TokenAudiences.Print, user.Id, user.Username ?? user.DisplayName, [profile.Role],
            profile.SessionVersion, settings.SessionLifetime).Token;
        if (setCookie)
            PrintAuth.SetSessionCookie(context, token, settings.SessionLifetime);
        return token;
    }

    /// <summary>The document's plain-text 400 for identifiers someone else holds, naming each one.</summary>
    internal static ContentHttpResult InUse(IReadOnlyList<string> taken)
    {
        var names = new[] { "username", "email", "phone" }.Where(taken.Contains)
            .Select(f => f == "phone" ? "mobile number" : f).ToList();
        var list = names.Count switch
        {
            1 => names[0],
            2 => $"{names[0]} and {names[1]}",
            _ => $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}",
        };
        var verb = names.Count == 1 ? "is" : "are";
        return TypedResults.Text($"This {list} {verb} already in use.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
    }

    /// <summary>The input's problem, else a 429 when this identifier has spent its sign-in budget, else null.</summary>
    private static ErrorResult? Admit(string identifier, ErrorResult? problem, IdentifierThrottle throttle, HttpContext context) =>
        problem ?? (throttle.TryAcquire(ThrottleScope, identifier) ? null : RateLimitPolicies.TooManyRequests(context, throttle.Window));

    private static ErrorResult SessionEnded() => ApiErrors.Result(PrintSessionMiddleware.SessionEnded);

    private static ErrorResult CodeInvalid() => ApiErrors.BadRequest("Invalid or expired code. Check the latest email, or request a new code.", "invalid_code");

    private static ErrorResult CodeLocked() => ApiErrors.BadRequest("Too many wrong codes: this code no longer works. Request a new one.", "code_locked");

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    internal static ErrorResult? CheckEmail(string email, string field) =>
        Check.Required(email, field, 254) ?? Check.Email(email, field);

    private static ErrorResult? CheckOtpLogin(string login) =>
        Check.Required(login, "login", 254)
        ?? (login.Contains('@') ? Check.Email(login, "login") : ApiErrors.BadRequest("OTP login is available for email only.", "otp_email_only"));

    private static ErrorResult? CheckCode(string? code) =>
        OneTimeCodes.IsWellFormed(code?.Trim()) ? null : ApiErrors.BadRequest("'code' must be the 6-digit code from the email.", "validation_error");

    private static ErrorResult? CheckUsername(string? username) =>
        Check.Required(username, "username", 30)
        ?? (UsernamePattern().IsMatch(username!.Trim()) ? null
            : ApiErrors.BadRequest("'username' must be 3 to 30 characters: letters, digits, '.', '_' or '-', starting with a letter.", "validation_error"));

    /// <summary>The document's "'password' must be 8 to 128 characters.", counted as <see cref="PasswordRule"/> counts.</summary>
    private static ErrorResult? CheckPassword(string? password) => PasswordRule.Check(password);

    private static ErrorResult? CheckPhone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone))
            return null;
        var digits = phone.Count(char.IsAsciiDigit);
        return PhonePattern().IsMatch(phone.Trim()) && digits is >= 10 and <= 15 ? null
            : ApiErrors.BadRequest("'phone' must be a mobile number such as +919876543210 or 9876543210.", "validation_error");
    }

    private static ErrorResult? CheckShop(string? shopName, double? lat, double? longitude, bool required)
    {
        if (required || shopName is not null)
        {
            if (Check.Required(shopName, "shop_name", 100) is { } problem)
                return problem;
        }
        if (required && lat is null)
            return ApiErrors.BadRequest("'lat' is required for a shopkeeper: the shop's latitude.", "validation_error");
        if (required && longitude is null)
            return ApiErrors.BadRequest("'long' is required for a shopkeeper: the shop's longitude.", "validation_error");
        if (lat is { } la && (la < -90 || la > 90 || !double.IsFinite(la)))
            return ApiErrors.BadRequest("'lat' must be between -90 and 90.", "validation_error");
        if (longitude is { } lo && (lo < -180 || lo > 180 || !double.IsFinite(lo)))
            return ApiErrors.BadRequest("'long' must be between -180 and 180.", "validation_error");
        return null;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{2,29}$")]
    private static partial Regex UsernamePattern();

    [GeneratedRegex(@"^\+?[0-9][0-9 ()-]*[0-9]$")]
    private static partial Regex PhonePattern();
}
