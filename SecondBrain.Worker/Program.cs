var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWorkerServices();

var app = builder.Build();

await app.MigrateDatabaseAsync();

app.MapDefaultEndpoints();

app.Run();
