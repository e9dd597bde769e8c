using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;
using SecondBrain.Core.Resilience;

namespace SecondBrain.Core.Storage;

/// <summary>
/// One transaction around work that consumes a stream which cannot be read twice (a request body being uploaded).
/// It runs through EF's execution strategy, as every EF write here must, but a retry after a transient failure
/// would find the stream already consumed, so a retry is refused as an outage: the caller answers 503 and the
/// client sends the file again. Nothing of the failed attempt stays behind (its transaction rolled back).
/// </summary>
public static class SingleAttempt
{
    public static async Task<T> InTransactionAsync<T>(SecondBrainDbContext db, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var began = false;
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            if (began)
            {
                throw new DependencyUnavailableException(Dependencies.Postgres,
                    "Postgres failed while the upload was being stored, and an upload cannot be read twice; send it again.");
            }

            began = true;
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var result = await work(ct);
            await transaction.CommitAsync(ct);
            return result;
        }, cancellationToken);
    }
}
