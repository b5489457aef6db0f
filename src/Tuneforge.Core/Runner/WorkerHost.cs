using Tuneforge.Core.Connections;
using Tuneforge.Core.Evals;
using Tuneforge.Core.Inference;
using Tuneforge.Core.Jobs;
using Tuneforge.Core.Models;

namespace Tuneforge.Core.Runner;

/// <summary>
/// The `tuneforge worker` process. It stops when asked (end of standard input, or Ctrl+C) and also when the service
/// that started it is gone, so a killed service never leaves training running on its own. Stopping re-queues the
/// job in hand, which resumes from its last checkpoint.
/// </summary>
public static class WorkerHost
{
    private static readonly TimeSpan ParentPoll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan GracefulExit = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(string dataDir, int slots, int? parentProcessId, bool stopOnEndOfInput, string? modelsDir = null,
        string? databaseUrl = null)
    {
        try { _ = LeaseTiming.Duration; }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"worker: {e.Message}");
            return 2;
        }
        var context = new RunnerContext(dataDir, databaseUrl);
        using var stopping = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stopping.Cancel(); };

        if (parentProcessId is { } parent) WatchParent(parent, stopping);
        if (stopOnEndOfInput) WatchInput(stopping);

        // The built-in base model is written once, here rather than in the API process, which then never loads libtorch for it.
        try
        {
            BaseModelCatalog.EnsureAvailable(BaseModelCatalog.TinyModelId, new BaseModelCatalog(context.DataDir, null).TinyModelDir);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"worker: could not write {BaseModelCatalog.TinyModelId}: {e.Message} (jobs on it will fail)");
        }
        Console.Error.WriteLine($"worker: started (pid {Environment.ProcessId}, {slots} training slot(s), data in {context.DataDir})");
        // Eval runs sample with any model the service serves; generation shares the worker's cores (TUNEFORGE_THREADS) with
        // training. Rows are answered one at a time, so one KV-cache slot per base is enough.
        using var inference = new InferenceService(new ModelRegistry(new BaseModelCatalog(context.DataDir, modelsDir), context.Models),
            InferenceOptions.FromEnvironment() with { Threads = null, Slots = 1 });
        // A model named `connection/model` is asked on the organisation's stored remote endpoint; any other id is served here.
        using var http = RemoteClient.CreateHttpClient();
        var models = new RemoteAwareChatModels(new LocalChatModels(inference), context.Connections, http);
        var evals = new EvalRunner(context.Evals, context.EvalQueue, models).RunAsync(stopping.Token);
        await new JobRunner(context).RunAsync(slots, stopping.Token);
        await evals;
        Console.Error.WriteLine("worker: stopped");
        return 0;
    }

    private static void WatchParent(int parentProcessId, CancellationTokenSource stopping)
    {
        var thread = new Thread(() =>
        {
            while (!stopping.IsCancellationRequested && WorkerLoop.IsAlive(parentProcessId)) Thread.Sleep(ParentPoll);
            if (stopping.IsCancellationRequested) return;
            Console.Error.WriteLine($"worker: service process {parentProcessId} is gone; stopping");
            Stop(stopping);
        }) { IsBackground = true, Name = "parent-watch" };
        thread.Start();
    }

    private static void WatchInput(CancellationTokenSource stopping)
    {
        var thread = new Thread(() =>
        {
            try { while (Console.In.ReadLine() is not null) { } }
            catch (IOException) { }
            Stop(stopping);
        }) { IsBackground = true, Name = "stdin-watch" };
        thread.Start();
    }

    /// <summary>Asks the loops to stop; if training does not give up in time, the process exits anyway.</summary>
    private static void Stop(CancellationTokenSource stopping)
    {
        try { stopping.Cancel(); } catch (ObjectDisposedException) { return; }
        new Thread(() => { Thread.Sleep(GracefulExit); Environment.Exit(3); }) { IsBackground = true }.Start();
    }
}
