using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Files;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;
using Tuneforge.Core.Runner;
using Tuneforge.Core.Storage;
using Tuneforge.Server.Contracts;
using Tuneforge.Server.Dashboard;
using Tuneforge.Server.Endpoints;
using Tuneforge.Server.Http;

namespace Tuneforge.Server;

/// <summary>The HTTP service: Kestrel, authentication, the error envelope and one endpoints file per resource.</summary>
public static class TuneforgeServer
{
    public static WebApplication Build(ServerOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Limits.MaxRequestBodySize = options.MaxUploadBytes + FilesEndpoints.MultipartOverheadBytes);
        builder.Services.ConfigureHttpJsonOptions(json => WireJson.Configure(json.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        AddCoreServices(builder.Services, options);

        var app = builder.Build();
        app.UseMiddleware<RequestId>();
        app.UseMiddleware<ErrorEnvelope>();
        app.UseHealthRoute(); // for load balancers: no key, it checks the store authentication needs
        app.UseMiddleware<DashboardSite>(); // pages and assets need no key (they hold no data); /v1 is untouched
        app.UseMiddleware<ApiKeyAuthentication>();
        app.UseRouting();
        app.MapFilesEndpoints();
        app.MapFineTuningEndpoints();
        app.MapModelsEndpoints();
        app.MapModelAliasesEndpoints();
        app.MapUploadsEndpoints();
        app.MapChatCompletionsEndpoints();
        app.MapCompletionsEndpoints();
        app.MapConnectionsEndpoints();
        app.MapEmbeddingsEndpoints();
        app.MapEvalsEndpoints();
        app.MapReviewSetsEndpoints();
        app.MapStatusEndpoints();
        return app;
    }

    public static void AddCoreServices(IServiceCollection services, ServerOptions options)
    {
        var db = Database.Open(options.DataDir, options.DatabaseUrl);
        var store = new FileStore(options.DataDir);
        services.AddSingleton(options);
        services.AddSingleton(db);
        services.AddSingleton(store);
        services.AddSingleton<IAccountStore, SqliteAccountStore>();
        services.AddSingleton<IFileRepository, SqliteFileRepository>();
        services.AddSingleton<FileService>();
        services.AddSingleton<IUploadRepository, SqliteUploadRepository>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<IJobRepository, SqliteJobRepository>();
        services.AddSingleton<JobService>();
        services.AddSingleton<IModelRepository, SqliteModelRepository>();
        services.AddSingleton(new BaseModelCatalog(options.DataDir, options.ModelsDir));
        services.AddSingleton<IModelAliasRepository, SqliteModelAliasRepository>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<ModelAliases>();
        services.AddSingleton<IModelResolver>(sp => sp.GetRequiredService<ModelRegistry>());
        services.AddSingleton(sp => new Tuneforge.Core.Connections.ConnectionStore(db, Tuneforge.Core.Connections.SecretCipher.FromEnvironment(options.DataDir), sp.GetRequiredService<IModelResolver>()));
        services.AddSingleton<Tuneforge.Core.Evals.IEvalRepository, Tuneforge.Core.Evals.SqliteEvalRepository>();
        services.AddSingleton<Tuneforge.Core.Evals.EvalService>();
        services.AddSingleton<Tuneforge.Core.Reviews.IReviewRepository, Tuneforge.Core.Reviews.SqliteReviewRepository>();
        services.AddSingleton<Tuneforge.Core.Reviews.ReviewService>();
        services.AddSingleton(sp => new Tuneforge.Core.Inference.InferenceService(sp.GetRequiredService<IModelResolver>(), Tuneforge.Core.Inference.InferenceOptions.FromEnvironment()));
    }

    /// <summary>Runs until stopped: seeds API keys, starts the worker, serves requests.</summary>
    public static async Task<int> RunAsync(ServerOptions options, TextWriter console, CancellationToken cancellationToken = default)
    {
        var app = Build(options);
        var accounts = app.Services.GetRequiredService<IAccountStore>();
        app.Services.GetRequiredService<FileStore>().DiscardIncoming();
        KeySeeding.Apply(accounts, Environment.GetEnvironmentVariable("TUNEFORGE_API_KEYS"), options, console);

        await app.StartAsync(cancellationToken);
        console.WriteLine($"Tuneforge is listening on http://{options.Host}:{options.Port}/v1 (data in {Path.GetFullPath(options.DataDir)}" +
            (options.DatabaseUrl is null ? ")" : $", store {Tuneforge.Core.Storage.DatabaseUrl.Redact(options.DatabaseUrl)})"));
        console.WriteLine($"Dashboard: http://{options.Host}:{options.Port}/ (sign in with an API key)");
        using (var worker = options.RunWorker ? new WorkerSupervisor(options.DataDir, options.Workers, console, options.ModelsDir, options.DatabaseUrl) : null)
        {
            worker?.Start();
            await app.WaitForShutdownAsync(cancellationToken);
        }
        return 0;
    }
}
