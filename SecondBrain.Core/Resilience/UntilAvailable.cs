using Microsoft.Extensions.Logging;

namespace SecondBrain.Core.Resilience;

/// <summary>
/// For one-off start-up work (seeding accounts): a process may start while Postgres or Redis is away (restarted
/// during an outage), so the work waits for them instead of failing and stopping the host.
/// </summary>
public static class UntilAvailable
{
    public static async Task RunAsync(Func<CancellationToken, Task> work, ILogger logger, string what, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await work(ct);
                return;
            }
            catch (Exception ex) when (DependencyFailures.IsInfrastructure(ex) && !ct.IsCancellationRequested)
            {
                logger.LogWarning("{What} not done yet ({Message}); trying again", what, ex.GetBaseException().Message);
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
        }
    }
}
