using Tuneforge.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>The low-rank pair of one projection: A [rank, in] and B [out, rank], both f32.</summary>
public sealed record LoraPair(Tensor A, Tensor B);

/// <summary>
/// A LoRA adapter: the one type that means an adapter, in memory as on disk in PEFT's layout
/// (<see cref="PeftAdapterFolder"/>). The trainer fills one from its flat parameter buffer
/// (<c>LoraParameters.ToAdapter</c>) and the decoder lays one out for serving (<see cref="Generation.FusedLoraFactors"/>);
/// both are views built from it. Kept outside the model so one loaded base can serve many adapters (PEFT's
/// definition: y = base(x) + scale · B(A(dropout(x))), scale = alpha / rank, or alpha / √rank with rsLoRA; B starts
/// at zero).
/// <see cref="Modules"/> maps a full module path such as <c>model.layers.0.self_attn.q_proj</c> to its A/B pair.
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    public LoraAdapter(int rank, double alpha, double dropout, IReadOnlyDictionary<string, LoraPair> modules, bool useRsLora = false)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be positive");
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "LoRA dropout must be in [0, 1)");
        Rank = rank; Alpha = alpha; Dropout = dropout; Modules = modules; UseRsLora = useRsLora;
    }

    public int Rank { get; }
    public double Alpha { get; }
    public double Dropout { get; }
    /// <summary>rsLoRA (PEFT's <c>use_rslora</c>): scale alpha / √rank instead of alpha / rank.</summary>
    public bool UseRsLora { get; }
    public double Scale => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;
    public IReadOnlyDictionary<string, LoraPair> Modules { get; }

    /// <summary>All A and B tensors, in a stable order (module path, then A before B): what the optimiser trains.</summary>
    public IEnumerable<Tensor> Tensors() =>
        Modules.OrderBy(m => m.Key, StringComparer.Ordinal).SelectMany(m => new[] { m.Value.A, m.Value.B });

    /// <summary>PEFT's state-dict key for a module's A or B: <c>base_model.model.{path}.lora_A.weight</c>.</summary>
    public static string PeftKey(string modulePath, char which) => $"base_model.model.{modulePath}.lora_{which}.weight";

    /// <summary>The adapter's tensors under PEFT's names (as in <c>adapter_model.safetensors</c>).</summary>
    public Dictionary<string, Tensor> ToPeftStateDict()
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (path, w) in Modules)
        {
            result[PeftKey(path, 'A')] = w.A;
            result[PeftKey(path, 'B')] = w.B;
        }
        return result;
    }

    /// <summary>Builds an adapter from PEFT-named tensors (the inverse of <see cref="ToPeftStateDict"/>), converting them to f32.</summary>
    public static LoraAdapter FromPeftStateDict(IReadOnlyDictionary<string, Tensor> tensors, int rank, double alpha, double dropout = 0,
        bool useRsLora = false)
    {
        const string prefix = "base_model.model.", suffixA = ".lora_A.weight", suffixB = ".lora_B.weight";
        var modules = new Dictionary<string, LoraPair>();
        foreach (var key in tensors.Keys.Where(k => k.EndsWith(suffixA, StringComparison.Ordinal)))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) throw new InvalidDataException($"adapter tensor {key} does not start with {prefix}");
            var path = key[prefix.Length..^suffixA.Length];
            var bKey = prefix + path + suffixB;
            if (!tensors.TryGetValue(bKey, out var b)) throw new InvalidDataException($"adapter has {key} but no {bKey}");
            var a = tensors[key];
            if (a.shape[0] != rank || b.shape[1] != rank)
                throw new InvalidDataException($"adapter module {path}: A {string.Join("x", a.shape)} / B {string.Join("x", b.shape)} do not have rank {rank}");
            modules[path] = new LoraPair(a.to(ScalarType.Float32).DetachFromDisposeScope(), b.to(ScalarType.Float32).DetachFromDisposeScope());
        }
        return new LoraAdapter(rank, alpha, dropout, modules, useRsLora);
    }

    public void Dispose()
    {
        foreach (var w in Modules.Values) { w.A.Dispose(); w.B.Dispose(); }
    }
}
