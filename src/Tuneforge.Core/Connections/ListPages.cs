using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Tuneforge.Core.Connections;

/// <summary>
/// Walks an OpenAI list route page by page: <c>after</c> = the last item's id, until <c>has_more</c> is not true, a
/// page is empty, or a page ends on the id it was asked after (a server that ignores <c>after</c> would loop forever).
/// Lazy: a caller that stops early asks for no further page. The CLI's client and <see cref="RemoteClient"/> both
/// list through it, each with its own way of fetching one page.
/// </summary>
public static class ListPages
{
    /// <param name="path">The route with its own query (limit, order); <c>after</c> is appended to it.</param>
    /// <param name="fetchPage">GETs one page and returns its JSON body; a body without a <c>data</c> array reads as an empty page.</param>
    public static async IAsyncEnumerable<JsonElement> WalkAsync(string path, Func<string, CancellationToken, Task<JsonElement>> fetchPage,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var separator = path.Contains('?') ? '&' : '?';
        string? after = null;
        while (true)
        {
            var page = await fetchPage(after is null ? path : $"{path}{separator}after={Uri.EscapeDataString(after)}", ct);
            var items = page.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray().ToList() : [];
            foreach (var item in items) yield return item;
            var more = page.TryGetProperty("has_more", out var hasMore) && hasMore.ValueKind == JsonValueKind.True;
            var last = items.Count > 0 && items[^1].TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            if (!more || last is null || last == after) yield break;
            after = last;
        }
    }
}
