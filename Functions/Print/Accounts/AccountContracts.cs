using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Serverless.Print.Accounts;

public sealed record SendSignupOtpRequest([property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string Email);

public sealed record VerifySignupOtpRequest(
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string Email,
    [property: JsonPropertyName("code"), Required, MinLength(6)] string Code);

public sealed record SignupTokenResponse(
    [property: JsonPropertyName("signup_token")] string SignupToken,
    [property: JsonPropertyName("email")] string Email);

public sealed record RegisterRequest(
    [property: JsonPropertyName("full_name"), Required, StringLength(100, MinimumLength = 1)] string FullName,
    [property: JsonPropertyName("username"), Required, StringLength(30, MinimumLength = 3)] string Username,
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string Email,
    [property: JsonPropertyName("password"), Required, MinLength(8)] string Password,
    [property: JsonPropertyName("phone")] string? Phone = null,
    [property: JsonPropertyName("role")] string? Role = null,
    [property: JsonPropertyName("signup_token")] string? SignupToken = null,
    [property: JsonPropertyName("referral_code")] string? ReferralCode = null,
    [property: JsonPropertyName("shop_name")] string? ShopName = null,
    [property: JsonPropertyName("lat")] double? Lat = null,
    [property: JsonPropertyName("long")] double? Long = null,
    [property: JsonPropertyName("address"), StringLength(300)] string? Address = null);

public sealed record RegisterResponse(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("username")] string Username);

public sealed record LoginRequest(
    [property: JsonPropertyName("username"), Required, StringLength(320, MinimumLength = 1)] string Username,
    [property: JsonPropertyName("password"), Required, StringLength(256, MinimumLength = 1)] string Password);

public sealed record LoginResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("username")] string Username);

public sealed record RequestLoginOtpRequest([property: JsonPropertyName("login"), Required, StringLength(254, MinimumLength = 3)] string Login);

public sealed record VerifyLoginOtpRequest(
    [property: JsonPropertyName("login"), Required, StringLength(254, MinimumLength = 3)] string Login,
    [property: JsonPropertyName("code"), Required, MinLength(6)] string Code);

public sealed record EmailRequest([property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string Email);

public sealed record ResetPasswordRequest(
    [property: JsonPropertyName("token"), Required, StringLength(200, MinimumLength = 1)] string Token,
    [property: JsonPropertyName("password"), Required, MinLength(8)] string Password);

public sealed record MessageResponse([property: JsonPropertyName("message")] string Message);

public sealed record CsrfTokenResponse([property: JsonPropertyName("csrfToken")] string CsrfToken);

public sealed record ProfileResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("phone")] string? Phone,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("shop_name")] string? ShopName,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("is_open")] bool IsOpen,
    [property: JsonPropertyName("lat")] double? Lat,
    [property: JsonPropertyName("long")] double? Long,
    [property: JsonPropertyName("referral_code"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReferralCode,
    [property: JsonPropertyName("referral_link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReferralLink,
    [property: JsonPropertyName("token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Token = null);

public sealed record UpdateProfileRequest(
    [property: JsonPropertyName("full_name"), StringLength(100, MinimumLength = 1)] string? FullName = null,
    [property: JsonPropertyName("username"), StringLength(30, MinimumLength = 3)] string? Username = null,
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("phone")] string? Phone = null,
    [property: JsonPropertyName("address"), StringLength(300)] string? Address = null,
    [property: JsonPropertyName("password"), MinLength(8)] string? Password = null,
    [property: JsonPropertyName("shop_name"), StringLength(100, MinimumLength = 1)] string? ShopName = null,
    [property: JsonPropertyName("lat"), Range(-90.0, 90.0)] double? Lat = null,
    [property: JsonPropertyName("long"), Range(-180.0, 180.0)] double? Long = null,
    [property: JsonPropertyName("current_password"), StringLength(256)] string? CurrentPassword = null);

public sealed record DeleteProfileRequest([property: JsonPropertyName("password"), Required, StringLength(256, MinimumLength = 1)] string Password);

public sealed record ReferralSummaryResponse(
    [property: JsonPropertyName("total_referred")] int TotalReferred,
    [property: JsonPropertyName("total_credited")] int TotalCredited,
    [property: JsonPropertyName("total_earnings")] decimal TotalEarnings,
    [property: JsonPropertyName("pending_count")] int PendingCount);

public sealed record ReferralView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("credited_at")] string? CreditedAt,
    [property: JsonPropertyName("created_at")] string CreatedAt);

public sealed record ReferralHistoryResponse([property: JsonPropertyName("referrals")] IReadOnlyList<ReferralView> Referrals);

public sealed record InviteRequest([property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string Email);

public sealed record InviteResponse(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("message")] string Message);

public sealed record AppDownloads(
    [property: JsonPropertyName("windows_shopkeeper_url")] string WindowsShopkeeperUrl,
    [property: JsonPropertyName("android_customer_url")] string AndroidCustomerUrl,
    [property: JsonPropertyName("ios_customer_url")] string IosCustomerUrl,
    [property: JsonPropertyName("windows_coming_soon")] bool WindowsComingSoon,
    [property: JsonPropertyName("android_coming_soon")] bool AndroidComingSoon,
    [property: JsonPropertyName("ios_coming_soon")] bool IosComingSoon);

public sealed record UpdateAppDownloadsRequest(
    [property: JsonPropertyName("windows_shopkeeper_url"), StringLength(2048)] string? WindowsShopkeeperUrl = null,
    [property: JsonPropertyName("android_customer_url"), StringLength(2048)] string? AndroidCustomerUrl = null,
    [property: JsonPropertyName("ios_customer_url"), StringLength(2048)] string? IosCustomerUrl = null,
    [property: JsonPropertyName("windows_coming_soon")] bool? WindowsComingSoon = null,
    [property: JsonPropertyName("android_coming_soon")] bool? AndroidComingSoon = null,
    [property: JsonPropertyName("ios_coming_soon")] bool? IosComingSoon = null);
