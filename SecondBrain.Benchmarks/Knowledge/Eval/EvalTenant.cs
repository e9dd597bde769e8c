using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using SecondBrain.Benchmarks.Stack;
using SecondBrain.Core.Identity;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>
/// One evaluation set in its own tenant, through the real stack: the mail zipped to the e-mail archive import, the
/// Slack export zipped to its import, documents and uploads posted to the documents API; then waits for the imports,
/// ingestion, extraction and the automatic analysis, and reads back gaps and entities through the API (and, for the
/// per-document mentions no endpoint lists by document, one query on the database).
/// </summary>
public sealed class EvalTenant
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const int UploadBatch = 16;
    private readonly SecondBrainStack _stack;
    private readonly BenchmarkSession _session;

    private EvalTenant(SecondBrainStack stack, BenchmarkSession session, Guid tenantId)
    {
        _stack = stack;
        _session = session;
        TenantId = tenantId;
    }

    public Guid TenantId { get; }

    public static async Task<EvalTenant> CreateAsync(SecondBrainStack stack)
    {
        var session = await BenchmarkSession.SignupAsync(stack.ApiAddresses[0]);
        var me = await (await session.ClientAsync()).GetFromJsonAsync<MeResponse>("api/auth/me", Json);
        return new EvalTenant(stack, session, me!.Tenant.Id);
    }

    /// <summary>Posts the set and waits until everything is ingested, extracted and analysed; returns how long that took.</summary>
    public async Task<TimeSpan> IngestAsync(EvalSet set, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var runs = new List<Guid>();
        if (set.MailFiles.Count > 0)
        {
            runs.Add(await ImportAsync("email-archive", "mail.zip", ZipFiles(set.MailDirectory, set.MailFiles), ct));
        }

        if (Directory.Exists(set.SlackDirectory))
        {
            runs.Add(await ImportAsync("slack-export", "slack.zip", ZipFiles(set.SlackDirectory, Directory.GetFiles(set.SlackDirectory, "*", SearchOption.AllDirectories)), ct));
        }

        foreach (var batch in set.UploadFiles.Chunk(UploadBatch))
        {
            using var form = new MultipartFormDataContent();
            foreach (var file in batch)
            {
                var content = new ByteArrayContent(await File.ReadAllBytesAsync(file, ct));
                content.Headers.ContentType = new MediaTypeHeaderValue(ContentType(file));
                form.Add(content, "files", Path.GetFileName(file));
            }

            (await (await _session.ClientAsync()).PostAsync("api/documents", form, ct)).EnsureSuccessStatusCode();
        }

        foreach (var run in runs)
        {
            var final = await WaitAsync($"api/sync/runs/{run}", s => s.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled" or "reauth_required", ct);
            if (final.GetProperty("status").GetString() != "succeeded")
            {
                throw new InvalidOperationException($"{set.Name}: import {run} ended {final.GetProperty("status").GetString()}: {final}");
            }
        }

        await WaitForIngestionAsync(set.Name, clock, ct);
        await WaitForAnalysisAsync(set.Name, ct);
        return clock.Elapsed;
    }

    /// <summary>Every open gap, all pages.</summary>
    public async Task<IReadOnlyList<ReportedGap>> GapsAsync(IReadOnlyDictionary<Guid, ReportedEntity> entities, CancellationToken ct)
    {
        var gaps = new List<ReportedGap>();
        for (var page = 1; ; page++)
        {
            var result = await (await _session.ClientAsync()).GetFromJsonAsync<JsonElement>($"api/knowledge/gaps?pageSize=200&page={page}", Json, ct);
            var items = result.GetProperty("items").EnumerateArray().ToList();
            foreach (var gap in items)
            {
                var related = gap.GetProperty("entities").EnumerateArray().Select(e =>
                {
                    var id = e.GetProperty("id").GetGuid();
                    var name = e.GetProperty("name").GetString()!;
                    return entities.GetValueOrDefault(id) ?? new ReportedEntity(id, e.GetProperty("type").GetString()!, name, [name]);
                }).ToList();
                gaps.Add(new ReportedGap(gap.GetProperty("id").GetGuid(), gap.GetProperty("type").GetString()!, gap.GetProperty("title").GetString()!,
                    gap.GetProperty("evidence").EnumerateArray().Select(e => e.GetProperty("quote").GetString()!).ToList(), related));
            }

            if (items.Count == 0 || gaps.Count >= result.GetProperty("total").GetInt32())
            {
                return gaps;
            }
        }
    }

    /// <summary>The tenant's people and organisations with every alias (the list, then each entity's detail).</summary>
    public async Task<IReadOnlyDictionary<Guid, ReportedEntity>> EntitiesAsync(CancellationToken ct)
    {
        var entities = new Dictionary<Guid, ReportedEntity>();
        foreach (var type in new[] { "person", "organization" })
        {
            for (var page = 1; ; page++)
            {
                var result = await (await _session.ClientAsync()).GetFromJsonAsync<JsonElement>($"api/knowledge/entities?type={type}&pageSize=200&page={page}", Json, ct);
                var items = result.GetProperty("items").EnumerateArray().ToList();
                foreach (var item in items)
                {
                    var id = item.GetProperty("id").GetGuid();
                    var detail = await (await _session.ClientAsync()).GetFromJsonAsync<JsonElement>($"api/knowledge/entities/{id}?mentionPageSize=1", Json, ct);
                    var summary = detail.GetProperty("entity");
                    var name = summary.GetProperty("name").GetString()!;
                    var names = new List<string> { name };
                    if (summary.TryGetProperty("email", out var email) && email.ValueKind == JsonValueKind.String)
                    {
                        names.Add(email.GetString()!);
                    }

                    names.AddRange(detail.GetProperty("aliases").EnumerateArray().Select(a => a.GetProperty("alias").GetString()!));
                    entities[id] = new ReportedEntity(id, type == "organization" ? "organisation" : type, name, names.Distinct(StringComparer.OrdinalIgnoreCase).ToList());
                }

                if (items.Count == 0 || page * 200 >= result.GetProperty("total").GetInt32())
                {
                    break;
                }
            }
        }

        return entities;
    }

    /// <summary>
    /// The people and organisations found in the documents each file became (mail by Message-ID, Slack day files by
    /// the threads that start in them, documents and uploads by file name). No endpoint lists mentions by document,
    /// so this is one query on the tenant's mentions.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<ReportedEntity>>> EntitiesByFileAsync(
        EvalSet set, IReadOnlyDictionary<Guid, ReportedEntity> entities, CancellationToken ct)
    {
        var files = EvalDocumentMap.Files(set);
        var byFile = new Dictionary<string, HashSet<Guid>>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(_stack.DatabaseConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("""
            SELECT d.source, d.external_id, d.title, d.metadata::text, m.entity_id
            FROM documents d
            JOIN knowledge_mentions m ON m.document_id = d.id AND m.tenant_id = d.tenant_id
            JOIN knowledge_entities e ON e.id = m.entity_id AND e.type IN ('person', 'organization')
            WHERE d.tenant_id = @t AND d.deleted_at IS NULL
            GROUP BY d.id, d.source, d.external_id, d.title, d.metadata::text, m.entity_id
            """, connection);
        command.Parameters.AddWithValue("t", TenantId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3), Json) ?? [];
            if (files.FileOf(reader.GetString(0), reader.GetString(1), reader.GetString(2), metadata) is not { } file)
            {
                continue;
            }

            if (!byFile.TryGetValue(file, out var ids))
            {
                byFile[file] = ids = [];
            }

            ids.Add(reader.GetGuid(4));
        }

        return byFile.ToDictionary(p => p.Key, p => (IReadOnlyList<ReportedEntity>)p.Value.Select(id => entities.GetValueOrDefault(id)).OfType<ReportedEntity>().ToList(), StringComparer.Ordinal);
    }

    private async Task<Guid> ImportAsync(string source, string fileName, byte[] zip, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(zip);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        form.Add(file, "file", fileName);
        var response = await (await _session.ClientAsync()).PostAsync($"api/sync/{source}", form, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Json, ct)).GetProperty("id").GetGuid();
    }

    /// <summary>Until nothing is pending or queued for extraction, printing the progress (documents done, rate) as it goes.</summary>
    private async Task WaitForIngestionAsync(string set, Stopwatch clock, CancellationToken ct)
    {
        var lastPrint = TimeSpan.Zero;
        var deadline = DateTime.UtcNow.AddMinutes(60);
        while (true)
        {
            var client = await _session.ClientAsync();
            var all = (await client.GetFromJsonAsync<JsonElement>("api/documents?pageSize=1", Json, ct)).GetProperty("total").GetInt32();
            var pending = (await client.GetFromJsonAsync<JsonElement>("api/documents?status=pending&pageSize=1", Json, ct)).GetProperty("total").GetInt32();
            var stats = await client.GetFromJsonAsync<JsonElement>("api/knowledge/stats", Json, ct);
            var extracted = stats.GetProperty("documentsExtracted").GetInt32();
            var queued = stats.GetProperty("documentsQueued").GetInt32();
            if (clock.Elapsed - lastPrint > TimeSpan.FromSeconds(5) || (pending == 0 && queued == 0))
            {
                lastPrint = clock.Elapsed;
                var rate = extracted / Math.Max(1, clock.Elapsed.TotalSeconds);
                Console.WriteLine($"knowledge-eval {set}: {all - pending}/{all} ingested, {extracted} extracted, {queued} queued for extraction, {rate:F2} documents/s, {clock.Elapsed.TotalSeconds:F0}s");
            }

            if (all > 0 && pending == 0 && queued == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{set}: ingestion did not settle: {pending} pending, {queued} queued");
            }

            await Task.Delay(1000, ct);
        }
    }

    /// <summary>
    /// Until an analysis that saw every extraction (its watermark at or after the newest one) has succeeded and none
    /// is queued or running. The automatic run starts once ingestion settles; if none comes, one is started.
    /// </summary>
    private async Task WaitForAnalysisAsync(string set, CancellationToken ct)
    {
        DateTime newest;
        await using (var connection = new NpgsqlConnection(_stack.DatabaseConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT max(extracted_at) FROM document_knowledge WHERE tenant_id = @t AND status = 'extracted'", connection);
            command.Parameters.AddWithValue("t", TenantId);
            newest = await command.ExecuteScalarAsync(ct) is DateTime at ? at.ToUniversalTime() : DateTime.MinValue;
        }

        var waited = Stopwatch.StartNew();
        var started = false;
        while (true)
        {
            var runs = (await (await _session.ClientAsync()).GetFromJsonAsync<JsonElement>("api/knowledge/analyze/runs?pageSize=20", Json, ct))
                .GetProperty("items").EnumerateArray().ToList();
            var active = runs.Any(r => r.GetProperty("status").GetString() is "queued" or "running");
            var complete = runs.FirstOrDefault(r => r.GetProperty("status").GetString() == "succeeded"
                && r.TryGetProperty("watermark", out var w) && w.ValueKind == JsonValueKind.String && w.GetDateTimeOffset().UtcDateTime >= newest.AddMilliseconds(-1));
            if (!active && complete.ValueKind == JsonValueKind.Object)
            {
                Console.WriteLine($"knowledge-eval {set}: analysis {complete.GetProperty("id").GetGuid()} done: {complete.GetProperty("gapsOpened").GetInt32()} gaps opened");
                return;
            }

            if (!active && !started && waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                // The settle trigger did not fire (or fired before the last extraction): ask for a run.
                (await (await _session.ClientAsync()).PostAsync("api/knowledge/analyze", null, ct)).EnsureSuccessStatusCode();
                started = true;
            }

            if (waited.Elapsed > TimeSpan.FromMinutes(30))
            {
                throw new TimeoutException($"{set}: no complete analysis after 30 minutes");
            }

            await Task.Delay(1000, ct);
        }
    }

    private async Task<JsonElement> WaitAsync(string path, Func<JsonElement, bool> done, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while (true)
        {
            var state = await (await _session.ClientAsync()).GetFromJsonAsync<JsonElement>(path, Json, ct);
            if (done(state))
            {
                return state;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{path} did not settle: {state}");
            }

            await Task.Delay(500, ct);
        }
    }

    private static byte[] ZipFiles(string root, IEnumerable<string> files)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in files)
            {
                zip.CreateEntryFromFile(file, Path.GetRelativePath(root, file).Replace('\\', '/'));
            }
        }

        return stream.ToArray();
    }

    private static string ContentType(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".md" => "text/markdown",
        ".html" or ".htm" => "text/html",
        ".eml" => "message/rfc822",
        ".json" => "application/json",
        ".csv" => "text/csv",
        ".pdf" => "application/pdf",
        _ => "text/plain"
    };
}
