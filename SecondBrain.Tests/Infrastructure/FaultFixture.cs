using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Npgsql;
using SecondBrain.TestSupport.StandIns;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Search;

namespace SecondBrain.Tests.Infrastructure;

/// <summary>
/// A stack of its own for fault injection (it kills, pauses and restarts processes), with short leases so that a
/// lost worker's work moves within seconds: 6 s leases renewed every second on every queue.
/// </summary>
public sealed class FaultFixture : SecondBrainAppFixture
{
    /// <summary>Where every service exports its traces (OTLP over HTTP), as to the Aspire dashboard.</summary>
    public OtlpStandIn Otlp { get; } = new();

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Otlp.Endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "500");
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Otlp.Dispose();
    }

    protected override void Configure(Dictionary<string, string> settings)
    {
        foreach (var section in new[] { "Ingestion", "Knowledge:Extraction" })
        {
            settings[$"{section}:LeaseDuration"] = "00:00:06";
            settings[$"{section}:RenewInterval"] = "00:00:01";
            settings[$"{section}:RetryBackoff"] = "00:00:01";
        }

        settings["Ingestion:BatchSize"] = "8";
        // A parse must end within its batch's lease (the services refuse to start otherwise).
        settings["Ingestion:Parsing:MaxTimeout"] = "00:00:05";
        settings["Knowledge:Analysis:LeaseDuration"] = "00:00:06";
        settings["Knowledge:Analysis:HeartbeatInterval"] = "00:00:01";
        settings["Knowledge:Analysis:SettleDelay"] = "00:00:02";
    }

    /// <summary>Text documents of 1 to 4 chunks, each with a word no other document has, for checking search afterwards.</summary>
    public static IReadOnlyList<(string Title, string Text, string Marker)> Corpus(int count, string prefix)
    {
        string[] sentences =
        [
            "The release train leaves every second Tuesday and the canary starts at five percent of traffic.",
            "Customs declarations are checked twice before the carrier receives the manifest for the shipment.",
            "Backups of the booking database run nightly and a restore is rehearsed once per quarter by the team.",
            "The support rota changes on Mondays, and handover notes go into the shared channel before noon.",
            "Invoices above the approval limit need a second signature from finance before they are paid.",
            "The warehouse scanners sync every fifteen minutes and fall back to batch upload when offline."
        ];
        var documents = new List<(string, string, string)>(count);
        for (var i = 0; i < count; i++)
        {
            var marker = $"{prefix}marker{i:D4}";
            var paragraphs = 1 + (i % 4) * 6;
            var text = string.Join("\n\n", Enumerable.Range(0, paragraphs).Select(p =>
                $"{sentences[(i + p) % sentences.Length]} Section {p} of document {i} mentions {(p == 0 ? marker : "the usual terms")}. " +
                $"{sentences[(i + p + 3) % sentences.Length]}"));
            documents.Add(($"{prefix}-doc-{i:D4}.txt", text, marker));
        }

        return documents;
    }

    /// <summary>Uploads text files through the multipart endpoint, 50 a request, round-robin over the Api replicas.</summary>
    public async Task<List<Guid>> UploadAsync(string accessToken, IReadOnlyList<(string Title, string Text, string Marker)> documents)
    {
        var ids = new List<Guid>();
        var request = 0;
        foreach (var chunk in documents.Chunk(50))
        {
            using var client = Api(request++).CreateClient(accessToken);
            using var form = new MultipartFormDataContent();
            foreach (var (title, text, _) in chunk)
            {
                form.Add(new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text)), "files", title);
            }

            var response = await client.PostAsync("api/documents", form);
            await response.EnsureStatusAsync(HttpStatusCode.Accepted);
            ids.AddRange((await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);
        }

        return ids;
    }

    public async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>Every document of the tenant with its status, and its chunks as (position, text hash), from Postgres.</summary>
    public async Task<Dictionary<string, (string Status, List<string> Chunks)>> SnapshotAsync(Guid tenantId)
    {
        var documents = await QueryAsync("SELECT title, status FROM documents WHERE tenant_id = @t AND deleted_at IS NULL",
            r => (r.GetString(0), r.GetString(1)), ("t", tenantId));
        var chunks = await QueryAsync("""
            SELECT d.title, c.position, md5(c.text), c.document_version = d.version
              FROM chunks c JOIN documents d ON d.id = c.document_id
             WHERE c.tenant_id = @t AND d.deleted_at IS NULL
             ORDER BY d.title, c.position
            """, r => (Title: r.GetString(0), Chunk: $"{r.GetInt32(1)}:{r.GetString(2)}:{(r.GetBoolean(3) ? "current" : "stale")}"), ("t", tenantId));
        return documents.ToDictionary(d => d.Item1, d => (d.Item2, chunks.Where(c => c.Title == d.Item1).Select(c => c.Chunk).ToList()));
    }

    /// <summary>Waits until no document of the tenant is pending; fails with the pending count after the timeout.</summary>
    public async Task WaitForIngestionAsync(Guid tenantId, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var pending = await TryScalarAsync("SELECT count(*) FROM documents WHERE tenant_id = @t AND status = 'pending'", ("t", tenantId));
            var queued = await TryScalarAsync("SELECT count(*) FROM ingestion_jobs WHERE tenant_id = @t AND status IN ('queued', 'running')", ("t", tenantId));
            if (pending == 0 && queued == 0)
            {
                return;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"ingestion did not settle: {pending} documents pending, {queued} jobs open");
            await Task.Delay(300);
        }
    }

    /// <summary>Waits until every document of the tenant has its knowledge extracted (or none is queued).</summary>
    public async Task WaitForExtractionAsync(Guid tenantId, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (await TryScalarAsync("SELECT count(*) FROM document_knowledge WHERE tenant_id = @t AND status IN ('queued', 'running')", ("t", tenantId)) is var open && open != 0)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"extraction did not settle: {open} documents open");
            await Task.Delay(300);
        }
    }

    /// <summary>A scalar that answers -1 while Postgres is unreachable (during a fault), instead of failing the wait.</summary>
    public async Task<long> TryScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        try
        {
            return await ScalarAsync(sql, parameters);
        }
        catch (NpgsqlException)
        {
            NpgsqlConnection.ClearAllPools();
            return -1;
        }
    }

    /// <summary>The worker replica that holds a lease in <paramref name="table"/> for the tenant right now, if any.</summary>
    public async Task<Replica?> LeaseHolderAsync(string table, Guid tenantId)
    {
        var owners = await QueryAsync($"SELECT lease_owner FROM {table} WHERE tenant_id = @t AND status = 'running' AND lease_owner IS NOT NULL AND lease_expires_at > now() LIMIT 1",
            r => r.GetString(0), ("t", tenantId));
        return owners.Count == 0 ? null : WorkerReplicas.FirstOrDefault(w => w.InstanceId == owners[0]);
    }

    public async Task<SearchResponse> SearchAsync(string accessToken, string query, string mode, int on = 0)
    {
        using var client = Api(on).CreateClient(accessToken);
        var response = await client.PostAsJsonAsync("api/search", new SearchRequest(query, mode, 20));
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(ApiClient.Json))!;
    }
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "SecondBrain app for fault injection";
}
