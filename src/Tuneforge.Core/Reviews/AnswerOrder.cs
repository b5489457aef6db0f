using System.Security.Cryptography;
using System.Text;

namespace Tuneforge.Core.Reviews;

/// <summary>
/// Which answer a reviewer sees as A: random per (reviewer, item) but stable, so a reload shows the same order and a
/// posted A/B maps back to the same answer. The first bit of SHA-256(reviewer + "\n" + item id) decides.
/// </summary>
public static class AnswerOrder
{
    /// <summary>True when the reviewer sees the item's second answer as A.</summary>
    public static bool Swapped(string reviewer, string itemId) =>
        (SHA256.HashData(Encoding.UTF8.GetBytes(reviewer + "\n" + itemId))[0] & 1) == 1;

    /// <summary>The position in <see cref="ReviewItem.Answers"/> shown under <paramref name="label"/> (A or B).</summary>
    public static int AnswerOf(string reviewer, string itemId, string label) =>
        (label == ReviewChoice.A) != Swapped(reviewer, itemId) ? 0 : 1;

    /// <summary>The label (A or B) under which the answer at <paramref name="position"/> is shown.</summary>
    public static string LabelOf(string reviewer, string itemId, int position) =>
        AnswerOf(reviewer, itemId, ReviewChoice.A) == position ? ReviewChoice.A : ReviewChoice.B;
}
