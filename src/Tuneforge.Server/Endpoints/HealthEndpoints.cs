using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tuneforge.Core.Storage;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// <c>GET /health</c> for load balancers, without a key: 200 <c>{"status":"ok","database":"ok"}</c> when the store
/// answers a trivial query, else 503 <c>{"status":"unavailable","database":"REASON"}</c> so traffic moves to another
/// node. It runs before authentication, which itself needs the store.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Longer than a healthy store ever takes, shorter than a load balancer's usual probe timeout.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static void UseHealthRoute(this IApplicationBuilder app) =>
        app.MapWhen(c => c.Request.Path == "/health" && (HttpMethods.IsGet(c.Request.Method) || HttpMethods.IsHead(c.Request.Method)),
            branch => branch.Run(WriteHealthAsync));

    private static async Task WriteHealthAsync(HttpContext context)
    {
        var problem = await ProbeAsync(context.RequestServices.GetRequiredService<Database>());
        context.Response.StatusCode = problem is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(problem is null ? new Health("ok", "ok") : new Health("unavailable", problem));
    }

    /// <summary>Null when <c>SELECT 1</c> succeeds in time, else why not (driver messages never hold the password).</summary>
    private static async Task<string?> ProbeAsync(Database db)
    {
        var probe = Task.Run(() =>
        {
            // A pooled connection the server closed (restart, failover) fails once and leaves the pool; the second
            // try opens a fresh one, so a database that is back is reported healthy at once.
            try { SelectOne(db); }
            catch { SelectOne(db); }
        });
        try
        {
            await probe.WaitAsync(ProbeTimeout);
            return null;
        }
        catch (TimeoutException)
        {
            return $"no answer within {ProbeTimeout.TotalSeconds} s";
        }
        catch (Exception e) // whatever fails, this node cannot serve requests
        {
            return e.Message;
        }
    }

    private static void SelectOne(Database db)
    {
        using var connection = db.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        command.CommandTimeout = (int)ProbeTimeout.TotalSeconds;
        command.ExecuteScalar();
    }
}

public sealed record Health(string Status, string Database);
