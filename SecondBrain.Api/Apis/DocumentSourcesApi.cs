using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using SecondBrain.Api.Infrastructure;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Opening a cited source: its parsed text with chunk offsets, and the original file, served so it cannot run in our origin.</summary>
public static class DocumentSourcesApi
{
    public static RouteGroupBuilder MapDocumentSourcesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/documents").WithTags("Documents");
        api.MapGet("/{id:guid}/content", ContentAsync)
            .WithName("GetDocumentContent")
            .WithSummary("The document's parsed text and each chunk's start and end in it, to open a citation and highlight the passage.");
        api.MapGet("/{id:guid}/original", OriginalAsync)
            .WithName("GetDocumentOriginal")
            .WithSummary("The stored file as an attachment (nosniff, sandboxed): an uploaded HTML page cannot run script in this origin.");
        return api;
    }

    public static async Task<Results<Ok<DocumentContent>, ProblemHttpResult>> ContentAsync(Guid id, DocumentSources sources, HttpContext http, CancellationToken ct) =>
        await sources.ContentAsync(id, ct) is { } content ? TypedResults.Ok(content) : ApiProblem.NotFound("The document").ToHttpResult(http);

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> OriginalAsync(Guid id, DocumentSources sources, HttpContext http, CancellationToken ct)
    {
        if (await sources.OriginalAsync(id, ct) is not { } original)
        {
            return ApiProblem.NotFound("The document's original").ToHttpResult(http);
        }

        // Whatever the file is, the browser downloads it rather than rendering it in our origin, never guesses a more
        // dangerous type, and, if it renders it anyway, runs nothing and loads nothing.
        var headers = http.Response.Headers;
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; sandbox";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        return TypedResults.File(original.Content, original.ContentType, original.FileName);
    }
}
