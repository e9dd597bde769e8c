using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Resilience;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Api.Infrastructure;

/// <summary>
/// RFC 7807 for every failure: each response carries a stable <c>code</c>, the trace id and the instance that
/// answered. Expected failures come from <see cref="ApiProblem"/>; the rest from the status code or exception.
/// </summary>
internal static class ProblemDetailsSetup
{
    public static IServiceCollection AddSecondBrainProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Status = status;
            context.ProblemDetails.Title ??= ReasonPhrases.GetReasonPhrase(status);
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions.TryAdd("code", ProblemCodes.ForStatus(status));
            context.ProblemDetails.Extensions.TryAdd("traceId", Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
            context.ProblemDetails.Extensions.TryAdd("instanceId",
                context.HttpContext.RequestServices.GetRequiredService<InstanceIdentity>().InstanceId);
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }

    public static ProblemHttpResult ToHttpResult(this ApiProblem problem, HttpContext httpContext)
    {
        if (problem.RetryAfter is { } retryAfter)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
        }

        var extensions = new Dictionary<string, object?> { ["code"] = problem.Code };
        if (problem.Errors is not null)
        {
            extensions["errors"] = problem.Errors;
        }

        foreach (var (key, value) in problem.Extensions ?? new Dictionary<string, object?>())
        {
            extensions[key] = value;
        }

        return TypedResults.Problem(
            detail: problem.Detail,
            statusCode: problem.Status,
            title: ReasonPhrases.GetReasonPhrase(problem.Status),
            extensions: extensions);
    }
}

/// <summary>Turns exceptions into problem details; internals of a 500 are logged, never returned.</summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    private const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (DependencyFailures.Classify(exception) is { } dependency)
        {
            // An outage is not the request's fault and not a bug: 503 with a stable code, and a hint when to retry.
            logger.LogWarning("{Method} {Path}: {Dependency} unavailable ({Message})", httpContext.Request.Method, httpContext.Request.Path,
                dependency, exception.GetBaseException().Message);
            httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails =
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Detail = $"A service SecondBrain depends on ({dependency}) is unavailable right now. Try again shortly.",
                    Extensions = { ["code"] = ProblemCodes.DependencyUnavailable, ["dependency"] = dependency }
                }
            });
        }

        var (status, code, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (413, ProblemCodes.RequestTooLarge, "The request body is larger than this endpoint accepts."),
            BadHttpRequestException bad =>
                (bad.StatusCode, ProblemCodes.ForStatus(bad.StatusCode), bad.Message),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested =>
                (499, "client_closed_request", "The client closed the request."),
            _ => (500, ProblemCodes.InternalError, "An unexpected error occurred. The trace id identifies it in the logs.")
        };

        if (status >= 500)
        {
            logger.LogError(exception, "Unhandled exception for {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Detail = detail,
                Extensions = { ["code"] = code }
            }
        });
    }
}
