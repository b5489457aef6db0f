using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Models;
using Tuneforge.Core.Storage;
using Tuneforge.Engine;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Modeling;
using Tuneforge.Server.Tests.Harness;
using static TorchSharp.torch;

namespace Tuneforge.Server.Tests;

/// <summary>A service with an extra, larger base model folder, so that loading it shows clearly in the process's memory.</summary>
public sealed class ServingFixture : ServiceFixture
{
    public string ModelsDir => Path.Combine(DataDir, "extra-models");
    protected override string[] ExtraArgs => ["--models-dir", ModelsDir];
}

public class ChatAdaptersApiTests(ServingFixture service) : IClassFixture<ServingFixture>
{
    private const string BaseId = "wide-base";

    // tuneforge-tiny's tokenizer and template on a wider model: 8 layers of hidden 512 (~27 M parameters, 108 MB in f32).
    private static readonly ModelConfig WideConfig = TinyModel.Config with
    {
        HiddenSize = 512, IntermediateSize = 1536, NumHiddenLayers = 8, NumAttentionHeads = 8, NumKeyValueHeads = 4, HeadDim = 64,
    };

    [Fact]
    public async Task Two_adapters_of_one_base_answer_differently_in_interleaved_requests_over_one_copy_of_the_base()
    {
        TorchRuntime.Initialize(1);
        var baseDir = WriteBase();
        var orgId = OrganizationId(ServiceFixture.KeyA);
        var ids = new[] { "ft:wide-base:org-a:alpha:1", "ft:wide-base:org-a:beta:2" };
        for (var a = 0; a < 2; a++)
        {
            var dir = WriteAdapter(Path.Combine(service.DataDir, "adapters", $"a{a}"), baseDir, seed: 100 + a);
            new SqliteModelRepository(service.Service.OpenDatabase()).Insert(
                new FineTunedModel(ids[a], orgId, $"ftjob-test{a}", BaseId, baseDir, dir, null, 1767225600 + a));
        }

        var before = ResidentBytes();
        // As many base requests at once as adapter requests below, so the KV-cache slots they use (committed as
        // they fill) count with the base.
        var baseAnswers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => AskAsync(BaseId)));
        var baseAnswer = baseAnswers[0];
        Assert.All(baseAnswers, a => Assert.Equal(baseAnswer, a));
        var withBase = ResidentBytes();

        // Interleaved: alpha, beta, alpha, beta ... all in flight at once, decoded in shared batches.
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => AskAsync(ids[i % 2])));
        var withAdapters = ResidentBytes();

        Assert.All(answers.Where((_, i) => i % 2 == 0), a => Assert.Equal(answers[0], a));
        Assert.All(answers.Where((_, i) => i % 2 == 1), a => Assert.Equal(answers[1], a));
        Assert.NotEqual(answers[0], answers[1]);
        Assert.NotEqual(baseAnswer, answers[0]);
        Assert.NotEqual(baseAnswer, answers[1]);

        // Loading the base shows (at least its f32 weights); two adapters on top add far less than another copy of
        // those weights would (a quarter: their own factors plus allocator slack).
        var weightBytes = WideConfig.ParameterShapes().Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)) * sizeof(float);
        var baseCost = withBase - before;
        var adapterCost = withAdapters - withBase;
        Assert.True(baseCost > weightBytes, $"loading the base added only {baseCost >> 20} MB; its weights are {weightBytes >> 20} MB");
        Assert.True(adapterCost < weightBytes / 4, $"two adapters added {adapterCost >> 20} MB; the base's weights are {weightBytes >> 20} MB");
    }

    private async Task<string> AskAsync(string model)
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync("chat/completions", new
        {
            model, messages = new[] { new { role = "user", content = "Which adapter are you?" } }, max_tokens = 12, temperature = 0,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + service.Service.Output);
        return JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    private string WriteBase()
    {
        var dir = Path.Combine(service.ModelsDir, BaseId);
        Directory.CreateDirectory(dir);
        var tiny = TinyModel.EnsureWritten(Path.Combine(service.DataDir, "tiny-for-tokenizer"));
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(tiny, file), Path.Combine(dir, file), overwrite: true);
        using var scope = NewDisposeScope();
        var c = WideConfig;
        var g = new TorchSharp.torch.Generator(7);
        Tensor R(params long[] shape) => randn(shape, generator: g).mul_(0.05f);
        var w = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in c.ParameterShapes())
            w[name] = name.EndsWith("norm.weight", StringComparison.Ordinal) ? ones(shape)
                : name == "model.embed_tokens.weight" ? R(shape).mul_(20)
                : R(shape);
        SafetensorsWriter.Write(Path.Combine(dir, CheckpointWeights.SingleFile), w);
        File.WriteAllText(Path.Combine(dir, "config.json"), c.ToJson());
        return dir;
    }

    /// <summary>A PEFT adapter folder as the trainer writes one: q/v LoRA with random (non-zero) B, plus the tokenizer files.</summary>
    private static string WriteAdapter(string dir, string baseDir, int seed)
    {
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        var c = WideConfig;
        var g = new TorchSharp.torch.Generator((ulong)seed);
        var t = new Dictionary<string, Tensor>();
        for (var i = 0; i < c.NumHiddenLayers; i++)
            foreach (var (module, outDim) in new[] { ("q_proj", c.NumAttentionHeads * c.HeadDim), ("v_proj", c.NumKeyValueHeads * c.HeadDim) })
            {
                var p = $"base_model.model.model.layers.{i}.self_attn.{module}";
                t[p + ".lora_A.weight"] = randn([8, c.HiddenSize], generator: g).mul_(0.3f);
                t[p + ".lora_B.weight"] = randn([outDim, 8], generator: g).mul_(0.3f);
            }
        SafetensorsWriter.Write(Path.Combine(dir, "adapter_model.safetensors"), t);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"),
            """{"peft_type":"LORA","r":8,"lora_alpha":16,"target_modules":["q_proj","v_proj"],"base_model_name_or_path":"wide-base"}""");
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(baseDir, file), Path.Combine(dir, file), overwrite: true);
        return dir;
    }

    private string OrganizationId(string key) =>
        new SqliteAccountStore(service.Service.OpenDatabase()).Authenticate(key)?.Id ?? throw new InvalidOperationException("org-a not seeded");

    /// <summary>The service process's resident memory (VmRSS).</summary>
    private long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{service.Service.ProcessId}/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
