using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Serverless.Print.Accounts;
using Serverless.Print.Files;
using Serverless.Print.Payments;

namespace Serverless.Print.Admin.Users;

/// <summary>A user as the admin list shows one.</summary>
public sealed record AdminUserView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("phone")] string? Phone,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("shop_name")] string? ShopName,
    [property: JsonPropertyName("is_open")] bool IsOpen,
    [property: JsonPropertyName("created_at")] string CreatedAt)
{
    public static AdminUserView Of(PrintProfile p) =>
        new(p.UserId, p.Username, p.FullName, p.Email, p.Phone, p.Role, p.ShopName, p.IsOpen, PrintTimes.Format(p.CreatedAt));
}

public sealed record AdminUsersResponse(
    [property: JsonPropertyName("users")] IReadOnlyList<AdminUserView> Users,
    [property: JsonPropertyName("total")] int Total);

/// <summary>The whole profile, as <c>GET /profile</c> shows it to its owner, plus when the account was made.</summary>
public sealed record AdminUserProfileView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("phone")] string? Phone,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("shop_name")] string? ShopName,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("lat")] double? Lat,
    [property: JsonPropertyName("long")] double? Long,
    [property: JsonPropertyName("is_open")] bool IsOpen,
    [property: JsonPropertyName("referral_code")] string? ReferralCode,
    [property: JsonPropertyName("referred_by")] long? ReferredBy,
    [property: JsonPropertyName("created_at")] string CreatedAt)
{
    public static AdminUserProfileView Of(PrintProfile p) => new(p.UserId, p.Username, p.FullName, p.Email, p.Phone, p.Role, p.ShopName,
        p.Address, p.Lat, p.Long, p.IsOpen, p.ReferralCode, p.ReferredBy, PrintTimes.Format(p.CreatedAt));
}

/// <summary>The wallet in rupees: what can be spent, and what is held for payments in progress.</summary>
public sealed record AdminWalletView(
    [property: JsonPropertyName("available")] decimal Available,
    [property: JsonPropertyName("held")] decimal Held);

public sealed record AdminUserDetailsResponse(
    [property: JsonPropertyName("user")] AdminUserProfileView User,
    [property: JsonPropertyName("wallet")] AdminWalletView Wallet,
    [property: JsonPropertyName("recent_orders")] IReadOnlyList<PaymentOrderStatusResponse> RecentOrders,
    [property: JsonPropertyName("total_orders")] int TotalOrders,
    [property: JsonPropertyName("recent_files")] IReadOnlyList<PrintFileView> RecentFiles,
    [property: JsonPropertyName("total_files")] int TotalFiles,
    [property: JsonPropertyName("referral")] ReferralSummaryResponse Referral);

public sealed record AdminDeleteUserRequest(
    [property: JsonPropertyName("user_id"), Required, Range(typeof(long), "1", "9223372036854775807")] long? UserId = null,
    [property: JsonPropertyName("force_refund")] bool? ForceRefund = null);

public sealed record AdminDeleteUserResponse(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("user_id")] long UserId,
    [property: JsonPropertyName("refunded_amount")] decimal RefundedAmount);
