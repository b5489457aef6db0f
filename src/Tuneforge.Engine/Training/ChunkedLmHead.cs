using TorchSharp;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Training;

/// <summary>
/// LM head + cross-entropy on the trained rows only, in row chunks, with the gradient computed by hand: the head is
/// frozen, so d loss / d hidden = (softmax − onehot) · W is all backward needs. Peak memory is one chunk of
/// [chunk, vocab] logits instead of the whole row's, and no logits are kept for autograd.
/// </summary>
internal static class ChunkedLmHead
{
    public const int DefaultChunkRows = 128;

    public readonly record struct Result(double LossSum, long Correct, Tensor HiddenGrad);

    /// <param name="hidden">[M, H] final hidden states of the trained rows (any graph is ignored here).</param>
    /// <param name="head">[V, H] frozen LM head.</param>
    /// <param name="labels">[M] int64 target ids.</param>
    /// <param name="gradScale">d total loss / d token loss (1 / trained tokens of the optimizer step).</param>
    public static Result Compute(Tensor hidden, Tensor head, Tensor labels, double gradScale, bool withGrad, int chunkRows = DefaultChunkRows)
    {
        using var _ = no_grad();
        var h = hidden.detach();
        long m = h.shape[0];
        double lossSum = 0;
        long correct = 0;
        Tensor? grad = withGrad ? empty_like(h) : null;
        for (long start = 0; start < m; start += chunkRows)
        {
            using var scope = NewDisposeScope();
            long n = Math.Min(chunkRows, m - start);
            var hc = h.narrow(0, start, n);
            var target = labels.narrow(0, start, n).unsqueeze(1);              // [n, 1]
            var logits = hc.matmul(head.t());                                   // [n, V]
            if (logits.dtype != float64) logits = logits.to(float32);
            // Few passes over [n, V]: max and argmax in one, then exp(logits − max) in place, its row sums, and for the
            // gradient one scaling of those exponentials into gradScale · softmax.
            var (max, argmax) = logits.max(1, keepdim: true);                    // [n, 1] each
            var targetLogit = logits.gather(1, target);                          // [n, 1]
            correct += argmax.eq(target).sum().item<long>();
            var sumExp = logits.sub_(max).exp_().sum(1, keepdim: true); // [n, 1]
            var lse = sumExp.log().add_(max, Scalars.One);                       // [n, 1]
            lossSum += lse.sub(targetLogit).sum().to(float64).item<double>();
            if (grad is null) continue;
            using var scale = gradScale.ToScalar();
            using var negativeScale = (-gradScale).ToScalar();
            var dlogits = logits.mul_(sumExp.reciprocal().mul_(scale));          // gradScale · softmax
            dlogits.scatter_add_(1, target, full(n, 1, negativeScale, dtype: logits.dtype));  // − gradScale · onehot
            grad.narrow(0, start, n).copy_(dlogits.to(h.dtype).matmul(head));   // [n, H]
        }
        return new Result(lossSum, correct, grad ?? empty(0));
    }
}
