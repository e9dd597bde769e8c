using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Common;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Sync;

namespace Microsoft.AspNetCore.Builder;

public static class DocumentsApi
{
    public static RouteGroupBuilder MapDocumentsApi(this IEndpointRouteBuilder app)
    {
        var maxUploadBytes = app.ServiceProvider.GetRequiredService<IOptions<SyncOptions>>().Value.MaxUploadBytes;
        var api = app.MapGroup("/api/documents").WithTags("Documents");

        api.MapPost("/", AddAsync)
            .RequireRateLimiting(RateLimitPolicies.Tenant)
            .DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(maxUploadBytes))
            .WithName("AddDocuments")
            .WithSummary("Upload files (multipart, any number) or JSON {title, text}; 202 with the document ids, ingested in the background.");
        api.MapGet("/", ListAsync)
            .WithName("ListDocuments")
            .WithSummary("Documents, newest first; filters: source, status, author, from, to, text.");
        api.MapGet("/{id:guid}", GetAsync)
            .WithName("GetDocument")
            .WithSummary("A document's metadata, status, failure reason and chunk count.");
        api.MapDelete("/{id:guid}", DeleteAsync)
            .WithName("DeleteDocument")
            .WithSummary("Delete: removes chunks and vectors and leaves a tombstone, so a re-sync never brings it back.");
        return api;
    }

    /// <summary>
    /// Files stream from the request body into storage one after another (<see cref="MultipartUploads"/>), so the
    /// Api holds a chunk of a file, never a file, whatever their size or number.
    /// </summary>
    public static async Task<Results<Accepted<DocumentsAccepted>, ProblemHttpResult>> AddAsync(
        HttpRequest request, DocumentService documents, IOptions<SyncOptions> sync, CancellationToken ct)
    {
        Outcome<DocumentsAccepted> outcome;
        if (request.HasFormContentType)
        {
            outcome = MultipartUploads.Boundary(request) is { } boundary
                ? await MultipartUploads.ReadAsync(request, () => documents.AddFilesAsync(MultipartUploads.FilesAsync(request, boundary, sync.Value.MaxUploadBytes, ct), ct))
                : new ApiProblem(400, ProblemCodes.UploadRequired, "Send the files as multipart/form-data.");
        }
        else if (request.HasJsonContentType())
        {
            var body = await request.ReadFromJsonAsync<TextDocumentRequest>(ct);
            outcome = await documents.AddTextAsync(body ?? new TextDocumentRequest(null, null, null, null), ct);
        }
        else
        {
            outcome = new ApiProblem(415, ProblemCodes.UnsupportedMediaType, "Send multipart/form-data files or application/json {\"title\", \"text\"}.");
        }

        return outcome.Succeeded ? TypedResults.Accepted("/api/documents", outcome.Value) : outcome.Problem!.ToHttpResult(request.HttpContext);
    }

    public static async Task<Ok<PagedResult<DocumentSummary>>> ListAsync(
        DocumentService documents, CancellationToken ct, int page = 1, int pageSize = 50, string? source = null, string? status = null,
        string? author = null, DateTimeOffset? from = null, DateTimeOffset? to = null, string? text = null) =>
        TypedResults.Ok(await documents.ListAsync(new DocumentQuery(source, status, author, from, to, text), new PageRequest(page, pageSize), ct));

    public static async Task<Results<Ok<DocumentDetail>, ProblemHttpResult>> GetAsync(Guid id, DocumentService documents, HttpContext http, CancellationToken ct) =>
        await documents.GetAsync(id, ct) is { } document ? TypedResults.Ok(document) : ApiProblem.NotFound("The document").ToHttpResult(http);

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, DocumentService documents, HttpContext http, CancellationToken ct) =>
        await documents.DeleteAsync(id, ct) ? TypedResults.NoContent() : ApiProblem.NotFound("The document").ToHttpResult(http);
}
