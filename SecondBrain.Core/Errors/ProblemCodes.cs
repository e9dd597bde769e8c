namespace SecondBrain.Core.Errors;

/// <summary>
/// Stable, machine-readable error codes carried as the <c>code</c> extension of every problem details response.
/// Clients switch on these, never on titles or messages.
/// </summary>
public static class ProblemCodes
{
    public const string ValidationFailed = "validation_failed";
    public const string BadRequest = "bad_request";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Conflict = "conflict";
    public const string RequestTooLarge = "request_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string TooManyRequests = "too_many_requests";
    public const string InternalError = "internal_error";
    public const string ServiceUnavailable = "service_unavailable";

    /// <summary>503: Postgres or Redis is unavailable right now; retry after the Retry-After header.</summary>
    public const string DependencyUnavailable = "dependency_unavailable";

    public const string InvalidCredentials = "invalid_credentials";
    public const string LoginThrottled = "login_throttled";
    public const string EmailTaken = "email_taken";

    /// <summary>429: this client or tenant sent more requests than its limit allows; retry after the Retry-After header.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>403: the account was deactivated by an admin of its tenant.</summary>
    public const string AccountDeactivated = "account_deactivated";

    /// <summary>409: the change would leave the tenant without an active admin, or an admin would lock themselves out.</summary>
    public const string LastAdmin = "last_admin";

    /// <summary>403: the API key's scopes do not allow this request.</summary>
    public const string InsufficientScope = "insufficient_scope";

    /// <summary>400: a password reset token that is unknown, already used or expired.</summary>
    public const string InvalidResetToken = "invalid_reset_token";

    /// <summary>400: a sign-up confirmation link that is unknown, already used or expired.</summary>
    public const string InvalidSignupToken = "invalid_signup_token";
    public const string InvalidRefreshToken = "invalid_refresh_token";
    public const string RefreshTokenReused = "refresh_token_reused";

    public const string UnknownProvider = "unknown_provider";
    public const string ProviderNotConfigured = "provider_not_configured";
    public const string NotConnected = "not_connected";
    public const string ReauthRequired = "reauth_required";
    public const string SyncAlreadyRunning = "sync_already_running";
    public const string UploadRequired = "upload_required";
    public const string RunAlreadyFinished = "run_already_finished";

    /// <summary>The code used when a failure carries none of its own.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => RequestTooLarge,
        415 => UnsupportedMediaType,
        429 => TooManyRequests,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => BadRequest
    };
}

/// <summary>A failure an operation reports to its caller: HTTP status, stable code, human detail.</summary>
public sealed record ApiProblem(int Status, string Code, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Extra members of the problem document (e.g. the id of the run that caused a conflict).</summary>
    public IReadOnlyDictionary<string, object?>? Extensions { get; init; }

    public static ApiProblem Validation(IReadOnlyDictionary<string, string[]> errors) =>
        new(400, ProblemCodes.ValidationFailed, "One or more fields are invalid.", errors);

    public static ApiProblem NotFound(string what) => new(404, ProblemCodes.NotFound, $"{what} was not found.");
}

/// <summary>Either a value or an <see cref="ApiProblem"/>; services return it instead of throwing for expected failures.</summary>
public readonly record struct Outcome<T>
{
    private Outcome(T? value, ApiProblem? problem)
    {
        Value = value;
        Problem = problem;
    }

    public T? Value { get; }
    public ApiProblem? Problem { get; }
    public bool Succeeded => Problem is null;

    public static implicit operator Outcome<T>(T value) => new(value, null);
    public static implicit operator Outcome<T>(ApiProblem problem) => new(default, problem);
}
