var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiServices();

var app = builder.Build();

await app.MigrateDatabaseAsync();

app.UseApiPipeline();
app.MapAuthApi();
app.MapUsersApi();
app.MapAdminApi();
app.MapIntegrationsApi();
app.MapSyncApi();
app.MapDocumentsApi();
app.MapDocumentSourcesApi();
app.MapSearchApi();
app.MapSettingsApi();
app.MapKnowledgeEntitiesApi();
app.MapKnowledgeGapsApi();
app.MapConversationsApi();
app.MapFeedbackApi();
app.MapDefaultEndpoints();

app.Run();
