namespace Tuneforge.Engine.Tests.Tokenization;

/// <summary>Strings that break tokenizers: whitespace runs, digits, scripts, emoji sequences, astral letters, specials.</summary>
internal static class TrickyText
{
    public static readonly string[] Corpus =
    [
        "Hello world",
        "  two leading spaces",
        "trailing spaces   ",
        "   multiple   spaces   between   words   ",
        "tabs\tand\nnewlines\r\n\r\nand more\n\n\n",
        "\n",
        " ",
        "digits 1234567890 and 3.14159 and 1,000,000",
        "emoji 🙂👍🏽 family 👩‍👩‍👧‍👦 flag 🇫🇷 rainbow 🏳️‍🌈",
        "emoji at the end🙂",
        "中文文本，包含标点符号。还有English混合",
        "日本語のテキストとカタカナ",
        "한국어 텍스트입니다",
        "مرحبا بالعالم",
        "it's we'll THEY'RE you'd I'M",
        "math letters a𝐀b 𝒳𝒴𝒵 and digits 𝟙𝟚𝟛𝟜𝟝",
        "combining e\u0301 and precomposed \u00e9, Zalgo t\u0338\u0322e\u0337x\u0335t",
        "Ω≈ç√∫˜µ≤≥÷ ¡™£¢∞§¶•ªº",
        "code: def f(x):\n    return x**2  # square\n\treturn",
        "URL https://example.com/a?b=c&d=e#frag",
        "!!!???...---***",
        "control \u0001\u001f\u007f chars",
        "supercalifragilisticexpialidocious antidisestablishmentarianism",
        "special <s> inside </s> text",
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
        "[INST] <<SYS>>\nsys\n<</SYS>>\n\nquestion [/INST] answer </s>",
    ];
}
