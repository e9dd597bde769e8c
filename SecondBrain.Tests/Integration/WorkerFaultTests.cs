using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Search;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Workers die and freeze mid-work, for real (SIGKILL, SIGSTOP/SIGCONT), while two of them share the queues. Each
/// test checks the final state of every document against a fault-free ingestion of the same files in another tenant:
/// same chunks, once each, of the current version; nothing failed; nothing deleted comes back.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class WorkerFaultTests(FaultFixture app)
{
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task A_worker_killed_mid_ingestion_and_mid_extraction_loses_nothing_and_ingests_each_document_once()
    {
        var corpus = FaultFixture.Corpus(300, "kill");
        var tenant = await app.Api(0).SignupAsync();
        var ids = await app.UploadAsync(tenant.Tokens.AccessToken, corpus);
        Assert.Equal(300, ids.Count);

        // Extraction runs alongside ingestion: once some documents are in and many are not, kill the worker that holds
        // extraction leases, then (after starting it again) the one that holds ingestion leases.
        var first = await WaitForLeaseHolderAsync("document_knowledge", tenant.Tenant.Id,
            () => app.ScalarAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND status = 'ingested'", ("t", tenant.Tenant.Id)), minDone: 20);
        await app.Stack.KillAsync(first);
        var ingestedAtKill = await app.ScalarAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND status = 'ingested'", ("t", tenant.Tenant.Id));
        Assert.True(ingestedAtKill < 300, "the kill came mid-ingestion");
        await app.Stack.RestartReplicaAsync(first);

        var second = await WaitForLeaseHolderAsync("ingestion_jobs", tenant.Tenant.Id, () => Task.FromResult(1L), minDone: 0);
        await app.Stack.KillAsync(second);
        await app.Stack.RestartReplicaAsync(second);

        await app.WaitForIngestionAsync(tenant.Tenant.Id, Settle);
        await app.WaitForExtractionAsync(tenant.Tenant.Id, Settle);
        await AssertSameAsFaultFreeAsync(tenant.Tenant.Id, corpus, "kill");
        Assert.Equal(300, await app.ScalarAsync("SELECT count(*) FROM document_knowledge WHERE tenant_id = @t AND status = 'extracted'", ("t", tenant.Tenant.Id)));
        Assert.True(await app.ScalarAsync("SELECT count(*) FROM ingestion_jobs WHERE tenant_id = @t AND attempts > 1", ("t", tenant.Tenant.Id)) > 0,
            "some jobs were taken over from the killed worker");
    }

    [Fact]
    public async Task A_worker_killed_mid_analysis_leaves_the_run_to_the_other_which_completes_it()
    {
        var corpus = FaultFixture.Corpus(120, "analysis");
        var tenant = await app.Api(1).SignupAsync();
        await app.UploadAsync(tenant.Tokens.AccessToken, corpus);
        await app.WaitForIngestionAsync(tenant.Tenant.Id, Settle);
        await app.WaitForExtractionAsync(tenant.Tenant.Id, Settle);

        // Analyses are quick; try until the kill lands on a running one (each try is a new run).
        using var client = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        Guid? killedRun = null;
        for (var attempt = 0; attempt < 5 && killedRun is null; attempt++)
        {
            var started = await client.PostAsync("api/knowledge/analyze", null);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var run = (await started.Content.ReadFromJsonAsync<KnowledgeAnalysisRunResponse>(ApiClient.Json))!;
            var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
            while (DateTimeOffset.UtcNow < deadline)
            {
                var holder = await app.LeaseHolderAsync("knowledge_analysis_runs", tenant.Tenant.Id);
                if (holder is not null)
                {
                    await app.Stack.KillAsync(holder);
                    killedRun = run.Id;
                    await app.Stack.RestartReplicaAsync(holder);
                    break;
                }

                var current = (await client.GetFromJsonAsync<KnowledgeAnalysisRunResponse>($"api/knowledge/analyze/runs/{run.Id}", ApiClient.Json))!;
                if (AnalysisRunStatuses.IsFinal(current.Status))
                {
                    break;
                }

                await Task.Delay(20);
            }
        }

        Assert.NotNull(killedRun);
        var final = await WaitForAnalysisAsync(client, killedRun.Value);
        Assert.Equal(AnalysisRunStatuses.Succeeded, final.Status);
        Assert.True(final.Attempts >= 2, "the run was claimed again after the kill");
        Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM knowledge_gaps WHERE tenant_id = @t GROUP BY fingerprint HAVING count(*) > 1", ("t", tenant.Tenant.Id)));
    }

    [Fact]
    public async Task A_worker_paused_past_its_lease_has_its_late_writes_refused_and_documents_deleted_meanwhile_never_come_back()
    {
        var corpus = FaultFixture.Corpus(120, "pause");
        var tenant = await app.Api(0).SignupAsync();
        var ids = await app.UploadAsync(tenant.Tokens.AccessToken, corpus);
        var byTitle = corpus.Select((d, i) => (d, Id: ids[i])).ToDictionary(x => x.d.Title, x => x);

        // Freeze the worker while it holds a batch: no renewals, sockets open, work half done.
        var victim = await WaitForLeaseHolderAsync("ingestion_jobs", tenant.Tenant.Id, () => Task.FromResult(1L), minDone: 0);
        SecondBrainStack.Pause(victim.ProcessId);
        List<string> heldTitles;
        try
        {
            heldTitles = await app.QueryAsync("""
                SELECT d.title FROM ingestion_jobs j JOIN documents d ON d.id = j.document_id
                 WHERE j.tenant_id = @t AND j.status = 'running' AND j.lease_owner = @owner
                """, r => r.GetString(0), ("t", tenant.Tenant.Id), ("owner", victim.InstanceId));
            Assert.NotEmpty(heldTitles);

            // While it is frozen, a user deletes some of the documents it holds, and some it does not.
            var deleted = heldTitles.Take(Math.Max(1, heldTitles.Count / 2))
                .Concat(corpus.Select(c => c.Title).Where(t => !heldTitles.Contains(t)).Take(5)).ToList();
            using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
            foreach (var title in deleted)
            {
                Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"api/documents/{byTitle[title].Id}")).StatusCode);
            }

            // Past its lease the other worker takes the batch over.
            await Task.Delay(TimeSpan.FromSeconds(9));
            await app.WaitForIngestionAsync(tenant.Tenant.Id, Settle);
            SecondBrainStack.Resume(victim.ProcessId);

            // Give the resumed worker time to try its late writes.
            await Task.Delay(TimeSpan.FromSeconds(8));
            await app.WaitForIngestionAsync(tenant.Tenant.Id, Settle);

            foreach (var title in deleted)
            {
                Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM chunks WHERE document_id = @d", ("d", byTitle[title].Id)));
                var marker = byTitle[title].d.Marker;
                foreach (var mode in new[] { "keyword", "hybrid" })
                {
                    var found = await app.SearchAsync(tenant.Tokens.AccessToken, marker, mode, on: 2);
                    Assert.DoesNotContain(found.Hits, h => h.DocumentId == byTitle[title].Id);
                }
            }

            var ask = await client.PostAsJsonAsync("api/ask", new AskRequest($"What does {byTitle[deleted[0]].d.Marker} mention?"));
            await ask.EnsureStatusAsync(HttpStatusCode.OK);
            var answer = (await ask.Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
            Assert.DoesNotContain(answer.Citations, c => deleted.Select(t => byTitle[t].Id).Contains(c.DocumentId));

            await AssertSameAsFaultFreeAsync(tenant.Tenant.Id, corpus.Where(c => !deleted.Contains(c.Title)).ToList(), "pause");
        }
        finally
        {
            SecondBrainStack.Resume(victim.ProcessId);
        }
    }

    private async Task<Replica> WaitForLeaseHolderAsync(string table, Guid tenantId, Func<Task<long>> done, long minDone)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(3);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await done() >= minDone && await app.LeaseHolderAsync(table, tenantId) is { } holder)
            {
                return holder;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"No worker held a lease in {table} in time.");
        return null!;
    }

    private static async Task<KnowledgeAnalysisRunResponse> WaitForAnalysisAsync(HttpClient client, Guid runId)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(3);
        while (true)
        {
            var run = (await client.GetFromJsonAsync<KnowledgeAnalysisRunResponse>($"api/knowledge/analyze/runs/{runId}", ApiClient.Json))!;
            if (AnalysisRunStatuses.IsFinal(run.Status))
            {
                return run;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"analysis {runId} still {run.Status}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Ingests the same files into a fresh tenant with no fault and compares every document: status, and its chunks
    /// (position and text) of the current version, each once.
    /// </summary>
    private async Task AssertSameAsFaultFreeAsync(Guid tenantId, IReadOnlyList<(string Title, string Text, string Marker)> corpus, string what)
    {
        var reference = await app.Api(2).SignupAsync();
        await app.UploadAsync(reference.Tokens.AccessToken, corpus);
        await app.WaitForIngestionAsync(reference.Tenant.Id, Settle);

        var expected = await app.SnapshotAsync(reference.Tenant.Id);
        var actual = await app.SnapshotAsync(tenantId);
        Assert.Equal(corpus.Count, expected.Count);
        var differences = corpus.Select(c => c.Title)
            .Where(t => !actual.TryGetValue(t, out var a) || a.Status != expected[t].Status || !a.Chunks.SequenceEqual(expected[t].Chunks))
            .ToList();
        Assert.True(differences.Count == 0,
            $"{what}: {differences.Count} of {corpus.Count} documents differ from a fault-free ingestion, e.g. {string.Join(", ", differences.Take(5))}");
        Assert.All(actual.Values, a => Assert.Equal("ingested", a.Status));
        Assert.Equal(0, await app.ScalarAsync(
            "SELECT count(*) FROM (SELECT document_id, position FROM chunks WHERE tenant_id = @t GROUP BY document_id, position HAVING count(*) > 1) d", ("t", tenantId)));
        Assert.Equal(0, await app.ScalarAsync(
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.tenant_id = @t AND c.document_version <> d.version", ("t", tenantId)));
    }
}
