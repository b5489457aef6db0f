using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// One fused projection group with its adapters as a single autograd node:
/// y = x Wᵀ (+ bias) + scale · (dropout(x) [A₁;A₂;…]ᵀ) blockdiag(B₁,B₂,…)ᵀ.
/// Backward is written out so that it keeps only x, a one-byte dropout mask and the rank-sized mid product
/// (autograd's own graph would keep an f32 mask and the dropped copy of x as well), writes the adapter gradients
/// straight into the flat f32 gradient buffer (no per-view full-size gradients to sum), and widens a narrow stored
/// weight to the compute dtype per product, never keeping the wide copy.
/// </summary>
internal sealed class LoraProjection : autograd.SingleTensorFunction<LoraProjection>
{
    /// <param name="Weight">[Σ out, in] frozen, stored in <see cref="Compute"/> or a narrower dtype</param>
    /// <param name="Bias">[Σ out] in the compute dtype, or null</param>
    /// <param name="Lora">the flat adapters in the compute dtype (no graph)</param>
    /// <param name="Grad">the flat f32 gradient buffer the adapter gradients are added to</param>
    /// <param name="ForBackward">keep what backward needs (false under no_grad)</param>
    /// <param name="NormWeight">[in]: the input is the residual stream and the projection reads its RMSNorm (the norm's
    /// output is then recomputed in backward instead of kept)</param>
    internal sealed record Operands(Tensor Weight, Tensor? Bias, LoraGroup Group, int Rank, double Scale, Tensor Lora, Tensor Grad,
        double Dropout, Generator? Generator, ScalarType Compute, bool ForBackward, Tensor? NormWeight = null, double NormEps = 0);

    /// <summary>What backward reads: the input [T, in], the dropped-positions mask [T, in] (bool) or null, mid [T, targeted · r].</summary>
    private sealed record Saved(Tensor Input, Tensor? Mask, Tensor? Mid, bool InputNeedsGrad);

    public override string Name => "LoraProjection";

