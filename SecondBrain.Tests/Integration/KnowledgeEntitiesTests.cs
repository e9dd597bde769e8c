using System.Net;
using System.Net.Http.Json;
using Npgsql;
using SecondBrain.Core.Common;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Graph;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// The knowledge graph API over a graph seeded straight into Postgres (so the assertions do not depend on what
/// extraction finds), and one test through the real extraction pipeline for fuzzy normalisation.
/// </summary>
/// <remarks>
/// Documents are uploaded through the API (mentions and relations point at real documents) with lower-case prose that
/// names nobody and states no ownership or decision. Extraction of a document replaces its knowledge rows, so a test
/// seeds mentions and relations only once its documents are extracted, and the entities before uploading, so that
/// extraction cannot take a seeded name first.
/// </remarks>
[Collection(SecondBrainAppCollection.Name)]
public sealed class KnowledgeEntitiesTests(SecondBrainAppFixture app)
{
    private const string Entities = "api/knowledge/entities";

    [Fact]
    public async Task Entities_are_listed_searched_filtered_and_paged()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        await using var graph = new GraphSeeder(app.DatabaseConnectionString, tenant.Tenant.Id);
        var zorana = await graph.EntityAsync(EntityTypes.Person, "Zorana Quill", null, "Z. Quill");
        var halvard = await graph.EntityAsync(EntityTypes.Person, "Halvard Brisk");
        var kestrel = await graph.EntityAsync(EntityTypes.System, "Kestrel Ledger");
        var osprey = await graph.EntityAsync(EntityTypes.System, "Osprey Gateway");
        var petrel = await graph.EntityAsync(EntityTypes.System, "Petrel Queue");
        var merlin = await graph.EntityAsync(EntityTypes.System, "Merlin Cache");
        var falconry = await graph.EntityAsync(EntityTypes.Project, "Falconry Revamp");
        Guid[] seeded = [zorana, halvard, kestrel, osprey, petrel, merlin, falconry];
        var docs = await UploadExtractedAsync(client, ("Batch notes", "weekly notes about the nightly batch."), ("Queue notes", "notes about queue depth and retries."));
        await graph.MentionsAsync(kestrel, docs[0], 4, "Kestrel Ledger");
        await graph.MentionsAsync(kestrel, docs[1], 1, "Kestrel Ledger");
        await graph.MentionsAsync(zorana, docs[0], 2, "Zorana Quill");
        await graph.MentionsAsync(zorana, docs[1], 1, "Z. Quill");
        await graph.MentionsAsync(merlin, docs[1], 2, "Merlin Cache");
        await graph.MentionsAsync(petrel, docs[1], 1, "Petrel Queue");
        await graph.MentionsAsync(halvard, docs[0], 1, "Halvard Brisk");

        var all = await ListAsync(client, "");
        // Extraction of the documents may add a topic of its own; the seeded entities are all there, the most mentioned first.
        Assert.Equal(7, all.Items.Count(e => seeded.Contains(e.Id)));
        Assert.Equal(kestrel, all.Items[0].Id);
        Assert.Equal((5L, 2L), (all.Items[0].MentionCount, all.Items[0].DocumentCount));
        Assert.Equal((3L, 2L), all.Items.Where(e => e.Id == zorana).Select(e => (e.MentionCount, e.DocumentCount)).Single());

        // Type filter (any case) and paging: most mentioned first, every system exactly once, a page past the end is empty.
        var systems = new List<EntitySummary>();
        for (var page = 1; page <= 3; page++)
        {
            var result = await ListAsync(client, $"?type=SYSTEM&pageSize=2&page={page}");
            Assert.Equal(4, result.Total);
            Assert.Equal(page < 3 ? 2 : 0, result.Items.Count);
            systems.AddRange(result.Items);
        }

        Assert.Equal([kestrel, merlin, petrel, osprey], systems.Select(s => s.Id));
        Assert.All(systems, s => Assert.Equal(EntityTypes.System, s.Type));
        Assert.Equal(2, (await ListAsync(client, "?type=person")).Total);

