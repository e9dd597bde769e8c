using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Common;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Gaps;
using SecondBrain.Core.Knowledge.Graph;
using SecondBrain.Tests.Infrastructure;
using SecondBrain.TestSupport.Stack;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Integration;

/// <summary>A stack started the way ./run.sh starts it, with the demo tenant seeded by the Worker's demo seeder.</summary>
public sealed class DemoStackFixture : IAsyncLifetime
{
    public const string Password = "demo-password-for-tests";

    public SecondBrainStack Stack { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Stack = await SecondBrainStack.StartAsync(new StackOptions
        {
            ApiReplicas = 1,
            WorkerReplicas = 1,
            Settings = new Dictionary<string, string> { ["Demo"] = "true", ["Parameters:demo-password"] = Password },
            StartTimeout = TimeSpan.FromMinutes(4)
        });

    public async Task DisposeAsync()
    {
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DemoStackCollection : ICollectionFixture<DemoStackFixture>
{
    public const string Name = "SecondBrain app with the demo tenant";
}

/// <summary>
/// The demo corpus shows the knowledge engine: once the seeded documents are ingested, extracted and analysed, the
/// demo tenant has at least one open gap of every type, each with evidence, and experts on its topics are people.
/// </summary>
[Collection(DemoStackCollection.Name)]
public sealed class KnowledgeDemoTests(DemoStackFixture demo, ITestOutputHelper output)
{
    [Fact]
    public async Task The_seeded_demo_tenant_has_a_gap_of_every_type_and_people_as_experts()
    {
        var replica = demo.Stack.Api(0);
        var login = await replica.LoginAsync("demo@secondbrain.local", DemoStackFixture.Password);
        await login.EnsureStatusAsync(HttpStatusCode.OK);
        var token = (await login.Content.ReadFromJsonAsync<TokenResponse>(ApiClient.Json))!.AccessToken;
        using var client = replica.CreateClient(token);

        // Seeding, ingestion, extraction and the analysis that follows them take a little while on 2 cores.
        var deadline = DateTime.UtcNow.AddMinutes(6);
        var startedOwn = false;
        List<GapResponse> gaps;
        while (true)
        {
            var stats = (await client.GetFromJsonAsync<KnowledgeStatsResponse>("api/knowledge/stats", ApiClient.Json))!;
            gaps = (await client.GetFromJsonAsync<PagedResult<GapResponse>>("api/knowledge/gaps?pageSize=200", ApiClient.Json))!.Items.ToList();
            if (GapTypes.All.All(type => gaps.Any(g => g.Type == type)))
            {
                break;
            }

            if (!startedOwn && stats.DocumentsExtracted >= 10 && stats.DocumentsQueued == 0 && stats.LastRun is { Status: "succeeded" })
            {
                // Ingestion has settled: one more run sees every document, whatever the settle trigger caught.
                (await client.PostAsync("api/knowledge/analyze", null)).EnsureSuccessStatusCode();
                startedOwn = true;
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"missing gap types: {string.Join(", ", GapTypes.All.Where(t => !gaps.Any(g => g.Type == t)))}; {stats.DocumentsExtracted} extracted, {stats.DocumentsQueued} queued");
            await Task.Delay(2000);
        }

        foreach (var gap in gaps)
        {
            output.WriteLine($"[{gap.Type}] {gap.Title} | {string.Join(" | ", gap.Evidence.Select(e => e.Quote))}");
        }

        Assert.All(gaps, g => Assert.NotEmpty(g.Evidence));
        Assert.All(gaps, g => Assert.NotEmpty(g.Questions));

        // The company is not a person, and the people who decided on and run the database are the experts on it.
        var people = (await client.GetFromJsonAsync<PagedResult<EntitySummary>>("api/knowledge/entities?type=person&pageSize=200", ApiClient.Json))!.Items;
        Assert.DoesNotContain(people, p => p.Name.Contains("Northwind", StringComparison.OrdinalIgnoreCase));
        var experts = (await client.GetFromJsonAsync<ExpertsResponse>("api/knowledge/experts?topic=database", ApiClient.Json))!;
        output.WriteLine("experts on database: " + string.Join(", ", experts.Experts.Select(e => $"{e.Person.Name} {e.Score}")));
        Assert.NotEmpty(experts.Experts);
        Assert.All(experts.Experts, e => Assert.Equal(EntityTypes.Person, e.Person.Type));
        Assert.Contains(experts.Experts[0].Person.Name, new[] { "Marcus Webb", "Priya Nair", "Lena Ortiz" });
    }
}