    /// <param name="x">[T, in] in the compute dtype (the residual stream when the operands carry a norm weight)</param>
    /// <param name="flat">the f32 adapter leaf: an input only so that the node is part of the graph even when x has none</param>
    /// <returns>[T, Σ out]</returns>
    public static Tensor Apply(Tensor x, Tensor flat, Operands operands) => apply(x, flat, operands);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var o = (Operands)vars[2];
        var g = o.Group;
        var x = Normalized(input, o);
        Tensor y;
        using (var w = Widened(o.Weight, o.Compute))
            y = o.Bias is null ? x.matmul(w.t()) : addmm(o.Bias, x, w.t(), 1, 1);
        Tensor? mask = null, mid = null;
        if (g.Targeted > 0)
        {
            using var scope = NewDisposeScope();
            var dropped = x;
            if (o.Generator is not null && o.Dropout > 0)
            {
                mask = empty(x.shape, dtype: ScalarType.Bool).bernoulli_(o.Dropout, o.Generator);         // [T, in], true = dropped
                dropped = Drop(x, mask, o.Dropout);
            }
            mid = dropped.matmul(A(o).t());                                                                 // [T, targeted · r]
            int col = 0, slot = 0;
            for (int m = 0; m < g.Slots.Length; m++)
            {
                int outFeatures = g.OutFeatures[m];
                if (g.Slots[m] is { } s)
                {
                    // y[:, block m] += scale · mid_m B_mᵀ
                    y.narrow(1, col, outFeatures).addmm_(mid.narrow(1, (long)slot * o.Rank, o.Rank), B(o, s).t(), beta: 1, alpha: (float)o.Scale);
                    slot++;
                }
                col += outFeatures;
            }
            mid.MoveToOuterDisposeScope();
            mask?.MoveToOuterDisposeScope();
        }
        if (o.ForBackward)
        {
            ctx.save_data("operands", o);
            ctx.save_data("saved", new Saved(BackwardHandoff.Keep(input), mask is null ? null : BackwardHandoff.Keep(mask),
                mid is null ? null : BackwardHandoff.Keep(mid), input.requires_grad));
        }
        if (!ReferenceEquals(x, input)) x.Dispose();
        mask?.Dispose();
        mid?.Dispose();
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        BackwardHandoff.ReleaseReturned();
        var o = (Operands)ctx.get_data("operands");
        var g = o.Group;
        var (input, mask, mid, inputNeedsGrad) = (Saved)ctx.get_data("saved");
        var x = Normalized(input, o);
        // [T, in]; nothing to compute for an input without a graph (the embedding), only the adapter gradients
        Tensor? gradX = null;
        if (inputNeedsGrad)
            using (var w = Widened(o.Weight, o.Compute))
                gradX = grad.matmul(w);
        if (g.Targeted > 0)
        {
            using var scope = NewDisposeScope();
            int r = o.Rank;
            var gradMid = empty(mid!.shape, dtype: mid.dtype);                                               // [T, targeted · r]
            int col = 0, slot = 0;
            using var scale = o.Scale.ToScalar();
            for (int m = 0; m < g.Slots.Length; m++)
            {
                int outFeatures = g.OutFeatures[m];
                if (g.Slots[m] is { } s)
                {
                    var gradOut = grad.narrow(1, col, outFeatures);                                        // [T, out_m]
                    var gradMidM = gradMid.narrow(1, (long)slot * r, r);
                    gradMidM.copy_(gradOut.matmul(B(o, s)).mul_(scale));                                      // [T, r]
                    AddTo(o.Grad.narrow(0, s.BOffset, (long)outFeatures * r).view(outFeatures, r),
                        gradOut.t().matmul(mid.narrow(1, (long)slot * r, r)).mul_(scale));                   // [out_m, r]
                    slot++;
                }
                col += outFeatures;
            }
            bool hasMask = mask is not null;
            var dropped = hasMask ? Drop(x, mask!, o.Dropout) : x;
            AddTo(o.Grad.narrow(0, g.AOffset, (long)g.Targeted * r * g.In).view(g.Targeted * r, g.In),
                gradMid.t().matmul(dropped));                                                               // [targeted · r, in]
            if (gradX is not null)
            {
                var gradDropped = gradMid.matmul(A(o));                                                    // [T, in]
                if (hasMask) { using var keep = (1 / (1 - o.Dropout)).ToScalar(); gradDropped.masked_fill_(mask!, Scalars.Zero).mul_(keep); }
                gradX.add_(gradDropped, Scalars.One);
            }
        }
        if (!ReferenceEquals(x, input)) x.Dispose();
        if (gradX is not null && o.NormWeight is not null)
        {
            var gradH = gradX;
            gradX = NormBackward(input, gradH, o);
            gradH.Dispose();
        }
        BackwardHandoff.Drop(input, mask, mid);
        grad.Dispose();
        return [gradX is null ? null! : BackwardHandoff.Return(gradX), null!, null!];
    }

    private static Tensor Normalized(Tensor input, Operands o) =>
        o.NormWeight is null ? input : Modeling.RmsNorm.Normalize(input, o.NormWeight, o.NormEps);

    /// <summary>
    /// d input of h = x̂ · w with x̂ = x · rstd, rstd = (mean(x²) + eps)^−½, statistics in f32 or wider:
    /// rstd · (g_w − x̂ · mean(g_w · x̂)) with g_w = d h · w.
    /// </summary>
    private static Tensor NormBackward(Tensor input, Tensor gradH, Operands o)
    {
        using var scope = NewDisposeScope();
        var wide = input.dtype is ScalarType.Float32 or ScalarType.Float64 ? input : input.to(ScalarType.Float32);
        using var eps = o.NormEps.ToScalar();
        var rstd = wide.mul(wide).mean([-1L], keepdim: true).add_(eps, Scalars.One).rsqrt_();// [T, 1] (mul, not square(): see Scalars)
        var normalized = wide.mul(rstd);                                                      // x̂ [T, in]
        var gw = gradH.mul(o.NormWeight!).to(wide.dtype);                                     // [T, in]
        var inner = gw.mul(normalized).mean([-1L], keepdim: true);                            // [T, 1]
        return gw.sub_(normalized.mul_(inner)).mul_(rstd).to(input.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>dropout(x) with the mask given: zero where dropped, the rest scaled by 1 / (1 − p). (masked_fill: a
    /// product with the bool mask would take libtorch's type-promoting path, several times slower.)</summary>
    private static Tensor Drop(Tensor x, Tensor droppedMask, double p)
    {
        using var keep = (1 / (1 - p)).ToScalar();
        return x.masked_fill(droppedMask, Scalars.Zero).mul_(keep);
    }

    private static Tensor A(Operands o) =>
        o.Lora.narrow(0, o.Group.AOffset, (long)o.Group.Targeted * o.Rank * o.Group.In).view(o.Group.Targeted * o.Rank, o.Group.In);

    private static Tensor B(Operands o, LoraSlot s) => LoraParameters.BView(o.Lora, s, o.Rank);

    private static Tensor Widened(Tensor weight, ScalarType compute) => weight.dtype == compute ? weight.alias() : weight.to(compute);

    private static void AddTo(Tensor gradSlice, Tensor value)
    {
        using var _ = no_grad();
        gradSlice.add_(value, Scalars.One);
    }
}
