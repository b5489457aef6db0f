using Tuneforge.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// Set (not learned) attention heads for the built-in model's first layer, so that a position's hidden state carries
/// what came just before it without any training: heads that look exactly 1, 2 or 3 tokens back, and heads that average
/// the last few, dozen, … hundreds of tokens with weights falling exponentially with distance. A random network has
/// neither: its attention is nearly uniform over the whole prefix, so at the start of an answer the (short) question is
/// drowned in the (long) system prompt and no adapter can make the answer depend on it.
/// <para>
/// Mechanism. Residual channel 0 of every token embedding is the constant <see cref="ConstantChannel"/> and the rest
/// of each row has a fixed norm, so after layer 0's RMSNorm channel 0 is exactly <see cref="NormalisedConstant"/> at
/// every position. Layer 0's keys and queries read only that channel: every key is (1, 0) in each rotary pair, a query
/// is (a·cos φ, a·sin φ), and RoPE turns the score into a function of the distance d alone,
/// score(d) = Σ_pairs a·cos(d·ω + φ) · NormalisedConstant² / √head_dim. φ = −k·ω on the eight fastest pairs peaks at
/// d = k; φ = π/2 on the pair of ω = θ^(−20/32) ≈ 0.0032 gives −a·sin(d·ω), falling linearly (an exponential window
/// after the softmax) for the 1024 positions of the model. Values and output projections stay random but are drawn at
/// half the scale of the other matrices (<see cref="ValueOutputGain"/>); everything after layer 0 stays random; no other
/// matrix reads channel 0 and none writes it, so the constant survives and costs nothing elsewhere.
/// </para>
/// </summary>
internal static class PositionalHeads
{
    public const float ConstantChannel = 0.0825f;

    /// <summary>Channel 0 after RMSNorm: 0.0825 against a 255-channel rest of norm 0.02·√255 gives 4.0.</summary>
    private const double RestNorm = 0.02 * 15.968719422671311; // 0.02·√255, the expected norm of a random row

    /// <summary>Layer 0's eight query heads: a peak distance (1, 2, 3) or a window length in tokens.</summary>
    private static readonly (int PeakAt, double Window)[] Heads = [(1, 0), (2, 0), (3, 0), (0, 4), (0, 12), (0, 30), (0, 80), (0, 250)];

    /// <summary>Score difference between the peak and its neighbours, per pair, before the softmax (≈ 0.69·6·8 ≈ 4 in total).</summary>
    private const double PeakAmplitude = 6;

    private const int WindowPair = 10, PeakPairs = 8;

    /// <summary>
    /// Scale of layer 0's value and output projections against the N(0, 0.02) draw (so std 0.01 each): what the heads
    /// add to the residual stream is a quarter as large. Measured with bench/learn on samples/airport (3 auto epochs;
    /// loss / token accuracy at the end). LoRA dropout 0.05: gain 4 → 2.43 / 0.35, 1 → 1.75 / 0.52, 0.5 → 1.60 / 0.55.
    /// Dropout 0: 1 → 1.72 / 0.53, 0.5 → 1.56 / 0.56, 0.25 → 1.70 / 0.52; 0.5 with every later layer's o_proj and
    /// down_proj halved too → 1.67 / 0.54.
    /// </summary>
    public const float ValueOutputGain = 0.5f;

    public static void Write(Dictionary<string, Tensor> weights, ModelConfig config)
    {
        int hidden = config.HiddenSize, headDim = config.HeadDim, half = headDim / 2;
        if (config.NumAttentionHeads != Heads.Length) throw new InvalidOperationException("the positional heads are laid out for 8 query heads");

        // Embedding rows: channel 0 constant, the rest rescaled to one norm so RMSNorm leaves channel 0 the same everywhere.
        var embed = weights["model.embed_tokens.weight"];
        using (var rest = embed[TensorIndex.Colon, TensorIndex.Slice(1)])
        {
            using var norms = rest.norm(1, keepdim: true);
            rest.mul_(RestNorm).div_(norms);
        }
        embed[TensorIndex.Colon, 0].fill_(ConstantChannel);
        double constant = ConstantChannel * Math.Sqrt(hidden) / Math.Sqrt(ConstantChannel * ConstantChannel + RestNorm * RestNorm);

        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            foreach (var reader in new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj" })
                weights[prefix + reader + ".weight"][TensorIndex.Colon, 0].zero_();
            foreach (var writer in new[] { "self_attn.o_proj", "mlp.down_proj" })
                weights[prefix + writer + ".weight"][0].zero_();
        }

        weights["model.layers.0.self_attn.v_proj.weight"].mul_(ValueOutputGain);
        weights["model.layers.0.self_attn.o_proj.weight"].mul_(ValueOutputGain);

        var inverse = RotaryEmbedding.InverseFrequencies(config);
        double scoreScale = constant * constant / Math.Sqrt(headDim); // a query weight of a and key weight 1 give a·scoreScale
        var q = weights["model.layers.0.self_attn.q_proj.weight"];
        var k = weights["model.layers.0.self_attn.k_proj.weight"];
        q.zero_();
        k.zero_();
        for (int kv = 0; kv < config.NumKeyValueHeads; kv++)
            for (int p = 0; p < half; p++) k[kv * headDim + p, 0].fill_(1f);
        for (int h = 0; h < Heads.Length; h++)
        {
            var (peakAt, window) = Heads[h];
            if (peakAt > 0)
                for (int p = 0; p < PeakPairs; p++) Pair(q, h * headDim, p, half, PeakAmplitude / scoreScale, -peakAt * inverse[p]);
            else
                Pair(q, h * headDim, WindowPair, half, 1 / (inverse[WindowPair] * window) / scoreScale, Math.PI / 2);
        }
    }

    /// <summary>Query rows of one rotary pair (p, p + half): amplitude a at phase φ against keys (1, 0).</summary>
    private static void Pair(Tensor q, int row, int p, int half, double a, double phase)
    {
        q[row + p, 0].fill_(a * Math.Cos(phase));
        q[row + p + half, 0].fill_(a * Math.Sin(phase));
    }
}
