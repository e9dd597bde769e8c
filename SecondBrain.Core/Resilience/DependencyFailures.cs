using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace SecondBrain.Core.Resilience;

/// <summary>The infrastructure a failure came from.</summary>
public static class Dependencies
{
    public const string Postgres = "postgres";
    public const string Redis = "redis";
}

/// <summary>
/// Thrown where an operation cannot be done without a dependency that is down (e.g. an OAuth attempt lives only in
/// Redis). The Api answers it with 503 <c>dependency_unavailable</c> and Retry-After; the Worker hands the work back
/// without counting an attempt.
/// </summary>
public sealed class DependencyUnavailableException(string dependency, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Dependency { get; } = dependency;
}

/// <summary>
/// The one answer to "is this the infrastructure failing, or this piece of work?". An infrastructure failure (Postgres
/// or Redis unreachable, restarting, timing out) is nobody's fault: the Api answers 503 and the Worker retries later
/// without counting an attempt, so an outage never marks a document or a run failed. Anything else is the work's.
/// </summary>
public static class DependencyFailures
{
    public static bool IsInfrastructure(Exception exception) => Classify(exception) is not null;

    /// <summary>Which dependency failed (<see cref="Dependencies"/>), or null when the failure is not infrastructure.</summary>
    public static string? Classify(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 8; depth++)
        {
            switch (exception)
            {
                case DependencyUnavailableException unavailable:
                    return unavailable.Dependency;
                case RedisConnectionException or RedisTimeoutException:
                    return Dependencies.Redis;
                case RedisException redis when redis.Message.Contains("No connection", StringComparison.OrdinalIgnoreCase):
                    return Dependencies.Redis;
                case PostgresException postgres:
                    return IsUnavailableState(postgres.SqlState) ? Dependencies.Postgres : null;
                case NpgsqlException npgsql when npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException:
                    return Dependencies.Postgres;
                case NpgsqlException npgsql when npgsql.InnerException is null
                                                 && npgsql.Message.Contains("connection", StringComparison.OrdinalIgnoreCase):
                    return Dependencies.Postgres;
            }

            // EF wraps the provider's exception (RetryLimitExceededException, "likely due to a transient failure",
            // DbUpdateException); the cause is further in.
            exception = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception.InnerException;
        }

        return null;
    }

    // 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now (starting up or
    // recovering); 53300: too many connections; 58000/58030: system and I/O errors.
    private static bool IsUnavailableState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState is "57P01" or "57P02" or "57P03" or "53300" or "58000" or "58030";
}
