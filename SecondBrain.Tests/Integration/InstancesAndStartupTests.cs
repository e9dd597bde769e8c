using System.Net;
using Microsoft.AspNetCore.Builder;
using System.Net.Http.Json;
using Npgsql;
using SecondBrain.Core.Data;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class InstancesAndStartupTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task Every_replica_is_healthy_and_alive()
    {
        Assert.Equal(SecondBrainAppFixture.ApiReplicaCount, app.ApiReplicas.Count);
        Assert.Equal(SecondBrainAppFixture.WorkerReplicaCount, app.WorkerReplicas.Count);
        foreach (var replica in app.ApiReplicas.Concat(app.WorkerReplicas))
        {
            using var client = replica.CreateClient();
            await (await client.GetAsync("health")).EnsureStatusAsync(HttpStatusCode.OK);
            await (await client.GetAsync("alive")).EnsureStatusAsync(HttpStatusCode.OK);
        }

        // Each API replica answers for itself: the replicas really are distinct processes.
        var answered = new HashSet<string>();
        foreach (var replica in app.ApiReplicas)
        {
            using var client = replica.CreateClient();
            var response = await client.GetAsync("health");
            Assert.Equal(replica.InstanceId, response.InstanceId());
            answered.Add(response.InstanceId()!);
        }

        Assert.Equal(app.ApiReplicas.Count, answered.Count);
    }

    [Fact]
    public async Task Admin_instances_lists_every_replica_with_its_memory_figures_to_the_operator()
    {
        var operatorToken = await app.OperatorTokenAsync();
        foreach (var replica in app.ApiReplicas)
        {
            using var client = replica.CreateClient(operatorToken);
            var response = (await client.GetFromJsonAsync<InstancesResponse>("api/admin/instances", ApiClient.Json))!;
            var ids = response.Instances.Select(i => i.InstanceId).ToHashSet();
            Assert.Superset(app.ApiReplicas.Concat(app.WorkerReplicas).Select(r => r.InstanceId).ToHashSet(), ids);
            Assert.Equal(SecondBrainAppFixture.ApiReplicaCount, response.Instances.Count(i => i.Service == "api"));
            Assert.Equal(SecondBrainAppFixture.WorkerReplicaCount, response.Instances.Count(i => i.Service == "worker"));
            Assert.All(response.Instances, i =>
            {
                Assert.True(i.Memory.WorkingSetBytes > 10_000_000, $"{i.InstanceId} reports its working set");
                Assert.True(i.Memory.GcHeapSizeBytes > 0, $"{i.InstanceId} reports its GC heap");
                Assert.True(i.Memory.AllocationRateBytesPerSecond >= 0);
                Assert.True(i.Memory.ThreadPoolQueueLength >= 0);
                Assert.True(DateTimeOffset.UtcNow - i.LastSeen < TimeSpan.FromSeconds(15), $"{i.InstanceId} heartbeat is fresh");
                Assert.NotEmpty(i.Version);
            });
        }
    }

    [Fact]
    public async Task Replicas_starting_together_applied_the_migrations_exactly_once()
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();

        var runs = new List<(string Instance, string[] Applied)>();
        await using (var command = new NpgsqlCommand("SELECT instance_id, applied_migrations FROM migration_runs ORDER BY id", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                runs.Add((reader.GetString(0), reader.GetFieldValue<string[]>(1)));
            }
        }

        // Every replica (Api and Worker) went through the migration step; exactly one applied anything.
        var replicaIds = app.ApiReplicas.Concat(app.WorkerReplicas).Select(r => r.InstanceId).ToHashSet();
        Assert.Superset(replicaIds, runs.Select(r => r.Instance).ToHashSet());
        var appliers = runs.Where(r => r.Applied.Length > 0).ToList();
        Assert.Single(appliers);

        var migrations = typeof(SecondBrainDbContext).Assembly.GetTypes()
            .Where(t => t.GetCustomAttributes(typeof(Microsoft.EntityFrameworkCore.Migrations.MigrationAttribute), false).Length > 0)
            .Count();
        Assert.Equal(migrations, appliers[0].Applied.Length);

        await using var history = new NpgsqlCommand("SELECT count(*), count(DISTINCT migration_id) FROM __ef_migrations_history", connection);
        await using var counts = await history.ExecuteReaderAsync();
        await counts.ReadAsync();
        Assert.Equal(migrations, counts.GetInt64(0));
        Assert.Equal(migrations, counts.GetInt64(1));
    }
}
