using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.ECards;

public sealed record AccessTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("scope")] string Scope);

public sealed record ECardResponse(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("unit")] string Unit,
    [property: JsonPropertyName("faceValues")] IReadOnlyList<FaceValue> FaceValues);

public sealed record BalanceResponse([property: JsonPropertyName("balance")] string Balance);

public sealed record OrderSummaryResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("number")] long Number,
    [property: JsonPropertyName("createdDate")] string CreatedDate,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("participantLogin")] string ParticipantLogin,
    [property: JsonPropertyName("total")] decimal Total);

public sealed record OrderPageResponse(
    [property: JsonPropertyName("data")] IReadOnlyList<OrderSummaryResponse> Data,
    [property: JsonPropertyName("totalPages")] int TotalPages,
    [property: JsonPropertyName("currentPage")] int CurrentPage,
    [property: JsonPropertyName("pageSize")] int PageSize);

/// <summary>
/// The participant of an order, as sent and as shown. The checks are the order's: an email address (at most 254
/// characters), a name (at most 200) and a phone number of 7 to 15 digits (at most 32 characters).
/// </summary>
public sealed record ParticipantBody(
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string? Email,
    [property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string? Name,
    [property: JsonPropertyName("phone"), Required, StringLength(32, MinimumLength = 7)] string? Phone);

/// <summary>An order line as sent: <c>id</c> may be a number or a string of digits (the document shows both).</summary>
public sealed record OrderLineBody(
    [property: JsonPropertyName("id")] JsonElement Id,
    [property: JsonPropertyName("quantity"), Required, Range(1, 100)] int? Quantity,
    [property: JsonPropertyName("faceValue"), Required, StringLength(64, MinimumLength = 1)] string? FaceValue);

/// <summary>The body of <c>POST /v1/orders</c>: <c>orderId</c> is a UUID the client generates (32 to 64 characters as written).</summary>
public sealed record CreateOrderRequest(
    [property: JsonPropertyName("orderId"), Required, StringLength(64, MinimumLength = 32)] string? OrderId,
    [property: JsonPropertyName("participant"), Required] ParticipantBody? Participant,
    [property: JsonPropertyName("ecards"), Required, MinLength(1), MaxLength(ECardsApi.MaxLines)] IReadOnlyList<OrderLineBody?>? ECards);

public sealed record OrderStatusResponse([property: JsonPropertyName("status")] string Status);

public sealed record OrderLineResponse(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("faceValue")] string FaceValue,
    [property: JsonPropertyName("price")] decimal Price,
    [property: JsonPropertyName("quantity")] int Quantity,
    [property: JsonPropertyName("amount")] decimal Amount);

public sealed record CertificateResponse(
    [property: JsonPropertyName("id")] int ECardId,
    [property: JsonPropertyName("faceValue")] string FaceValue,
    [property: JsonPropertyName("code")] string Code);

public sealed record OrderDetailsResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("number")] long Number,
    [property: JsonPropertyName("createdDate")] string CreatedDate,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("participantLogin")] string ParticipantLogin,
    [property: JsonPropertyName("total")] decimal Total,
    [property: JsonPropertyName("participant")] ParticipantBody Participant,
    [property: JsonPropertyName("ecards")] IReadOnlyList<OrderLineResponse> ECards,
    [property: JsonPropertyName("certificates")] IReadOnlyList<CertificateResponse> Certificates);

public sealed record PutECardRequest(
    [property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string? Name,
    [property: JsonPropertyName("unit"), Required, StringLength(32, MinimumLength = 1)] string? Unit,
    [property: JsonPropertyName("faceValues"), Required, MinLength(1), MaxLength(50)] IReadOnlyList<FaceValueBody?>? FaceValues,
    [property: JsonPropertyName("description"), StringLength(2000)] string? Description = null);

public sealed record FaceValueBody(
    [property: JsonPropertyName("name"), Required, StringLength(64, MinimumLength = 1)] string? Name,
    [property: JsonPropertyName("price"), Required, Range(1, 1_000_000_000)] long? Price);

/// <summary>
/// The body of <c>POST /v1/admin/ecards/{id}/codes</c>: <c>faceValue</c> is one of the e-card's face values (each 1 to
/// 64 characters); every code is 1 to 64 characters without surrounding spaces or control characters.
/// </summary>
public sealed record LoadCodesRequest(
    [property: JsonPropertyName("faceValue"), Required, StringLength(64, MinimumLength = 1)] string? FaceValue,
    [property: JsonPropertyName("codes"), Required, MinLength(1), MaxLength(1000)] IReadOnlyList<string?>? Codes);

public sealed record LoadCodesResponse(
    [property: JsonPropertyName("added")] int Added,
    [property: JsonPropertyName("duplicates")] int Duplicates,
    [property: JsonPropertyName("available")] int Available);

public sealed record CreatePartnerRequest(
    [property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string? Name,
    [property: JsonPropertyName("client_id"), RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")] string? ClientId = null);

public sealed record CreatedPartnerResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret")] string ClientSecret,
    [property: JsonPropertyName("name")] string Name);

public sealed record TopUpRequest(
    [property: JsonPropertyName("amount"), Required, Range(1d, 1_000_000_000_000d)] long? Amount,
    [property: JsonPropertyName("reference"), StringLength(100, MinimumLength = 1)] string? Reference = null);

public sealed record TopUpResponse(
    [property: JsonPropertyName("balance")] string Balance,
    [property: JsonPropertyName("applied")] bool Applied);
