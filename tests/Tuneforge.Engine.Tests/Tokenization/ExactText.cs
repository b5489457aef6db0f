namespace Tuneforge.Engine.Tests.Tokenization;

/// <summary>
/// Texts whose characters span several byte-level tokens or byte-fallback tokens (CJK, emoji with skin tones and
/// zero-width joiners), a combining accent that NFC would fold, and leading or repeated spaces that a SentencePiece
/// decoder could strip: what comes back from the service must be exactly these.
/// </summary>
internal static class ExactText
{
    public static readonly string[] Corpus =
    [
        "你好，世界！这是中文。",
        "👩🏽‍💻 writes code; the family 👨‍👩‍👧‍👦 waves 👋🏿",
        "cafe\u0301 and caf\u00e9, e\u0301",
        " one leading space",
        "   three leading spaces,   repeated   inside  ",
        "日本語 🙂 mixed\n\n  text",
    ];
}
