using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Files of a multipart/form-data request body, read section by section with <see cref="MultipartReader"/> instead
/// of ASP.NET's form reader, which buffers every file (in memory, then on disk) before the endpoint runs. Each file's
/// stream is the request body itself and is valid until the next file is asked for; nothing is buffered beyond the
/// reader's own small window.
/// </summary>
internal static class MultipartUploads
{
    /// <summary>The multipart boundary of the request, or null when it is not multipart/form-data.</summary>
    public static string? Boundary(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
        && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is { Length: > 0 } boundary
            ? boundary
            : null;

    /// <summary>The file sections, in order (form fields that are not files are skipped); <c>Length</c> is -1, unknown until read.</summary>
    public static async IAsyncEnumerable<UploadedFile> FilesAsync(HttpRequest request, string boundary, long maxBytes,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = maxBytes };
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
            {
                continue;
            }

            var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "upload";
            yield return new UploadedFile(fileName, section.ContentType ?? "application/octet-stream", -1, () => section.Body);
        }
    }

    /// <summary>
    /// The first non-empty file of the request, or null when there is none: its first byte is read to tell, and
    /// handed on with the rest of the stream. (Only the first file can be read without buffering; an import takes one.)
    /// </summary>
    public static async Task<UploadedFile?> FirstFileAsync(HttpRequest request, string boundary, long maxBytes, CancellationToken ct)
    {
        await foreach (var file in FilesAsync(request, boundary, maxBytes, ct))
        {
            var body = file.Open();
            var head = new byte[1];
            if (await body.ReadAsync(head, ct) > 0)
            {
                return file with { Open = () => new PrefixedStream(head, body, leaveOpen: true) };
            }
        }

        return null;
    }

    /// <summary>
    /// Runs a read of the multipart body, answering a malformed body with 400 and one beyond the size limit with 413
    /// (the reader's own limit; Kestrel's request limit answers 413 before it).
    /// </summary>
    public static async Task<Outcome<T>> ReadAsync<T>(HttpRequest request, Func<Task<Outcome<T>>> read)
    {
        try
        {
            return await read();
        }
        catch (InvalidDataException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return new ApiProblem(413, ProblemCodes.RequestTooLarge, $"The upload is larger than this endpoint accepts: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            return new ApiProblem(400, ProblemCodes.BadRequest, $"The multipart body is malformed: {ex.Message}");
        }
        catch (BlobTooLargeException ex)
        {
            return new ApiProblem(413, ProblemCodes.RequestTooLarge, ex.Message);
        }
    }
}
