using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Serverless.Platform.Http;

/// <summary>An error a client should see: status, a stable machine code, and a message naming the problem.</summary>
public sealed record ApiError(int Status, string Code, string Message)
{
    public static ApiError BadRequest(string message, string code = "bad_request") => new(400, code, message);
    public static ApiError NotFound(string message = "Not found.") => new(404, "not_found", message);
    public static ApiError Conflict(string message, string code = "conflict") => new(409, code, message);

    public static string DefaultCode(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        503 => "service_unavailable",
        _ => status >= 500 ? "internal_error" : "error",
    };

    public static ApiError ForStatus(int status) => status switch
    {
        401 => new(401, "unauthorized", "Authentication is required: send a valid bearer token."),
        403 => new(403, "forbidden", "You do not have access to this resource."),
        404 => new(404, "not_found", "No resource exists at this path."),
        405 => new(405, "method_not_allowed", "This path does not accept that HTTP method."),
        _ => new(status, DefaultCode(status), ReasonPhrases.GetReasonPhrase(status)),
    };
}

/// <summary>Thrown by platform code (or a handler) to end a request with an <see cref="ApiError"/>.</summary>
public sealed class ApiException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}

/// <summary>
/// How a surface writes its errors. Each API document has its own error body; a surface attaches its shape to its
/// route group (<see cref="ErrorShapeExtensions.WithErrorShape{TBuilder}"/>) and every error on its endpoints,
/// including the platform's own (malformed JSON, 404, 429, 503), is written in that shape. It also registers its
/// path prefixes (<see cref="ErrorShapesByPathRegistration.AddErrorShapeForPrefix"/>), so an unknown path or a wrong
/// method under them, which matches no endpoint, gets the same shape.
/// </summary>
public interface IErrorShape
{
    Task WriteAsync(HttpContext context, ApiError error);

    /// <summary>The body <see cref="WriteAsync"/> writes, as the OpenAPI document shows it for every error answer.</summary>
    ErrorBodySchema BodySchema { get; }
}

/// <summary>The default shape: RFC 9457 problem details, plus a stable <c>code</c>.</summary>
public sealed class ProblemDetailsShape : IErrorShape
{
    public static readonly ProblemDetailsShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = ErrorBodySchema.Object("ProblemDetails",
        "RFC 9457 problem details, with a stable machine code and the trace id.",
        ["type", "title", "detail", "code", "traceId"], integers: ["status"], mediaType: "application/problem+json");

    public Task WriteAsync(HttpContext context, ApiError error)
    {
        var body = new Dictionary<string, object?>
        {
            ["type"] = $"https://httpstatuses.io/{error.Status}",
            ["title"] = ReasonPhrases.GetReasonPhrase(error.Status),
            ["status"] = error.Status,
            ["detail"] = error.Message,
            ["code"] = error.Code,
            ["traceId"] = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier,
        };
        return context.Response.WriteAsJsonAsync(body, (JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted);
    }
}

public static class ErrorShapeExtensions
{
    public static TBuilder WithErrorShape<TBuilder>(this TBuilder builder, IErrorShape shape) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(shape);
}

public static class ApiErrors
{
    /// <summary>Writes <paramref name="error"/> in the shape of the endpoint being served.</summary>
    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        context.Response.StatusCode = error.Status;
        // Every 429 says when to come back; limits set their own wait, this covers one that forgot.
        if (error.Status == StatusCodes.Status429TooManyRequests && !context.Response.Headers.ContainsKey("Retry-After"))
            context.Response.Headers.RetryAfter = "60";
        if (HttpMethods.IsHead(context.Request.Method))
            return Task.CompletedTask;
        return ShapeOf(context).WriteAsync(context, error);
    }

    /// <summary>
    /// The endpoint's shape; where no endpoint of the app matched (no route, or the router's 405 answer, which is no
    /// route endpoint), the shape of the surface that registered the path's prefix; else problem details.
    /// </summary>
    public static IErrorShape ShapeOf(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<IErrorShape>() is { } shape)
            return shape;
        if (endpoint is not RouteEndpoint && context.RequestServices?.GetService<ErrorShapesByPath>()?.Find(context.Request.Path) is { } byPath)
            return byPath;
        return ProblemDetailsShape.Instance;
    }

    /// <summary>An <see cref="IResult"/> for handlers: the error, in the endpoint's shape.</summary>
    public static ErrorResult Result(ApiError error) => new(error);

    public static ErrorResult BadRequest(string message, string code = "bad_request") => new(ApiError.BadRequest(message, code));
    public static ErrorResult NotFound(string message = "Not found.") => new(ApiError.NotFound(message));
    public static ErrorResult Conflict(string message, string code = "conflict") => new(ApiError.Conflict(message, code));
}

/// <summary>An error as a typed result, so handler signatures list it (<c>Results&lt;Ok&lt;T&gt;, ErrorResult&gt;</c>).</summary>
public sealed class ErrorResult(ApiError error) : IResult, IStatusCodeHttpResult
{
    public ApiError Error { get; } = error;

    public int? StatusCode => Error.Status;

    public Task ExecuteAsync(HttpContext httpContext) => ApiErrors.WriteAsync(httpContext, Error);
}
