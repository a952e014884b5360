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

public sealed record ParticipantBody(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("phone")] string? Phone);

/// <summary>An order line as sent: <c>id</c> may be a number or a string of digits (the document shows both).</summary>
public sealed record OrderLineBody(
    [property: JsonPropertyName("id")] JsonElement Id,
    [property: JsonPropertyName("quantity")] int? Quantity,
    [property: JsonPropertyName("faceValue")] string? FaceValue);

public sealed record CreateOrderRequest(
    [property: JsonPropertyName("orderId")] string? OrderId,
    [property: JsonPropertyName("participant")] ParticipantBody? Participant,
    [property: JsonPropertyName("ecards")] IReadOnlyList<OrderLineBody?>? ECards);

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
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("unit")] string? Unit,
    [property: JsonPropertyName("faceValues")] IReadOnlyList<FaceValueBody?>? FaceValues,
    [property: JsonPropertyName("description")] string? Description = null);

public sealed record FaceValueBody(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("price")] long? Price);

public sealed record LoadCodesRequest(
    [property: JsonPropertyName("faceValue")] string? FaceValue,
    [property: JsonPropertyName("codes")] IReadOnlyList<string?>? Codes);

public sealed record LoadCodesResponse(
    [property: JsonPropertyName("added")] int Added,
    [property: JsonPropertyName("duplicates")] int Duplicates,
    [property: JsonPropertyName("available")] int Available);

public sealed record CreatePartnerRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("client_id")] string? ClientId = null);

public sealed record CreatedPartnerResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret")] string ClientSecret,
    [property: JsonPropertyName("name")] string Name);

public sealed record TopUpRequest(
    [property: JsonPropertyName("amount")] long? Amount,
    [property: JsonPropertyName("reference")] string? Reference = null);

public sealed record TopUpResponse(
    [property: JsonPropertyName("balance")] string Balance,
    [property: JsonPropertyName("applied")] bool Applied);
