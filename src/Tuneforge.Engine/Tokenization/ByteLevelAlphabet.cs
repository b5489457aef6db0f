namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-unicode table: printable Latin-1 bytes map to themselves, the other 68 bytes to
/// U+0100 and up, so every byte sequence becomes a string of visible characters that BPE can work on.
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByteMap = BuildCharToByte();

    public static bool TryGetByte(char c, out byte value) => CharToByteMap.TryGetValue(c, out value);

    /// <summary>Maps a token's byte-level characters back to raw bytes; null if a character is outside the alphabet.</summary>
    public static byte[]? ToBytes(string symbols)
    {
        var bytes = new byte[symbols.Length];
        for (int i = 0; i < symbols.Length; i++)
        {
            if (!CharToByteMap.TryGetValue(symbols[i], out bytes[i])) return null;
        }
        return bytes;
    }

    public static string FromBytes(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++) span[i] = ByteToChar[b[i]];
        });
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        foreach (var (from, to) in new[] { ('!', '~'), ('\u00A1', '\u00AC'), ('\u00AE', '\u00FF') })
        {
            for (int b = from; b <= to; b++) { map[b] = (char)b; assigned[b] = true; }
        }
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!assigned[b]) map[b] = (char)(256 + next++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (byte)b;
        return map;
    }
}
