using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Tuneforge.Core;
using Tuneforge.Core.Files;

namespace Tuneforge.Server.Http;

/// <summary>What a multipart upload carried: the received file part and the small text fields.</summary>
public sealed record MultipartUpload(IncomingFile? File, string? Filename, IReadOnlyDictionary<string, string> Fields)
{
    private const int MaxFieldBytes = 64 * 1024;

    /// <summary>
    /// Reads <c>multipart/form-data</c> section by section, streaming the part named <paramref name="filePart"/> to the
    /// file store. Accepts both SDKs' flavours (quoted or unquoted names, <c>filename*=</c>, with or without a part type).
    /// </summary>
    public static async Task<MultipartUpload> ReadAsync(HttpRequest request, string filePart, FileStore store, long maxBytes)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw ApiProblem.BadRequest("Expected a multipart/form-data body with a 'file' part.", filePart);
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
            throw ApiProblem.BadRequest("The multipart/form-data body has no boundary.", filePart);

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        IncomingFile? file = null;
        string? filename = null;
        try
        {
            while (await reader.ReadNextSectionAsync(request.HttpContext.RequestAborted) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (name == filePart && (disposition.FileName.HasValue || disposition.FileNameStar.HasValue))
                {
                    if (file is not null) store.Discard(file);
                    filename = disposition.FileNameStar.HasValue
                        ? disposition.FileNameStar.Value
                        : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    file = await store.ReceiveAsync(section.Body, maxBytes, request.HttpContext.RequestAborted);
                }
                else
                {
                    fields[name] = await ReadFieldAsync(section.Body, name);
                }
            }
        }
        catch
        {
            if (file is not null) store.Discard(file);
            throw;
        }
        return new MultipartUpload(file, filename, fields);
    }

    private static async Task<string> ReadFieldAsync(Stream body, string name)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await body.ReadAsync(chunk)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes)
                throw ApiProblem.BadRequest($"Form field '{name}' is too long.", name);
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
