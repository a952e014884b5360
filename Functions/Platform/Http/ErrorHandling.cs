using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Http;

/// <summary>
/// The one place where failures become responses, for every endpoint: malformed or mistyped input is a 400 that
/// names the field, a lost race 409, storage being down 503 with Retry-After, anything else a 500 without details.
/// Empty error responses (failed authentication, rate limit) get a body in the endpoint's shape; those that matched no
/// endpoint (no route, wrong method) in the shape of the surface whose path prefix they fall under (<see cref="ErrorShapesByPath"/>).
/// </summary>
public sealed partial class ErrorHandlingMiddleware(RequestDelegate next, StorageReadiness readiness, ILogger<ErrorHandlingMiddleware> logger)
{
    public const int StorageRetryAfterSeconds = 5;

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException)
        {
            // The client went away; nobody is listening for an answer.
            return;
        }
        catch (Exception ex)
        {
            if (context.Response.HasStarted)
            {
                logger.LogError(ex, "Request failed after the response started");
                throw;
            }
            var error = await TranslateAsync(context, ex);
            context.Response.Clear();
            if (error.Status == StatusCodes.Status503ServiceUnavailable)
                context.Response.Headers.RetryAfter = StorageRetryAfterSeconds.ToString();
            await ApiErrors.WriteAsync(context, error);
            return;
        }

        if (context.Response.StatusCode >= 400 && !context.Response.HasStarted
            && context.Response.ContentLength is null && string.IsNullOrEmpty(context.Response.ContentType))
        {
            var error = context.Response.StatusCode == StatusCodes.Status400BadRequest && UnparsedParameter(context) is { } unparsed
                ? DescribeBadRequest(unparsed)
                : ApiError.ForStatus(context.Response.StatusCode);
            await ApiErrors.WriteAsync(context, error);
        }
    }

    /// <summary>
    /// The route or query value that failed to parse, as the exception the runtime request delegate factory throws for
    /// it. The generated request delegates (build-time, for start-up speed) answer a bare 400 without throwing when an
    /// optional parameter (<c>int? limit</c>, <c>int offset = 0</c>) does not parse; this finds which one, from the
    /// endpoint's parameter metadata, so the answer names it as every other bad parameter's does. Only on that path.
    /// </summary>
    internal static BadHttpRequestException? UnparsedParameter(HttpContext context)
    {
        var parameters = context.GetEndpoint()?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Http.Metadata.IParameterBindingMetadata>() ?? [];
        foreach (var parameter in parameters)
        {
            if (!parameter.HasTryParse)
                continue;
            var raw = context.Request.RouteValues.TryGetValue(parameter.Name, out var routeValue) ? routeValue?.ToString()
                : context.Request.Query.TryGetValue(parameter.Name, out var query) ? query.ToString() : null;
            if (string.IsNullOrEmpty(raw))
                continue;
            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            if (!Parses(type, raw))
                return new BadHttpRequestException($"Failed to bind parameter \"{type.Name} {parameter.Name}\" from \"{raw}\".");
        }
        return null;
    }

    private static bool Parses(Type type, string raw)
    {
        if (type.IsEnum)
            return Enum.TryParse(type, raw, ignoreCase: true, out _);
        const System.Reflection.BindingFlags PublicStatic = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static;
        if (type.GetMethod("TryParse", PublicStatic, [typeof(string), typeof(IFormatProvider), type.MakeByRefType()]) is { } withCulture)
            return (bool)withCulture.Invoke(null, [raw, System.Globalization.CultureInfo.InvariantCulture, null])!;
        if (type.GetMethod("TryParse", PublicStatic, [typeof(string), type.MakeByRefType()]) is { } plain)
            return (bool)plain.Invoke(null, [raw, null])!;
        return true; // Not a type this can judge: leave the plain 400.
    }

    private async Task<ApiError> TranslateAsync(HttpContext context, Exception ex)
    {
        switch (ex)
        {
            case ApiException api:
                return api.Error;
            case InvalidOperationException { InnerException: ArgumentException } charset
                when charset.Message.Contains("charset", StringComparison.OrdinalIgnoreCase):
                // Content-Type: application/json; charset=<not an encoding>: the body cannot be read as JSON at all.
                return new ApiError(415, "unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
            case BadHttpRequestException bad:
                return DescribeBadRequest(bad, context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType);
            case ConcurrencyConflictException conflict:
                return ApiError.Conflict(conflict.Message, "concurrent_update");
            case Serverless.Platform.Payments.PaymentProviderException provider:
                // A surface that did not expect the provider to fail: the provider's answer, never a 500 (no detail: it may name accounts).
                logger.LogWarning("Payment provider {Provider} failed while serving {Path}: {Reason}", provider.Provider, context.Request.Path, provider.Message);
                context.Response.Headers.RetryAfter = "5";
                return new ApiError(provider.Transient ? 503 : 502, "payment_provider_unavailable",
                    "The payment provider did not answer as expected; try again in a moment.");
        }
        if (StorageFailure.IsUnavailable(ex))
        {
            if (StorageFailure.IsMissingResource(ex))
            {
                logger.LogWarning("Storage lost a table, queue or container; re-creating them");
                await readiness.ReprovisionAsync(context.RequestAborted);
            }
            else
            {
                logger.LogWarning("Storage unavailable while serving {Path}: {Reason}", context.Request.Path, StorageFailure.Describe(ex));
            }
            return new ApiError(503, "storage_unavailable", "Storage is temporarily unavailable; retry shortly.");
        }
        logger.LogError(ex, "Unhandled exception while serving {Method} {Path}", context.Request.Method, context.Request.Path);
        return new ApiError(500, "internal_error", "An unexpected error occurred. It has been logged.");
    }

    /// <summary>Turns the framework's binding failures into messages a client can act on.</summary>
    internal static ApiError DescribeBadRequest(BadHttpRequestException ex, Type? bodyType = null)
    {
        var status = ex.StatusCode;
        if (status == StatusCodes.Status413PayloadTooLarge)
            return new ApiError(413, "payload_too_large", "The request body is too large.");
        if (status == StatusCodes.Status415UnsupportedMediaType)
            return new ApiError(415, "unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
        if (ex.InnerException is JsonException json)
            return ApiError.BadRequest(DescribeJson(json, bodyType), "invalid_json");
        if (ex.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase)
            || ex.Message.Contains("empty body", StringComparison.OrdinalIgnoreCase))
            return ApiError.BadRequest("A JSON request body is required.", "invalid_json");
        if (BindFailure().Match(ex.Message) is { Success: true } bind)
            return ApiError.BadRequest($"Invalid value for '{bind.Groups["name"].Value}': \"{bind.Groups["value"].Value}\" is not {Expected(bind.Groups["type"].Value)}.");
        if (RequiredParameter().Match(ex.Message) is { Success: true } required)
            return ApiError.BadRequest($"'{required.Groups["name"].Value}' is required.");
        if (ex.Message.Contains("form", StringComparison.OrdinalIgnoreCase))
            return ApiError.BadRequest("The request body is not a valid form.");
        return ApiError.BadRequest("The request is malformed.");
    }

    internal static string DescribeJson(JsonException json, Type? bodyType = null)
    {
        var path = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? null : json.Path;
        var message = json.Message;
        if (MissingRequired().Match(message) is { Success: true } missing)
        {
            var fields = missing.Groups["fields"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(f => f.Trim('\''));
            var prefix = path is null ? "" : path + ".";
            return $"Missing required field(s): {string.Join(", ", fields.Select(f => "'" + prefix.TrimStart('$', '.') + f + "'"))}.";
        }
        if (message.Contains("null values", StringComparison.Ordinal))
            return $"Field '{Field(path)}' must not be null.";
        if (Conversion().Match(message) is { Success: true } conversion)
        {
            // The message names the type being built, which for records is the parent: find the field's own type.
            var fieldType = JsonPaths.TypeAt(bodyType, path);
            var expected = fieldType is null ? Expected(conversion.Groups["type"].Value)
                : fieldType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(fieldType) ? "an array"
                : Expected(fieldType.Name);
            return path is null ? $"The request body must be {expected}." : $"Field '{Field(path)}' must be {expected}.";
        }
        var position = json.LineNumber is { } line ? $" (line {line + 1}, position {(json.BytePositionInLine ?? 0) + 1})" : "";
        return path is null
            ? $"The request body is not valid JSON{position}."
            : $"The request body is not valid JSON near '{Field(path)}'{position}.";
    }

    private static string Field(string? path) => path is null ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    private static string Expected(string typeName)
    {
        var type = typeName.Split('.', '`').Where(s => s.Length > 0).LastOrDefault() ?? typeName;
        type = type.TrimEnd(']', '[', '?').Replace("Nullable", "", StringComparison.Ordinal);
        return type switch
        {
            "Int16" or "Int32" or "Int64" or "UInt16" or "UInt32" or "UInt64" or "Byte" or "int" or "long" => "a whole number",
            "Decimal" or "Double" or "Single" or "decimal" or "double" => "a number",
            "Boolean" or "bool" => "true or false",
            "String" or "string" => "a string",
            "DateTime" or "DateTimeOffset" or "DateOnly" => "an ISO 8601 date-time",
            "Guid" => "a UUID",
            _ when typeName.Contains("List", StringComparison.Ordinal) || typeName.EndsWith("[]", StringComparison.Ordinal)
                   || typeName.Contains("IEnumerable", StringComparison.Ordinal) || typeName.Contains("Collection", StringComparison.Ordinal) => "an array",
            _ => "an object of the documented shape",
        };
    }

    [GeneratedRegex(@"missing required properties including: (?<fields>.+?)\.?$")]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"could not be converted to (?<type>[^\s]+?)\.? Path:")]
    private static partial Regex Conversion();

    [GeneratedRegex("Failed to bind parameter \"(?<type>[^ \"]+) (?<name>[^\"]+)\" from \"(?<value>[^\"]*)\"")]
    private static partial Regex BindFailure();

    [GeneratedRegex("Required parameter \"[^ \"]+ (?<name>[^\"]+)\" was not provided")]
    private static partial Regex RequiredParameter();
}
