using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Tuneforge.Server.Dashboard;

/// <summary>
/// The web dashboard: static HTML, ES modules and CSS embedded in this assembly, served without a key (they hold no
/// data: every figure on a page comes from the public <c>/v1</c> API, called by the browser with the key the user signs
/// in with). Runs before authentication and answers only GET/HEAD of its own pages and <c>/assets/*</c>; everything
/// else, <c>/v1/*</c> above all, passes through unchanged.
/// </summary>
public sealed class DashboardSite(RequestDelegate next)
{
    /// <summary>Pages are one shell; <c>app.js</c> picks the view from the path, so deep links survive a reload.</summary>
    private static readonly string[] PageRoots = ["/jobs", "/playground", "/review", "/files", "/models", "/evals"];

    /// <summary>Chart.js lives once in the repository, in Core (the compare report inlines the same file).</summary>
    private const string ChartJsResource = "Tuneforge.Compare.chart.umd.min.js";

    /// <summary>
    /// The pages' Content-Security-Policy: every script, style, image, request and frame from this service only;
    /// nothing inline (the dashboard builds its DOM with text nodes and sets styles through classes).
    /// </summary>
    internal const string PagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// The compare report's frame (report-frame.html): the report's own inline scripts and styles run, but it loads
    /// nothing and talks to nothing, and only a dashboard page may frame it (the page also sandboxes it).
    /// </summary>
    internal const string ReportFramePolicy = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; " +
        "img-src data:; frame-ancestors 'self'";

    private static readonly FrozenDictionary<string, Asset> Assets = LoadAssets();

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return next(context);
        var path = request.Path.Value ?? "/";
        if (path.StartsWith("/assets/", StringComparison.Ordinal))
        {
            if (Assets.TryGetValue(path["/assets/".Length..], out var asset)) return WriteAsync(context, asset);
            context.Response.StatusCode = StatusCodes.Status404NotFound; // the error envelope middleware writes the body
            return Task.CompletedTask;
        }
        return IsPage(path) ? WriteAsync(context, Assets["index.html"]) : next(context);
    }

    /// <summary><c>/</c>, a page root, or a page root and one segment (<c>/jobs/ftjob-abc</c>).</summary>
    internal static bool IsPage(string path)
    {
        if (path == "/") return true;
        foreach (var root in PageRoots)
        {
            if (path == root) return true;
            if (path.StartsWith(root + "/", StringComparison.Ordinal) && path[(root.Length + 1)..] is { Length: > 0 } rest && !rest.Contains('/'))
                return true;
        }
        return false;
    }

    private static async Task WriteAsync(HttpContext context, Asset asset)
    {
        var response = context.Response;
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Bytes.Length;
        // Small files, served from memory: revalidating costs little and a new build is seen at once.
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        if (asset.Policy is not null) response.Headers.ContentSecurityPolicy = asset.Policy;
        if (HttpMethods.IsGet(context.Request.Method)) await response.Body.WriteAsync(asset.Bytes, context.RequestAborted);
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string? Policy = null);

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        const string prefix = "Tuneforge.Dashboard.";
        var own = typeof(DashboardSite).Assembly;
        var assets = own.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(name => name[prefix.Length..], name => new Asset(Read(own, name), ContentTypeOf(name), PolicyOf(name[prefix.Length..])));
        assets["chart.umd.min.js"] = new Asset(Read(typeof(Core.Compare.CompareHtml).Assembly, ChartJsResource), ContentTypeOf(ChartJsResource));
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string? PolicyOf(string asset) => asset switch
    {
        "index.html" => PagePolicy,
        "report-frame.html" => ReportFramePolicy,
        _ => null,
    };

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the dashboard resource {name} is missing from {assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