        // Search matches any alias: by substring, exactly after normalisation (honorific dropped), and fuzzily.
        Assert.Equal(kestrel, (await ListAsync(client, "?search=kestrel")).Items[0].Id);
        Assert.Equal(kestrel, (await ListAsync(client, "?search=Kestrel%20Ledgr")).Items[0].Id);
        Assert.Equal(zorana, Assert.Single((await ListAsync(client, "?search=z.%20quill")).Items).Id);
        Assert.Equal(halvard, (await ListAsync(client, "?search=Mr.%20Halvard%20Brisk")).Items[0].Id);
        Assert.Equal(0, (await ListAsync(client, "?search=quill&type=system")).Total);
        Assert.Equal(0, (await ListAsync(client, "?search=nothing%20like%20this")).Total);
    }

    [Fact]
    public async Task An_entity_shows_its_aliases_aggregated_relations_and_mentions_with_their_documents()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        await using var graph = new GraphSeeder(app.DatabaseConnectionString, tenant.Tenant.Id);
        var zorana = await graph.EntityAsync(EntityTypes.Person, "Zorana Quill", "zorana@example.test", "Z. Quill");
        var kestrel = await graph.EntityAsync(EntityTypes.System, "Kestrel Ledger");
        var falconry = await graph.EntityAsync(EntityTypes.Project, "Falconry Revamp");
        var docs = await UploadExtractedAsync(client, ("Ledger runbook", "steps for the nightly ledger job."), ("Ledger review", "review of the ledger job after the outage."));
        await graph.MentionAsync(zorana, docs[0], 0, 10, "Zorana Quill", "Zorana Quill owns the Kestrel Ledger.");
        await graph.MentionAsync(zorana, docs[1], 3, 120, "Z. Quill", "Z. Quill decided on the Falconry Revamp.");
        await graph.MentionAsync(zorana, docs[1], 0, 0, "zorana@example.test", "", fromHeader: true);
        await graph.RelationAsync(zorana, kestrel, RelationTypes.Owns, 0.9, docs[0], 0, "Zorana Quill owns the Kestrel Ledger.");
        await graph.RelationAsync(zorana, kestrel, RelationTypes.Owns, 0.6, docs[0], 2, "She also owns its alerts.");
        await graph.RelationAsync(zorana, kestrel, RelationTypes.Owns, 0.7, docs[1], 1, "Kestrel Ledger is still Zorana's.");
        await graph.RelationAsync(zorana, kestrel, RelationTypes.Owns, 0.8, docs[1], 4, "Zorana Quill owns the ledger job.");
        await graph.RelationAsync(zorana, falconry, RelationTypes.Decided, 0.8, docs[1], 3, "Z. Quill decided on the Falconry Revamp.");

        var detail = await GetAsync(client, zorana);
        Assert.Equal(("Zorana Quill", EntityTypes.Person, "zorana@example.test"), (detail.Entity.Name, detail.Entity.Type, detail.Entity.Email));
        Assert.Equal(["z quill", "zorana quill"], detail.Aliases.Select(a => a.Key).Order());
        Assert.All(detail.Aliases, a => Assert.Equal("extracted", a.Origin));

        var owns = detail.Relations.Single(r => r.Type == RelationTypes.Owns);
        Assert.Equal(("outgoing", kestrel, "Kestrel Ledger"), (owns.Direction, owns.Other.Id, owns.Other.Name));
        Assert.Equal((4, 2), (owns.EvidenceCount, owns.DocumentCount));
        Assert.Equal(0.9, owns.MaxConfidence, 6);
        Assert.Equal(0.75, owns.AverageConfidence, 6);
        Assert.Equal([0.9, 0.8, 0.7], owns.Evidence.Select(e => e.Confidence));
        Assert.Equal(("Zorana Quill owns the Kestrel Ledger.", "Ledger runbook", docs[0], 0), (owns.Evidence[0].Sentence, owns.Evidence[0].DocumentTitle, owns.Evidence[0].DocumentId, owns.Evidence[0].SentenceIndex));
        Assert.Equal("Ledger review", owns.Evidence[1].DocumentTitle);
        var decided = detail.Relations.Single(r => r.Type == RelationTypes.Decided);
        Assert.Equal((falconry, 1), (decided.Other.Id, decided.EvidenceCount));

        // The other side sees the same evidence as incoming.
        var incoming = Assert.Single((await GetAsync(client, kestrel)).Relations);
        Assert.Equal((RelationTypes.Owns, "incoming", zorana, 4), (incoming.Type, incoming.Direction, incoming.Other.Id, incoming.EvidenceCount));

        Assert.Equal((3L, 2L), (detail.Entity.MentionCount, detail.Entity.DocumentCount));
        Assert.Equal(3, detail.Mentions.Total);
        var mention = detail.Mentions.Items.Single(m => m.Text == "Z. Quill");
        Assert.Equal((docs[1], "Ledger review", 3, 120, 8, "Z. Quill decided on the Falconry Revamp.", false),
            (mention.DocumentId, mention.DocumentTitle, mention.SentenceIndex, mention.Start, mention.Length, mention.Sentence, mention.FromHeader));
        Assert.Contains(detail.Mentions.Items, m => m.FromHeader && m.Text == "zorana@example.test");

        var firstPage = await GetAsync(client, zorana, "?mentionPageSize=2");
        var secondPage = await GetAsync(client, zorana, "?mentionPageSize=2&mentionPage=2");
        Assert.Equal((2, 1, 3L), (firstPage.Mentions.Items.Count, secondPage.Mentions.Items.Count, secondPage.Mentions.Total));
        Assert.Equal(3, firstPage.Mentions.Items.Concat(secondPage.Mentions.Items).Select(m => m.Id).Distinct().Count());
    }

    [Fact]
    public async Task Experts_on_a_topic_are_ranked_by_evidence_with_the_owner_first()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        await using var graph = new GraphSeeder(app.DatabaseConnectionString, tenant.Tenant.Id);
        var topic = await graph.EntityAsync(EntityTypes.Project, "Ledger Reconciliation");
        var zorana = await graph.EntityAsync(EntityTypes.Person, "Zorana Quill", "zorana@example.test");
        var halvard = await graph.EntityAsync(EntityTypes.Person, "Halvard Brisk");
        var ines = await graph.EntityAsync(EntityTypes.Person, "Ines Moreau");
        var oskar = await graph.EntityAsync(EntityTypes.Person, "Oskar Lindqvist");
        var docs = await UploadExtractedAsync(client,
            ("Ledger reconciliation runbook", "the ledger reconciliation job runs nightly after the payments export. when the reconciliation totals disagree, the batch is held for review."),
            ("Reconciliation notes", "notes on ledger reconciliation from the finance sync: totals matched for march."),
            ("Cafeteria", "the cafeteria serves soup on fridays."));
        await graph.MentionAsync(topic, docs[0], 0, 4, "ledger reconciliation", "the ledger reconciliation job runs nightly after the payments export.");
        await graph.MentionAsync(topic, docs[1], 0, 9, "ledger reconciliation", "notes on ledger reconciliation from the finance sync: totals matched for march.");
        await graph.RelationAsync(zorana, topic, RelationTypes.Owns, 0.9, docs[0], 0, "Zorana Quill owns the ledger reconciliation.");
        await graph.RelationAsync(zorana, topic, RelationTypes.Owns, 0.8, docs[1], 0, "Ledger reconciliation stays with Zorana.");
        await graph.RelationAsync(ines, topic, RelationTypes.Decided, 0.6, docs[1], 0, "Ines decided to run the reconciliation nightly.");
        await graph.MentionAsync(halvard, docs[1], 0, 0, "Halvard Brisk", "", fromHeader: true);
        await graph.MentionAsync(halvard, docs[0], 1, 70, "Halvard", "Halvard checks the totals.");
        await graph.MentionAsync(oskar, docs[2], 0, 0, "Oskar Lindqvist", "Oskar likes the soup.");

        using var other = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var response = await other.GetFromJsonAsync<ExpertsResponse>("api/knowledge/experts?topic=ledger%20reconciliation", ApiClient.Json);
        var experts = response!.Experts;
        Assert.Contains(response.MatchedEntities, e => e.Id == topic);
        Assert.Equal([zorana, halvard, ines], experts.Select(e => e.Person.Id));
        Assert.True(experts[0].Score > experts[1].Score && experts[1].Score > experts[2].Score);

        var owner = experts[0];
        Assert.Equal(("Zorana Quill", "zorana@example.test"), (owner.Person.Name, owner.Email));
        Assert.Equal([RelationTypes.Owns, RelationTypes.Owns], owner.Evidence.Select(e => e.Kind));
        Assert.Equal(("Zorana Quill owns the ledger reconciliation.", "Ledger reconciliation runbook", topic),
            (owner.Evidence[0].Sentence, owner.Evidence[0].DocumentTitle, owner.Evidence[0].About!.Id));
        Assert.Contains(experts[1].Evidence, e => e.Kind == "authored" && e.DocumentId == docs[1] && e.DocumentTitle == "Reconciliation notes");
        Assert.Contains(experts[1].Evidence, e => e.Kind == "mentioned" && e.Sentence == "Halvard checks the totals.");
        Assert.Equal(RelationTypes.Decided, Assert.Single(experts[2].Evidence).Kind);

        // A topic found only in the text of the documents still finds who wrote about it; an unknown one finds nobody.
        var byText = (await other.GetFromJsonAsync<ExpertsResponse>("api/knowledge/experts?topic=payments%20export", ApiClient.Json))!;
        Assert.Contains(byText.Experts, e => e.Person.Id == halvard);
        Assert.DoesNotContain(byText.Experts, e => e.Person.Id == oskar);
        Assert.Empty((await other.GetFromJsonAsync<ExpertsResponse>("api/knowledge/experts?topic=zebrafish%20husbandry", ApiClient.Json))!.Experts);
    }

    [Fact]
    public async Task Rename_merge_and_split_through_one_replica_are_seen_by_every_replica_at_once()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var onA = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        using var onB = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        using var onC = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        await using var graph = new GraphSeeder(app.DatabaseConnectionString, tenant.Tenant.Id);
        var priyanka = await graph.EntityAsync(EntityTypes.Person, "Priyanka Rao", null, "P. Rao");
        var duplicate = await graph.EntityAsync(EntityTypes.Person, "Priyanka R.");
        var billing = await graph.EntityAsync(EntityTypes.System, "Atlas Billing");
        var docs = await UploadExtractedAsync(onA, ("Billing notes", "notes about invoices and billing runs."), ("Billing follow-up", "follow-up on the invoice run."));
        await graph.MentionAsync(priyanka, docs[0], 0, 0, "Priyanka Rao", "Priyanka Rao owns Atlas Billing.");
        await graph.MentionAsync(priyanka, docs[0], 2, 60, "P. Rao", "P. Rao runs the invoices.");
        await graph.MentionAsync(duplicate, docs[1], 1, 30, "Priyanka R.", "Priyanka R. owns Atlas Billing now.");
        await graph.MentionAsync(duplicate, docs[1], 3, 90, "Priyanka R.", "Ask Priyanka R. about refunds.");
        await graph.RelationAsync(priyanka, billing, RelationTypes.Owns, 0.9, docs[0], 0, "Priyanka Rao owns Atlas Billing.");
        await graph.RelationAsync(duplicate, billing, RelationTypes.Owns, 0.8, docs[1], 1, "Priyanka R. owns Atlas Billing now.");
        var generation = await AliasGenerationAsync(tenant.Tenant.Id);

        // Rename on one replica: the others show the new name at once and find it by search; old aliases stay.
        var renamed = await onA.PostAsJsonAsync($"{Entities}/{priyanka}/rename", new RenameEntityRequest("Priyanka Rao-Menon"));
        await renamed.EnsureStatusAsync(HttpStatusCode.OK);
        foreach (var client in new[] { onB, onC })
        {
            var detail = await GetAsync(client, priyanka);
            Assert.Equal("Priyanka Rao-Menon", detail.Entity.Name);
            Assert.Equal(["p rao", "priyanka rao", "priyanka rao-menon"], detail.Aliases.Select(a => a.Key).Order());
            Assert.Equal("user", detail.Aliases.Single(a => a.Key == "priyanka rao-menon").Origin);
            Assert.Equal(priyanka, (await ListAsync(client, "?search=rao-menon")).Items[0].Id);
        }

        Assert.True(await AliasGenerationAsync(tenant.Tenant.Id) > generation, "the rename bumped the alias generation");
        generation = await AliasGenerationAsync(tenant.Tenant.Id);

        // Merge on another: the union of aliases, mentions and relation evidence is on the target; the source is gone.
        var merge = await onB.PostAsJsonAsync($"{Entities}/{priyanka}/merge", new MergeEntitiesRequest([duplicate]));
        await merge.EnsureStatusAsync(HttpStatusCode.OK);
        var mergeResult = (await merge.Content.ReadFromJsonAsync<EntityMergeResult>(ApiClient.Json))!;
        Assert.Equal(new GraphChangeCounts(1, 2, 1), mergeResult.Moved);
        var merged = await GetAsync(onC, priyanka);
        Assert.Equal(["p rao", "priyanka r", "priyanka rao", "priyanka rao-menon"], merged.Aliases.Select(a => a.Key).Order());
        Assert.Equal("user", merged.Aliases.Single(a => a.Key == "priyanka r").Origin);
        Assert.Equal(4, merged.Mentions.Total);
        Assert.Equal((2, 2), merged.Relations.Where(r => r.Other.Id == billing).Select(r => (r.EvidenceCount, r.DocumentCount)).Single());
        await (await onA.GetAsync($"{Entities}/{duplicate}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        Assert.Equal(priyanka, Assert.Single((await ListAsync(onA, "?search=Priyanka%20R.")).Items, e => e.Type == EntityTypes.Person && e.Name.StartsWith("Priyanka", StringComparison.Ordinal)).Id);
        Assert.True(await AliasGenerationAsync(tenant.Tenant.Id) > generation, "the merge bumped the alias generation");
        generation = await AliasGenerationAsync(tenant.Tenant.Id);

        // Split on the third: the alias, its mentions and the evidence stated only through it form a new entity.
        var split = await onC.PostAsJsonAsync($"{Entities}/{priyanka}/split", new SplitEntityRequest(["Priyanka R."], "Priyanka Reddy"));
        await split.EnsureStatusAsync(HttpStatusCode.Created);
        var splitResult = (await split.Content.ReadFromJsonAsync<EntitySplitResult>(ApiClient.Json))!;
        var created = splitResult.Created;
        Assert.Equal($"/api/knowledge/entities/{created.Entity.Id}", split.Headers.Location?.OriginalString);
        Assert.Equal(new GraphChangeCounts(1, 2, 1), splitResult.Moved);
        Assert.Equal(("Priyanka Reddy", EntityTypes.Person), (created.Entity.Name, created.Entity.Type));
        Assert.Equal(["priyanka r", "priyanka reddy"], created.Aliases.Select(a => a.Key).Order());
        Assert.All(created.Mentions.Items, m => Assert.Equal("Priyanka R.", m.Text));
        Assert.Equal(2, created.Mentions.Total);
        var createdOwns = Assert.Single(created.Relations);
        Assert.Equal((billing, 1, "Priyanka R. owns Atlas Billing now."), (createdOwns.Other.Id, createdOwns.EvidenceCount, createdOwns.Evidence[0].Sentence));

        var original = await GetAsync(onA, priyanka);
        Assert.Equal("Priyanka Rao-Menon", original.Entity.Name);
        Assert.Equal(["p rao", "priyanka rao", "priyanka rao-menon"], original.Aliases.Select(a => a.Key).Order());
        Assert.Equal(2, original.Mentions.Total);
        Assert.Equal(1, original.Relations.Single(r => r.Other.Id == billing).EvidenceCount);
        Assert.Equal(created.Entity.Id, (await ListAsync(onB, "?search=priyanka%20reddy")).Items[0].Id);
        Assert.True(await AliasGenerationAsync(tenant.Tenant.Id) > generation, "the split bumped the alias generation");

        // A name that now belongs to the other entity cannot be taken by a rename: that would be a merge.
        var conflict = await (await onB.PostAsJsonAsync($"{Entities}/{priyanka}/rename", new RenameEntityRequest("Priyanka Reddy")))
            .AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.Conflict);
        Assert.Equal(created.Entity.Id, conflict.GetProperty("entityId").GetGuid());
    }

    [Fact]
    public async Task A_tenant_never_sees_nor_changes_another_tenants_entities()
    {
        var tenantA = await app.Api(0).SignupAsync();
        var tenantB = await app.Api(1).SignupAsync();
        using var asA = app.Api(0).CreateClient(tenantA.Tokens.AccessToken);
        await using var graphA = new GraphSeeder(app.DatabaseConnectionString, tenantA.Tenant.Id);
        var secret = await graphA.EntityAsync(EntityTypes.Project, "Vault Nightingale");
        var docs = await UploadExtractedAsync(asA, ("Private notes", "private notes about the vault."));
        await graphA.MentionAsync(secret, docs[0], 0, 0, "Vault Nightingale", "Vault Nightingale ships soon.");
        await using var graphB = new GraphSeeder(app.DatabaseConnectionString, tenantB.Tenant.Id);
        var own = await graphB.EntityAsync(EntityTypes.Project, "Open Meadow");

        foreach (var replica in app.ApiReplicas)
        {
            using var asB = replica.CreateClient(tenantB.Tokens.AccessToken);
            await (await asB.GetAsync($"{Entities}/{secret}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
            Assert.Equal(0, (await ListAsync(asB, "?search=vault%20nightingale")).Total);
            Assert.Equal([own], (await ListAsync(asB, "")).Items.Select(e => e.Id));
            Assert.Empty((await asB.GetFromJsonAsync<ExpertsResponse>("api/knowledge/experts?topic=vault%20nightingale", ApiClient.Json))!.MatchedEntities);
        }

        using var b = app.Api(2).CreateClient(tenantB.Tokens.AccessToken);
        await (await b.PostAsJsonAsync($"{Entities}/{secret}/rename", new RenameEntityRequest("Mine now"))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await b.PostAsJsonAsync($"{Entities}/{secret}/split", new SplitEntityRequest(["Vault Nightingale"], "Mine"))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await b.PostAsJsonAsync($"{Entities}/{own}/merge", new MergeEntitiesRequest([secret]))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await b.PostAsJsonAsync($"{Entities}/{secret}/merge", new MergeEntitiesRequest([own]))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);

        var untouched = await GetAsync(asA, secret);
        Assert.Equal(("Vault Nightingale", 1L), (untouched.Entity.Name, untouched.Mentions.Total));
        Assert.Equal("Open Meadow", (await GetAsync(b, own)).Entity.Name);
    }

    [Fact]
    public async Task Bad_knowledge_requests_get_problem_details_with_stable_codes()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        await using var graph = new GraphSeeder(app.DatabaseConnectionString, tenant.Tenant.Id);
        var entity = await graph.EntityAsync(EntityTypes.Organization, "Heron Freight", null, "Heron");
        var single = await graph.EntityAsync(EntityTypes.Organization, "Egret Labs");

        var unknownType = await (await client.GetAsync($"{Entities}?type=robot")).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        Assert.True(unknownType.GetProperty("errors").TryGetProperty("type", out _));
        await (await client.GetAsync($"{Entities}/{Guid.NewGuid()}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.GetAsync("api/knowledge/experts")).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.GetAsync("api/knowledge/experts?topic=freight&limit=0")).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);

        var emptyName = await (await client.PostAsJsonAsync($"{Entities}/{entity}/rename", new RenameEntityRequest(" "))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        Assert.True(emptyName.GetProperty("errors").TryGetProperty("name", out _));
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/rename", new RenameEntityRequest("The"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/rename", new RenameEntityRequest(new string('x', 301)))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{Guid.NewGuid()}/rename", new RenameEntityRequest("Someone"))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/rename", new RenameEntityRequest("Egret Labs"))).AssertProblemAsync(HttpStatusCode.Conflict, ProblemCodes.Conflict);

        var intoItself = await (await client.PostAsJsonAsync($"{Entities}/{entity}/merge", new MergeEntitiesRequest([entity]))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        Assert.True(intoItself.GetProperty("errors").TryGetProperty("sourceIds", out _));
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/merge", new MergeEntitiesRequest([]))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/merge", new MergeEntitiesRequest([Guid.NewGuid()]))).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);

        await (await client.PostAsJsonAsync($"{Entities}/{entity}/split", new SplitEntityRequest(["Nobody"], "New"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/split", new SplitEntityRequest(["Heron", "Heron Freight"], "New"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/split", new SplitEntityRequest([], "New"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{entity}/split", new SplitEntityRequest(["Heron"], ""))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"{Entities}/{single}/split", new SplitEntityRequest(["Egret Labs"], "Egret"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);

        // Nothing above changed the graph.
        var detail = await GetAsync(client, entity);
        Assert.Equal(("Heron Freight", 2), (detail.Entity.Name, detail.Aliases.Count));
    }

    [Fact]
    public async Task Extraction_normalises_two_spellings_of_a_person_into_one_entity()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);

        // One document at a time: the second spelling must find the first one's alias, not race it.
        await UploadAsync(client, "Priya Raman <priya.raman@example.com>", ("Billing migration", "Priya Raman owns the billing migration. The cutover is planned for March."));
        var first = await WaitForAsync(client, "?pageSize=200", page => page.Items.FirstOrDefault(e => e.Type == EntityTypes.Person && e.Name.Contains("Priya", StringComparison.OrdinalIgnoreCase)));

        await UploadAsync(client, "priya.raman@example.com", ("Invoices decision", "Priya Ramann decided to move the invoices service to Postgres."));
        var detail = await WaitForAsync(client, "?pageSize=200", async page =>
        {
            foreach (var candidate in page.Items.Where(e => e.Type == EntityTypes.Person))
            {
                var current = await GetAsync(client, candidate.Id);
                // The address-only sender of the second mail may arrive as its own person first and be consolidated
                // into the full name by the next analysis: wait for the settled state, not the first alias.
                if (current.Aliases.Any(a => a.Key == "priya ramann") && current.Entity.DocumentCount >= 2)
                {
                    return current;
                }
            }

            return null;
        });

        Assert.Equal(first.Id, detail.Entity.Id);
        Assert.Contains(detail.Aliases, a => a.Key == "priya raman");
        Assert.Contains(detail.Aliases, a => a.Key == "priya ramann");
        Assert.True(detail.Entity.DocumentCount >= 2, "both documents' mentions are on the one entity");
        var people = await ListAsync(client, "?search=priya&type=person");
        Assert.Equal(first.Id, Assert.Single(people.Items).Id);
    }

    private static async Task<PagedResult<EntitySummary>> ListAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync(Entities + query);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<PagedResult<EntitySummary>>(ApiClient.Json))!;
    }

    private static async Task<EntityDetail> GetAsync(HttpClient client, Guid id, string query = "")
    {
        var response = await client.GetAsync($"{Entities}/{id}{query}");
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<EntityDetail>(ApiClient.Json))!;
    }

    private static Task<Guid[]> UploadAsync(HttpClient client, params (string Title, string Text)[] documents) =>
        UploadAsync(client, null, documents);

    private static async Task<Guid[]> UploadAsync(HttpClient client, string? author, params (string Title, string Text)[] documents)
    {
        var ids = new List<Guid>();
        foreach (var (title, text) in documents)
        {
            var response = await client.PostAsJsonAsync("api/documents", new TextDocumentRequest(title, text, author, null));
            await response.EnsureStatusAsync(HttpStatusCode.Accepted);
            ids.AddRange((await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);
        }

        return [.. ids];
    }

    /// <summary>Uploads documents and waits until they are ingested (chunks for full text) and extracted.</summary>
    private async Task<Guid[]> UploadExtractedAsync(HttpClient client, params (string Title, string Text)[] documents)
    {
        var ids = await UploadAsync(client, documents);
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        var deadline = DateTimeOffset.UtcNow.AddMinutes(4);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM document_knowledge WHERE document_id = ANY(@ids) AND status IN ('extracted', 'failed')", connection);
            command.Parameters.AddWithValue("ids", ids);
            if ((long)(await command.ExecuteScalarAsync())! == ids.Length)
            {
                return ids;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, "timed out waiting for extraction");
            await Task.Delay(250);
        }
    }

    private static Task<T> WaitForAsync<T>(HttpClient client, string query, Func<PagedResult<EntitySummary>, T?> found) where T : class =>
        WaitForAsync(client, query, page => Task.FromResult(found(page)));

    private static async Task<T> WaitForAsync<T>(HttpClient client, string query, Func<PagedResult<EntitySummary>, Task<T?>> found) where T : class
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(4);
        while (true)
        {
            var page = await ListAsync(client, query);
            if (await found(page) is { } result)
            {
                return result;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"timed out waiting; last seen: {System.Text.Json.JsonSerializer.Serialize(page)}");
            await Task.Delay(250);
        }
    }

    private async Task<long> AliasGenerationAsync(Guid tenantId) =>
        (long?)await app.Redis.GetDatabase().StringGetAsync($"sb:knowledge:alias-generation:{tenantId}") ?? 0;

    /// <summary>Writes graph rows for one tenant straight into Postgres, as extraction would.</summary>
    private sealed class GraphSeeder(string connectionString, Guid tenantId) : IAsyncDisposable
    {
        private NpgsqlConnection? _connection;

        public async Task<Guid> EntityAsync(string type, string name, string? email = null, params string[] aliases)
        {
            var id = Guid.CreateVersion7();
            await ExecuteAsync(
                "INSERT INTO knowledge_entities (id, tenant_id, type, name, email, created_at, updated_at) VALUES (@id, @t, @type, @name, @email, now(), now())",
                ("id", id), ("type", type), ("name", name), ("email", (object?)email ?? DBNull.Value));
            foreach (var alias in aliases.Prepend(name))
            {
                await ExecuteAsync(
                    "INSERT INTO knowledge_aliases (id, tenant_id, entity_id, alias, key, origin, created_at) VALUES (@id, @t, @entity, @alias, @key, 'extracted', clock_timestamp())",
                    ("id", Guid.CreateVersion7()), ("entity", id), ("alias", alias), ("key", EntityNameKey.Normalize(alias)));
            }

            return id;
        }

        /// <summary>Several mentions of an entity in one document, one per sentence.</summary>
        public async Task MentionsAsync(Guid entity, Guid document, int count, string text)
        {
            for (var i = 0; i < count; i++)
            {
                await MentionAsync(entity, document, i, i * 100, text, $"{text} appears in sentence {i}.");
            }
        }

        public Task MentionAsync(Guid entity, Guid document, int sentenceIndex, int start, string text, string sentence, bool fromHeader = false) =>
            ExecuteAsync("""
                INSERT INTO knowledge_mentions (tenant_id, entity_id, document_id, sentence_index, start, length, text, sentence, from_header)
                VALUES (@t, @entity, @document, @sentence_index, @start, @length, @text, @sentence, @header)
                """,
                ("entity", entity), ("document", document), ("sentence_index", sentenceIndex), ("start", start), ("length", text.Length),
                ("text", text), ("sentence", sentence), ("header", fromHeader));

        public Task RelationAsync(Guid source, Guid target, string type, double confidence, Guid document, int sentenceIndex, string sentence) =>
            ExecuteAsync("""
                INSERT INTO knowledge_relations (tenant_id, source_entity_id, target_entity_id, type, confidence, document_id, sentence_index, sentence)
                VALUES (@t, @source, @target, @type, @confidence, @document, @sentence_index, @sentence)
                """,
                ("source", source), ("target", target), ("type", type), ("confidence", confidence), ("document", document),
                ("sentence_index", sentenceIndex), ("sentence", sentence));

        private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
        {
            if (_connection is null)
            {
                _connection = new NpgsqlConnection(connectionString);
                await _connection.OpenAsync();
            }

            await using var command = new NpgsqlCommand(sql, _connection);
            command.Parameters.AddWithValue("t", tenantId);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            await command.ExecuteNonQueryAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }
        }
    }
}
