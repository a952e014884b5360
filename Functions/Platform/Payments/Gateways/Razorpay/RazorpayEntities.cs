using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Platform.Payments;

// Razorpay's entities and request bodies as its API reference spells them (snake_case through RazorpayJson).
// Amounts are minor units (paise); times are Unix seconds. Notes are an object, or [] when empty.

internal static class RazorpayJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        RespectNullableAnnotations = true,
    };

    /// <summary>A string in a notes object; null when notes are absent, <c>[]</c>, or hold no such string.</summary>
    public static string? Note(JsonElement? notes, string key) =>
        notes is { ValueKind: JsonValueKind.Object } n && n.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static DateTimeOffset? Time(long createdAt) => createdAt > 0 ? DateTimeOffset.FromUnixTimeSeconds(createdAt) : null;
}

internal sealed record RazorpayCollection<T>(int Count, IReadOnlyList<T> Items);

internal sealed record RazorpayOrder(
    string Id,
    long Amount,
    long AmountPaid,
    long AmountDue,
    string Currency,
    string? Receipt,
    string Status,
    int Attempts,
    JsonElement? Notes,
    long CreatedAt);

internal sealed record RazorpayPayment(
    string Id,
    long Amount,
    string Currency,
    string Status,
    string? OrderId,
    string? Method,
    bool Captured,
    string? ErrorCode,
    string? ErrorDescription,
    JsonElement? Notes,
    long CreatedAt);

internal sealed record RazorpayRefund(
    string Id,
    long Amount,
    string Currency,
    string PaymentId,
    string? Receipt,
    string Status,
    JsonElement? Notes,
    long CreatedAt);

internal sealed record RazorpayContact(string Id, string Name);

internal sealed record RazorpayFundAccount(string Id, string ContactId);

internal sealed record RazorpayStatusDetails(string? Reason, string? Description, string? Source);

internal sealed record RazorpayPayout(
    string Id,
    string Status,
    long Amount,
    string Currency,
    string? FundAccountId,
    string? Utr,
    string? ReferenceId,
    string? FailureReason,
    RazorpayStatusDetails? StatusDetails,
    JsonElement? Notes,
    long CreatedAt);

internal sealed record RazorpayErrorBody(RazorpayError? Error);

internal sealed record RazorpayError(string? Code, string? Description, string? Field, string? Reason);

internal sealed record RazorpayOrderCreate(long Amount, string Currency, string Receipt, IReadOnlyDictionary<string, string> Notes);

internal sealed record RazorpayCapture(long Amount, string Currency);

internal sealed record RazorpayRefundCreate(long Amount, string Receipt, string Speed, IReadOnlyDictionary<string, string> Notes);

internal sealed record RazorpayContactCreate(string Name, string? Email, string Type, string ReferenceId, IReadOnlyDictionary<string, string> Notes);

internal sealed record RazorpayBankAccount(string Name, string Ifsc, string AccountNumber);

internal sealed record RazorpayFundAccountCreate(string ContactId, string AccountType, RazorpayBankAccount BankAccount);

internal sealed record RazorpayPayoutCreate(
    string AccountNumber,
    string FundAccountId,
    long Amount,
    string Currency,
    string Mode,
    string Purpose,
    bool QueueIfLowBalance,
    string ReferenceId,
    string Narration,
    IReadOnlyDictionary<string, string> Notes);
