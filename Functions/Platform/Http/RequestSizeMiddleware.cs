using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Serverless.Platform.Http;

/// <summary>
/// Refuses bodies larger than the endpoint allows (<c>Http:MaxRequestBodyBytes</c> by default, more where an
/// endpoint declares <see cref="IRequestSizeLimitMetadata"/>) before anything reads them.
/// </summary>
public sealed class RequestSizeMiddleware(RequestDelegate next, IConfiguration configuration)
{
    private readonly long _default = configuration.GetValue("Http:MaxRequestBodyBytes", PlatformRegistration.DefaultMaxRequestBodyBytes);

    public Task InvokeAsync(HttpContext context)
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? _default;
        if (context.Request.ContentLength > limit)
            return ApiErrors.WriteAsync(context, new ApiError(413, "payload_too_large", $"The request body is larger than {limit} bytes."));
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
            feature.MaxRequestBodySize = limit;
        return next(context);
    }
}
