using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>Kills processes and revokes stand-in grants, so it runs against a stack of its own.</summary>
[Collection(DisposableAppCollection.Name)]
public sealed class WorkerFailureTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task A_worker_killed_mid_sync_is_replaced_by_the_other_which_resumes_from_the_checkpoint()
    {
        const int messages = 600;
        app.Gmail.AddMessages(messages);
        var tenant = await app.ConnectedTenantAsync("gmail");
        app.Gmail.ResponseDelay = TimeSpan.FromMilliseconds(15);
        try
        {
            var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "gmail", on: 0);

            // Wait until a worker has committed some pages, then kill exactly that worker's process.
            string? owner = null;
            var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
            while (owner is null && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(100);
                var state = await ReadRunAsync(run.Id);
                if (state.Processed >= 100 && state.LeaseOwner is not null)
                {
                    owner = state.LeaseOwner;
                }
            }

            Assert.NotNull(owner);
            var victim = app.WorkerReplicas.Single(w => w.InstanceId == owner);
            var survivor = app.WorkerReplicas.Single(w => w.InstanceId != owner);
            Process.GetProcessById(victim.ProcessId).Kill();
            var processedAtKill = (await ReadRunAsync(run.Id)).Processed;

            var (final, observed) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id, TimeSpan.FromMinutes(3));
            Assert.Equal(SyncRunStatuses.Succeeded, final.Status);
            Assert.Equal(messages, final.Processed);
            Assert.True(final.Attempts >= 2, "the run was claimed again after the kill");
            Assert.True(processedAtKill < messages, "the kill happened mid-sync");
            for (var i = 1; i < observed.Count; i++)
            {
                Assert.True(observed[i].Processed >= observed[i - 1].Processed, "progress never goes backwards across the takeover");
            }

            Assert.Equal(messages, await CountAsync("SELECT count(*) FROM documents WHERE tenant_id = @t", tenant.Tenant.Id));
            Assert.Equal(messages, await CountAsync("SELECT count(DISTINCT external_id) FROM documents WHERE tenant_id = @t", tenant.Tenant.Id));
        }
        finally
        {
            app.Gmail.ResponseDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task A_revoked_grant_ends_the_run_as_reauth_required_and_the_connection_shows_it()
    {
        var tenant = await app.ConnectedTenantAsync("box");
        var folder = app.Box.AddFolder("0", "revoked");
        app.Box.AddFile(folder, "a.txt", "alpha"u8.ToArray());
        app.Box.RevokeAll();

        var run = await app.StartSyncAsync(tenant.Tokens.AccessToken, "box", on: 1);
        var (final, _) = await app.WaitForRunAsync(tenant.Tokens.AccessToken, run.Id);
        Assert.Equal(SyncRunStatuses.ReauthRequired, final.Status);
        Assert.Equal("reauth_required", final.ErrorCode);

        using var client = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        var statuses = (await client.GetFromJsonAsync<IntegrationStatus[]>("api/integrations", ApiClient.Json))!;
        Assert.Equal(ConnectionStatuses.ReauthRequired, statuses.Single(s => s.Provider == "box").Status);
        var retry = await client.PostAsync("api/sync/box", null);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
    }

    private async Task<(long Processed, string? LeaseOwner)> ReadRunAsync(Guid runId)
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT processed, lease_owner FROM sync_runs WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", runId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }


    private async Task<long> CountAsync(string sql, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenantId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
