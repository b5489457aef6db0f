using System.Runtime.InteropServices;
using System.Text;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// Unicode normalization through the system's ICU library. The process runs with InvariantGlobalization, in which
/// <see cref="string.Normalize()"/> silently returns its input unchanged, so Qwen2's NFC normalizer calls ICU's
/// unorm2 API directly (libicuuc, the library .NET itself uses outside invariant mode).
/// </summary>
public static unsafe class IcuNormalization
{
    private static readonly Lazy<Api?> Loaded = new(Load);

    /// <summary>
    /// Text below a form's first changing code point skips ICU: U+0300 (the first combining mark) for NFC, U+00C0
    /// (À, the first precomposed letter, which NFD splits) for NFD, U+00A0 (no-break space, a compatibility character)
    /// for NFKC and NFKD.
    /// </summary>
    public static bool IsTriviallyNormalized(string text, NormalizationForm form)
    {
        char limit = form switch { NormalizationForm.FormC => '\u0300', NormalizationForm.FormD => '\u00C0', _ => '\u00A0' };
        foreach (char c in text) if (c >= limit) return false;
        return true;
    }

    public static string Normalize(string text, NormalizationForm form)
    {
        if (IsTriviallyNormalized(text, form)) return text;
        var api = Loaded.Value ?? throw new PlatformNotSupportedException(
            $"Unicode {form} normalization needs the ICU library (libicuuc), which was not found; install the libicu package");
        int error = 0;
        nint normalizer = form switch
        {
            NormalizationForm.FormC => api.GetNfc(&error),
            NormalizationForm.FormD => api.GetNfd(&error),
            NormalizationForm.FormKC => api.GetNfkc(&error),
            _ => api.GetNfkd(&error),
        };
        if (error > 0) throw new InvalidOperationException($"ICU could not create the {form} normalizer (error {error})");
        int capacity = text.Length * 3 + 16;
        while (true)
        {
            var buffer = new char[capacity];
            error = 0;
            int length;
            fixed (char* source = text)
            fixed (char* destination = buffer)
                length = api.Normalize(normalizer, source, text.Length, destination, capacity, &error);
            if (error == 15 /* U_BUFFER_OVERFLOW_ERROR */) { capacity = length + 16; continue; }
            if (error > 0) throw new InvalidOperationException($"ICU {form} normalization failed (error {error})");
            return new string(buffer, 0, length);
        }
    }

    private sealed class Api
    {
        public delegate* unmanaged<int*, nint> GetNfc;
        public delegate* unmanaged<int*, nint> GetNfd;
        public delegate* unmanaged<int*, nint> GetNfkc;
        public delegate* unmanaged<int*, nint> GetNfkd;
        public delegate* unmanaged<nint, char*, int, char*, int, int*, int> Normalize;
    }

    private static Api? Load()
    {
        foreach (var (name, version) in Candidates())
        {
            if (!NativeLibrary.TryLoad(name, out nint library)) continue;
            nint Export(string symbol) =>
                NativeLibrary.TryGetExport(library, symbol, out nint f) ? f
                : version is not null && NativeLibrary.TryGetExport(library, $"{symbol}_{version}", out f) ? f : 0;
            nint nfc = Export("unorm2_getNFCInstance"), nfd = Export("unorm2_getNFDInstance"),
                 nfkc = Export("unorm2_getNFKCInstance"), nfkd = Export("unorm2_getNFKDInstance"), normalize = Export("unorm2_normalize");
            if (nfc == 0 || nfd == 0 || nfkc == 0 || nfkd == 0 || normalize == 0) continue;
            return new Api
            {
                GetNfc = (delegate* unmanaged<int*, nint>)nfc,
                GetNfd = (delegate* unmanaged<int*, nint>)nfd,
                GetNfkc = (delegate* unmanaged<int*, nint>)nfkc,
                GetNfkd = (delegate* unmanaged<int*, nint>)nfkd,
                Normalize = (delegate* unmanaged<nint, char*, int, char*, int, int*, int>)normalize,
            };
        }
        return null;
    }

    /// <summary>Library names to try, with the version suffix ICU puts on its symbols.</summary>
    private static IEnumerable<(string Name, int? Version)> Candidates()
    {
        if (OperatingSystem.IsWindows()) { yield return ("icuuc.dll", null); yield return ("icu.dll", null); yield break; }
        if (OperatingSystem.IsMacOS()) { yield return ("libicucore.dylib", null); yield break; }
        for (int version = 90; version >= 50; version--) yield return ($"libicuuc.so.{version}", version);
        yield return ("libicuuc.so", null);
    }
}
