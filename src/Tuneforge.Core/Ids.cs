using System.Security.Cryptography;

namespace Tuneforge.Core;

/// <summary>Object ids with OpenAI's prefixes and a random alphanumeric body.</summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static string File() => "file-" + Random(24);
    public static string Job() => "ftjob-" + Random(24);
    public static string Event() => "ftevent-" + Random(24);
    public static string Checkpoint() => "ftckpt_" + Random(24);
    public static string Upload() => "upload_" + Random(24);
    public static string UploadPart() => "part_" + Random(24);
    public static string Organization() => "org-" + Random(24);
    public static string Eval() => "eval_" + Random(32);
    public static string EvalRun() => "evalrun_" + Random(32);
    public static string EvalOutputItem() => "outputitem_" + Random(32);
    public static string ReviewSet() => "rvset_" + Random(24);
    public static string ReviewItem() => "rvitem_" + Random(24);
    public static string Review() => "review_" + Random(24);

    /// <summary>The last field of a fine-tuned model name: about 8 alphanumeric characters, like OpenAI's.</summary>
    public static string ModelTag() => Random(8);

    public static string Random(int length) => RandomNumberGenerator.GetString(Alphabet, length);
}
