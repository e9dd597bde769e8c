using SecondBrain.Core.Feedback;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Common;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Knowledge.Gaps;
using SecondBrain.Core.Search;
using SecondBrain.Core.Sync;
using SecondBrain.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Tenant-level analysis through the real stack (3 Api + 2 Worker replicas): the planted corpus (mail archive, Slack
/// export, uploaded documents) is imported, ingested and extracted, analysed on one replica and read on others; every
/// planted gap must be reported with its evidence and no control may be; re-analysis is idempotent; triage and
/// answers work across replicas; and a run over the real datasets completes.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed partial class KnowledgeGapsTests(SecondBrainAppFixture app, ITestOutputHelper output)
{
    private const string Gaps = "api/knowledge/gaps";

    [Fact]
    public async Task The_planted_gaps_are_found_with_their_evidence_controls_are_not_and_reanalysis_is_idempotent()
    {
        var tenant = await app.Api(0).SignupAsync();
        var token = tenant.Tokens.AccessToken;
        var corpus = Corpus.Load();
        var documents = await ImportCorpusAsync(token, corpus, tenant.Tenant.Id);

        // Analyse on one replica, follow the run on the others.
        var first = await AnalyzeAsync(token, tenant.Tenant.Id, startOn: 0);
        Assert.Equal(AnalysisRunStatuses.Succeeded, first.Status);

        using var reader = app.Api(2).CreateClient(token);
        var gaps = await AllGapsAsync(reader);
        output.WriteLine($"{gaps.Count} gaps: " + string.Join("; ", gaps.GroupBy(g => g.Type).Select(g => $"{g.Key} {g.Count()}")));
        foreach (var gap in gaps)
        {
            output.WriteLine($"  [{gap.Type} p{gap.Priority} {gap.Confidence:0.00}] {gap.Title} | {string.Join(" | ", gap.Evidence.Select(e => e.Quote))}");
        }

        // Every planted gap: its type, each evidence quote in the right document, and a listed related entity.
        var missed = new List<string>();
        foreach (var planted in corpus.Gaps)
        {
            var match = gaps.Where(g => g.Type == planted.Type).FirstOrDefault(g => planted.Evidence.All(e => Cites(g, e, documents)));
            if (match is null)
            {
                missed.Add($"{planted.Id} ({planted.Type}): no gap cites {string.Join(" + ", planted.Evidence.Select(e => $"\"{e.Text}\" in {e.File}"))}");
                continue;
            }

            if (planted.Entities.Count > 0 && !planted.Entities.Any(name => match.Entities.Any(e => SameName(e.Name, name))))
            {
                missed.Add($"{planted.Id}: gap \"{match.Title}\" relates to [{string.Join(", ", match.Entities.Select(e => e.Name))}], none of [{string.Join(", ", planted.Entities)}]");
            }

            Assert.InRange(match.Priority, 1, 5);
            Assert.InRange(match.Confidence, 0.0, 1.0);
            Assert.NotEmpty(match.Questions);
            Assert.Equal(GapStatuses.Open, match.Status);
        }

        // No control reported as its type.
        foreach (var control in corpus.Controls)
        {
            foreach (var gap in gaps.Where(g => g.Type == control.Type))
            {
                if (control.Evidence.Any(e => gap.Evidence.Any(q => Contains(q.Quote, e.Text)))
                    || control.Entities.Any(name => gap.Type == GapTypes.UndefinedTerm && gap.Entities.Any(e => SameName(e.Name, name))))
                {
                    missed.Add($"control {control.Id} ({control.Type}) was reported: \"{gap.Title}\"");
                }
            }
        }

        Assert.True(missed.Count == 0, "Planted gaps and controls:\n" + string.Join("\n", missed));

        var bus = gaps.Single(g => g.Type == GapTypes.BusFactor && g.Entities.Any(e => SameName(e.Name, corpus.ExpectedBusFactorPerson)));
        Assert.Contains(corpus.ExpectedBusFactorPerson, bus.Title, StringComparison.Ordinal);

        // Triage on one replica is visible on another and survives re-analysis.
        var dismissed = gaps.First(g => g.Type == GapTypes.MissingRationale);
        using (var triage = app.Api(0).CreateClient(token))
        {
            var patched = await triage.PatchAsJsonAsync($"{Gaps}/{dismissed.Id}", new UpdateGapRequest(GapStatuses.Dismissed));
            await patched.EnsureStatusAsync(HttpStatusCode.OK);
        }

        Assert.Equal(GapStatuses.Dismissed, (await reader.GetFromJsonAsync<GapResponse>($"{Gaps}/{dismissed.Id}", ApiClient.Json))!.Status);

        // A gap someone found not useful is dismissed too, and stays so through re-analysis (same fingerprint).
        var notUseful = gaps.First(g => g.Type == GapTypes.MissingOwner);
        using (var rating = app.Api(1).CreateClient(token))
        {
            await (await rating.PostAsJsonAsync($"{Gaps}/{notUseful.Id}/feedback", new GapFeedbackRequest(false, "We all know who runs this."))).EnsureStatusAsync(HttpStatusCode.OK);
            await (await rating.PostAsJsonAsync($"{Gaps}/{notUseful.Id}/feedback", new GapFeedbackRequest(null, null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
            await (await rating.PostAsJsonAsync($"{Gaps}/{Guid.NewGuid()}/feedback", new GapFeedbackRequest(true, null))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        }

        // Two analyses requested at once on two replicas are one run; it re-finds every gap and adds none.
        var (a, b) = (StartAnalysisAsync(token, 0), StartAnalysisAsync(token, 1));
        var started = await Task.WhenAll(a, b);
        Assert.Equal(started[0].Id, started[1].Id);
        var second = await WaitForAnalysisAsync(token, started[0].Id);
        Assert.Equal(AnalysisRunStatuses.Succeeded, second.Status);
        Assert.Equal(0, second.GapsOpened);

        var again = await AllGapsAsync(reader);
        Assert.Equal(gaps.Select(g => g.Id).Order(), again.Select(g => g.Id).Order());
        Assert.Equal(again.Count, again.Select(g => (g.Type, g.Title)).Distinct().Count());
        Assert.Equal(GapStatuses.Dismissed, again.Single(g => g.Id == dismissed.Id).Status);
        Assert.Equal(GapStatuses.Dismissed, again.Single(g => g.Id == notUseful.Id).Status);
        Assert.Equal(0, await ScalarAsync<long>(
            "SELECT count(*) FROM (SELECT fingerprint FROM knowledge_gaps WHERE tenant_id = @t GROUP BY fingerprint HAVING count(*) > 1) d", tenant.Tenant.Id));

        // Filters and order: by priority, then confidence.
        var contradictions = (await reader.GetFromJsonAsync<PagedResult<GapResponse>>($"{Gaps}?type=contradiction&minPriority=4", ApiClient.Json))!;
        Assert.True(contradictions.Total >= 3);
        Assert.All(contradictions.Items, g => Assert.True(g.Type == GapTypes.Contradiction && g.Priority >= 4));
        var page = (await reader.GetFromJsonAsync<PagedResult<GapResponse>>($"{Gaps}?pageSize=5&page=1", ApiClient.Json))!;
        Assert.Equal(5, page.Items.Count);
        Assert.Equal(page.Items.OrderByDescending(g => g.Priority).ThenByDescending(g => g.Confidence).Select(g => g.Id), page.Items.Select(g => g.Id));
        var priya = bus.Entities.First(e => SameName(e.Name, corpus.ExpectedBusFactorPerson));
        var aboutPriya = (await reader.GetFromJsonAsync<PagedResult<GapResponse>>($"{Gaps}?entity={priya.Id}", ApiClient.Json))!;
        Assert.Contains(aboutPriya.Items, g => g.Id == bus.Id);

        // An answer is stored, becomes a searchable document, and the gap is answered.
        var term = gaps.Single(g => g.Type == GapTypes.UndefinedTerm && g.Entities.Any(e => e.Name == "LRR"));
        using (var answering = app.Api(1).CreateClient(token))
        {
            var response = await answering.PostAsJsonAsync($"{Gaps}/{term.Id}/answers",
                new AnswerGapRequest("LRR stands for launch readiness review: the quarterback checklist walkthrough before every Atlas release."));
            await response.EnsureStatusAsync(HttpStatusCode.Created);
            var answered = (await response.Content.ReadFromJsonAsync<AnswerGapResponse>(ApiClient.Json))!;
            Assert.Equal(GapStatuses.Answered, answered.Gap.Status);
            Assert.Equal(answered.Answer.DocumentId, answered.Gap.AnswerDocumentId);

            var detail = (await reader.GetFromJsonAsync<GapResponse>($"{Gaps}/{term.Id}", ApiClient.Json))!;
            Assert.Equal(GapStatuses.Answered, detail.Status);
            Assert.Single(detail.Answers!);

            await WaitUntilAsync(async () => (await reader.GetFromJsonAsync<DocumentDetail>($"api/documents/{answered.Answer.DocumentId}", ApiClient.Json))!
                .Document.Status == DocumentStatuses.Ingested, "the answer document is ingested");
            var search = await reader.PostAsJsonAsync("api/search", new SearchRequest("quarterback checklist walkthrough", SearchModes.Hybrid, 5));
            await search.EnsureStatusAsync(HttpStatusCode.OK);
            var hits = (await search.Content.ReadFromJsonAsync<SearchResponse>(ApiClient.Json))!.Hits;
            Assert.Contains(hits, h => h.DocumentId == answered.Answer.DocumentId);
        }

        // Stats.
        var stats = (await reader.GetFromJsonAsync<KnowledgeStatsResponse>("api/knowledge/stats", ApiClient.Json))!;
        Assert.True(stats.EntitiesByType[EntityTypes.Person] >= 8, $"{stats.EntitiesByType[EntityTypes.Person]} people");
        Assert.True(stats.GapsByType[GapTypes.Contradiction] >= 3);
        Assert.True(stats.GapsByStatus[GapStatuses.Dismissed] >= 2);
        Assert.Equal((0, 1), (stats.Feedback.GapsUseful, stats.Feedback.GapsNotUseful));
        Assert.True(stats.DocumentsExtracted >= documents.Count);
        Assert.NotNull(stats.LastRun);

        // Bad inputs: problem details with stable codes; another tenant sees none of it.
        using var client = app.Api(1).CreateClient(token);
        await (await client.PatchAsJsonAsync($"{Gaps}/{term.Id}", new UpdateGapRequest("closed"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PatchAsJsonAsync($"{Gaps}/{term.Id}", new UpdateGapRequest(null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Gaps}/{term.Id}/answers", new AnswerGapRequest(" "))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.GetAsync($"{Gaps}?type=nonsense")).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.GetAsync($"{Gaps}/{Guid.NewGuid()}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.PatchAsJsonAsync($"{Gaps}/{Guid.NewGuid()}", new UpdateGapRequest(GapStatuses.Verified))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.GetAsync($"api/knowledge/analyze/runs/{Guid.NewGuid()}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);

        var other = await app.Api(2).SignupAsync();
        using var stranger = app.Api(0).CreateClient(other.Tokens.AccessToken);
        await (await stranger.GetAsync($"{Gaps}/{term.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await stranger.PatchAsJsonAsync($"{Gaps}/{term.Id}", new UpdateGapRequest(GapStatuses.Dismissed))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await stranger.PostAsJsonAsync($"{Gaps}/{term.Id}/answers", new AnswerGapRequest("mine now"))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await stranger.GetAsync($"api/knowledge/analyze/runs/{first.Id}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        Assert.Equal(0, (await stranger.GetFromJsonAsync<PagedResult<GapResponse>>(Gaps, ApiClient.Json))!.Total);
        Assert.Equal(GapStatuses.Answered, (await reader.GetFromJsonAsync<GapResponse>($"{Gaps}/{term.Id}", ApiClient.Json))!.Status);

        // Deleting the only document a gap cites resolves the gap at the next analysis; it leaves the open list.
        var decisionsLog = documents.Uploads["decisions-log.md"];
        var retire = gaps.Single(g => g.Type == GapTypes.MissingRationale && g.Evidence.All(e => e.DocumentId == decisionsLog));
        await (await client.DeleteAsync($"api/documents/{decisionsLog}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await WaitUntilAsync(async () => await ScalarAsync<long>(
            $"SELECT count(*) FROM document_knowledge WHERE document_id = '{decisionsLog}'", tenant.Tenant.Id) == 0, "the deleted document's knowledge is gone");
        var third = await AnalyzeAsync(token, tenant.Tenant.Id, startOn: 2);
        Assert.Equal(AnalysisRunStatuses.Succeeded, third.Status);
        Assert.True(third.GapsResolved >= 1);
        Assert.True((await reader.GetFromJsonAsync<GapResponse>($"{Gaps}/{retire.Id}", ApiClient.Json))!.Resolved);
        Assert.DoesNotContain(await AllGapsAsync(reader), g => g.Id == retire.Id);
    }

    [DatasetFact]
    public async Task An_analysis_over_the_enron_sample_and_both_slack_exports_completes_with_entities_for_the_real_senders()
    {
        var tenant = await app.Api(0).SignupAsync();
        var token = tenant.Tokens.AccessToken;
        var maildir = Datasets.Path("enron-maildir-sample");
        // One active import per source: the two Slack exports go one after the other, the mail alongside.
        var mail = await UploadAsync(token, "email-archive", "enron.zip", Datasets.ZipFolder(maildir));
        var houston = await UploadAsync(token, "slack-export", "houston.zip", Datasets.ZipFolder(Datasets.Path("slack-export-houstondatavis")));
        Assert.Equal(SyncRunStatuses.Succeeded, (await app.WaitForRunAsync(token, houston.Id, TimeSpan.FromMinutes(10))).Final.Status);
        var hfaran = await UploadAsync(token, "slack-export", "testarchive.zip", await File.ReadAllBytesAsync(Datasets.Path("slack-export-hfaran/testarchive.zip")));
        foreach (var run in new[] { mail, hfaran })
        {
            var (final, _) = await app.WaitForRunAsync(token, run.Id, TimeSpan.FromMinutes(10));
            Assert.Equal(SyncRunStatuses.Succeeded, final.Status);
        }

        await WaitForExtractionAsync(tenant.Tenant.Id, TimeSpan.FromMinutes(25));
        var analysis = await AnalyzeAsync(token, tenant.Tenant.Id, startOn: 1, TimeSpan.FromMinutes(10));
        Assert.True(analysis.Status == AnalysisRunStatuses.Succeeded, $"analysis ended {analysis.Status}: {analysis.ErrorCode} {analysis.ErrorDetail}");
        Assert.True(analysis.DocumentsExamined > 0);

        // The most frequent senders of the sample are people in the graph, found by their address (the entity's
        // e-mail, or an alias when the address was all the header gave).
        var senders = Directory.EnumerateFiles(maildir, "*", SearchOption.AllDirectories)
            .Select(file => FromHeader().Match(File.ReadLines(file).Take(40).FirstOrDefault(l => l.StartsWith("From:", StringComparison.Ordinal)) ?? ""))
            .Where(m => m.Success).Select(m => m.Groups[1].Value.ToLowerInvariant())
            // Addresses that are not well-formed (Enron has "d..steffes@enron.com") are the header parser's concern, not this test's.
            .Where(a => System.Net.Mail.MailAddress.TryCreate(a, out var parsed) && parsed.Address == a && !a.Contains("..", StringComparison.Ordinal))
            .GroupBy(a => a).OrderByDescending(g => g.Count()).Take(3).Select(g => g.Key).ToList();
        Assert.NotEmpty(senders);
        foreach (var sender in senders)
        {
            var literal = sender.Replace("'", "''");
            Assert.True(await ScalarAsync<long>($"""
                SELECT count(*) FROM knowledge_entities e
                WHERE e.tenant_id = @t AND e.type = 'person'
                  AND (lower(e.email) = '{literal}'
                       OR EXISTS (SELECT 1 FROM knowledge_aliases a WHERE a.entity_id = e.id AND a.key = '{literal}'))
                """, tenant.Tenant.Id) >= 1, $"no person entity for the sender {sender}");
        }

        using var client = app.Api(2).CreateClient(token);
        var stats = (await client.GetFromJsonAsync<KnowledgeStatsResponse>("api/knowledge/stats", ApiClient.Json))!;
        output.WriteLine($"entities {stats.Entities} ({string.Join(", ", stats.EntitiesByType.Select(e => $"{e.Key} {e.Value}"))}); " +
                         $"open gaps {stats.OpenGaps} ({string.Join(", ", stats.GapsByType.Select(e => $"{e.Key} {e.Value}"))}); run {analysis.DocumentsExamined} documents");
        Assert.True(stats.EntitiesByType[EntityTypes.Person] > 10);
        var gaps = (await client.GetFromJsonAsync<PagedResult<GapResponse>>($"{Gaps}?pageSize=20", ApiClient.Json))!;
        Assert.All(gaps.Items, g =>
        {
            Assert.NotEmpty(g.Evidence);
            Assert.False(string.IsNullOrWhiteSpace(g.Title));
            Assert.NotEmpty(g.Questions);
        });
    }

    // ----- corpus import -----

    /// <summary>The documents of the corpus by file: uploads by name, mail by subject, Slack threads by export id.</summary>
    private sealed record CorpusDocuments(string Root, IReadOnlyDictionary<string, Guid> Uploads, IReadOnlyDictionary<string, Guid> Mail, IReadOnlyDictionary<string, Guid> Slack)
    {
        public int Count => Uploads.Count + Mail.Count + Slack.Count;

        /// <summary>The document a planted quote's file became: an upload by name, a mail by subject, a Slack thread by channel and thread.</summary>
        public Guid Expected(Corpus.Citation citation)
        {
            var path = Path.Combine(Root, citation.File);
            if (citation.File.StartsWith("documents/", StringComparison.Ordinal))
            {
                return Uploads[Path.GetFileName(path)];
            }

            if (citation.File.StartsWith("mail/", StringComparison.Ordinal))
            {
                var subject = File.ReadLines(path).First(l => l.StartsWith("Subject:", StringComparison.Ordinal))["Subject:".Length..].Trim();
                return Mail[subject];
            }

            var channelName = Path.GetFileName(Path.GetDirectoryName(path))!;
            using var channels = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "slack", "channels.json")));
            var channelId = channels.RootElement.EnumerateArray().First(c => c.GetProperty("name").GetString() == channelName).GetProperty("id").GetString();
            using var day = JsonDocument.Parse(File.ReadAllText(path));
            var message = day.RootElement.EnumerateArray().First(m => m.GetProperty("text").GetString()!.Contains(citation.Text, StringComparison.Ordinal));
            var thread = message.TryGetProperty("thread_ts", out var ts) ? ts.GetString() : message.GetProperty("ts").GetString();
            return Slack[$"{channelId}:{thread}"];
        }
    }

    private async Task<CorpusDocuments> ImportCorpusAsync(string token, Corpus corpus, Guid tenantId)
    {
        var mailRun = await UploadAsync(token, "email-archive", "northwind-mail.zip", Datasets.ZipFolder(Path.Combine(corpus.Root, "mail")));
        var slackRun = await UploadAsync(token, "slack-export", "northwind-slack.zip", Datasets.ZipFolder(Path.Combine(corpus.Root, "slack")));
        using (var client = app.Api(2).CreateClient(token))
        using (var form = new MultipartFormDataContent())
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(corpus.Root, "documents")).Order(StringComparer.Ordinal))
            {
                var content = new ByteArrayContent(await File.ReadAllBytesAsync(file));
                content.Headers.ContentType = new MediaTypeHeaderValue(file.EndsWith(".md", StringComparison.Ordinal) ? "text/markdown" : "text/plain");
                form.Add(content, "files", Path.GetFileName(file));
            }

            await (await client.PostAsync("api/documents", form)).EnsureStatusAsync(HttpStatusCode.Accepted);
        }

        foreach (var run in new[] { mailRun, slackRun })
        {
            var (final, _) = await app.WaitForRunAsync(token, run.Id);
            Assert.True(final.Status == SyncRunStatuses.Succeeded, $"{final.Source} import ended {final.Status}: {final.ErrorDetail}");
        }

        await WaitForExtractionAsync(tenantId, TimeSpan.FromMinutes(5));

        using var reader = app.Api(1).CreateClient(token);
        var listed = (await reader.GetFromJsonAsync<PagedResult<DocumentSummary>>("api/documents?pageSize=200", ApiClient.Json))!.Items;
        Assert.All(listed, d => Assert.True(d.Status == DocumentStatuses.Ingested, $"{d.Title} is {d.Status}: {d.FailureReason}"));
        var uploads = listed.Where(d => d.Source == DocumentService.UploadSource).ToDictionary(d => d.Title, d => d.Id);
        var mail = listed.Where(d => d.Source == "email-archive").ToDictionary(d => d.Title, d => d.Id);
        var slack = listed.Where(d => d.Source == "slack-export").ToDictionary(d => d.ExternalId, d => d.Id);
        Assert.Equal(9, uploads.Count);
        Assert.Equal(16, mail.Count);
        return new CorpusDocuments(corpus.Root, uploads, mail, slack);
    }

    private async Task<SyncRunResponse> UploadAsync(string token, string source, string fileName, byte[] content)
    {
        using var client = app.Api(Random.Shared.Next(3)).CreateClient(token);
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        form.Add(file, "file", fileName);
        var response = await client.PostAsync($"api/sync/{source}", form);
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<SyncRunResponse>(ApiClient.Json))!;
    }

    /// <summary>
    /// Every document ingested (or failed) and every ingested one extracted: a document whose extraction a worker is
    /// still running is not done (under load, analysing then missed the documents still being extracted).
    /// </summary>
    private async Task WaitForExtractionAsync(Guid tenantId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var pending = await ScalarAsync<long>("""
                SELECT (SELECT count(*) FROM ingestion_jobs WHERE tenant_id = @t AND status IN ('queued', 'running'))
                     + (SELECT count(*) FROM document_knowledge WHERE tenant_id = @t AND status IN ('queued', 'running'))
                     + (SELECT count(*) FROM documents d WHERE d.tenant_id = @t AND d.status = 'ingested' AND d.deleted_at IS NULL
                          AND NOT EXISTS (SELECT 1 FROM document_knowledge k WHERE k.document_id = d.id))
                """, tenantId);
            if (pending == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{pending} documents still waiting for ingestion or extraction");
            await Task.Delay(500);
        }
    }

    // ----- analysis -----

    private async Task<KnowledgeAnalysisRunResponse> StartAnalysisAsync(string token, int on)
    {
        using var client = app.Api(on).CreateClient(token);
        var response = await client.PostAsync("api/knowledge/analyze", null);
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        Assert.NotNull(response.Headers.Location);
        return (await response.Content.ReadFromJsonAsync<KnowledgeAnalysisRunResponse>(ApiClient.Json))!;
    }

    /// <summary>Polls (round-robin over the replicas) until the run ends.</summary>
    private async Task<KnowledgeAnalysisRunResponse> WaitForAnalysisAsync(string token, Guid runId, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        for (var i = 1; ; i++)
        {
            using var client = app.Api(i).CreateClient(token);
            var run = (await client.GetFromJsonAsync<KnowledgeAnalysisRunResponse>($"api/knowledge/analyze/runs/{runId}", ApiClient.Json))!;
            if (AnalysisRunStatuses.IsFinal(run.Status))
            {
                return run;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"analysis {runId} still {run.Status} at stage {run.Stage}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Starts an analysis and waits for it. A run that ingestion's settling queued earlier may be the one returned; it
    /// is followed, and then one more is started, until a run that began after every extraction has finished.
    /// </summary>
    private async Task<KnowledgeAnalysisRunResponse> AnalyzeAsync(string token, Guid tenantId, int startOn, TimeSpan? timeout = null)
    {
        var extracted = await ScalarAsync<DateTime>("SELECT max(extracted_at) FROM document_knowledge WHERE tenant_id = @t", tenantId);
        for (var attempt = 0; ; attempt++)
        {
            var run = await StartAnalysisAsync(token, startOn + attempt);
            var final = await WaitForAnalysisAsync(token, run.Id, timeout);
            if (final.Status != AnalysisRunStatuses.Succeeded || final.CreatedAt.UtcDateTime >= extracted || attempt >= 3)
            {
                return final;
            }
        }
    }

    private static async Task<List<GapResponse>> AllGapsAsync(HttpClient client)
    {
        var all = new List<GapResponse>();
        for (var page = 1; ; page++)
        {
            var result = (await client.GetFromJsonAsync<PagedResult<GapResponse>>($"{Gaps}?pageSize=200&page={page}", ApiClient.Json))!;
            all.AddRange(result.Items);
            if (all.Count >= result.Total || result.Items.Count == 0)
            {
                return all;
            }
        }
    }

    // ----- matching -----

    /// <summary>The gap quotes the planted sentence (one contains the other, whitespace aside) from the planted file's document.</summary>
    private static bool Cites(GapResponse gap, Corpus.Citation planted, CorpusDocuments documents) =>
        gap.Evidence.Any(e => Contains(e.Quote, planted.Text) && e.DocumentId == documents.Expected(planted));

    private static bool Contains(string evidence, string planted)
    {
        var a = Normalize(evidence);
        var b = Normalize(planted);
        return a.Contains(b, StringComparison.OrdinalIgnoreCase) || (a.Length >= 20 && b.Contains(a, StringComparison.OrdinalIgnoreCase));
    }

    private static string Normalize(string text) => Whitespace().Replace(text, " ").Trim();

    private static bool SameName(string entity, string planted) =>
        string.Equals(entity, planted, StringComparison.OrdinalIgnoreCase)
        || entity.Contains(planted, StringComparison.OrdinalIgnoreCase)
        || planted.Contains(entity, StringComparison.OrdinalIgnoreCase);

    private async Task<T> ScalarAsync<T>(string sql, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenantId);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(250);
        }
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^From:\s*(?:.*<)?([^<>\s]+@[^<>\s]+)>?\s*$")]
    private static partial Regex FromHeader();

    /// <summary>planted-gaps.json and where the corpus lives.</summary>
    private sealed record Corpus(string Root, IReadOnlyList<Corpus.Planted> Gaps, IReadOnlyList<Corpus.Planted> Controls, string ExpectedBusFactorPerson)
    {
        public sealed record Citation(string File, string Text);

        public sealed record Planted(string Id, string Type, IReadOnlyList<Citation> Evidence, IReadOnlyList<string> Entities);

        public static Corpus Load()
        {
            var root = Locate();
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "planted-gaps.json")));
            static Planted Read(JsonElement e) => new(
                e.GetProperty("id").GetString()!,
                e.GetProperty("type").GetString()!,
                e.GetProperty("evidence").EnumerateArray().Select(q => new Citation(q.GetProperty("file").GetString()!, q.GetProperty("quote").GetString()!)).ToList(),
                e.TryGetProperty("entities", out var entities) ? entities.EnumerateArray().Select(n => n.GetString()!).ToList() : []);
            return new Corpus(
                root,
                json.RootElement.GetProperty("gaps").EnumerateArray().Select(Read).ToList(),
                json.RootElement.GetProperty("controls").EnumerateArray().Select(Read).ToList(),
                json.RootElement.GetProperty("expectedBusFactorPerson").GetString()!);
        }

        private static string Locate()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "Knowledge", "Corpus"), Path.Combine(dir.FullName, "SecondBrain.Tests", "Knowledge", "Corpus") })
                {
                    if (File.Exists(Path.Combine(candidate, "planted-gaps.json")))
                    {
                        return candidate;
                    }
                }
            }

            throw new InvalidOperationException("SecondBrain.Tests/Knowledge/Corpus was not found above the test binaries.");
        }
    }
}
