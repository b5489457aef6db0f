using System.Security.Cryptography;
using System.Text;

namespace Tuneforge.Core.Connections;

/// <summary>
/// Seals secrets kept at rest (the API keys of remote connections) with AES-256-GCM. Sealed form:
/// <c>version (1) | nonce (12) | tag (16) | ciphertext</c>. The associated data binds a sealed value to its row, so a
/// value copied onto another row does not open. The 256-bit key is the base64 in <c>TUNEFORGE_SECRET_KEY</c>, else the
/// base64 in <c>&lt;data-dir&gt;/secret.key</c>, created (mode 0600) the first time a secret is sealed or opened.
/// </summary>
public sealed class SecretCipher
{
    public const string EnvironmentVariable = "TUNEFORGE_SECRET_KEY";
    public const string KeyFileName = "secret.key";

    private const byte Version = 1;
    private const int NonceBytes = 12, TagBytes = 16, KeyBytes = 32;

    private readonly Lazy<byte[]> _key;

    private SecretCipher(Func<byte[]> key, string source)
    {
        _key = new Lazy<byte[]>(key, LazyThreadSafetyMode.ExecutionAndPublication);
        Source = source;
    }

    /// <summary>Where the key comes from, for error messages (never the key itself).</summary>
    public string Source { get; }

    /// <summary>The key from <paramref name="environmentValue"/> (base64) when set, else from the data directory's key file.</summary>
    public static SecretCipher Load(string dataDir, string? environmentValue)
    {
        if (!string.IsNullOrWhiteSpace(environmentValue))
            return new SecretCipher(() => Decode(environmentValue.Trim(), EnvironmentVariable), EnvironmentVariable);
        var path = Path.GetFullPath(Path.Combine(dataDir, KeyFileName));
        return new SecretCipher(() => ReadOrCreateKeyFile(path), path);
    }

    public static SecretCipher FromEnvironment(string dataDir) => Load(dataDir, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>A cipher over a given key (tests, tools).</summary>
    public static SecretCipher WithKey(byte[] key, string source) => new(() => Check(key, source), source);

    public byte[] Seal(string plaintext, string associatedData)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedValue = new byte[1 + NonceBytes + TagBytes + plain.Length];
        sealedValue[0] = Version;
        var nonce = sealedValue.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key.Value, TagBytes);
        aes.Encrypt(nonce, plain, sealedValue.AsSpan(1 + NonceBytes + TagBytes), sealedValue.AsSpan(1 + NonceBytes, TagBytes),
            Encoding.UTF8.GetBytes(associatedData));
        return sealedValue;
    }

    /// <summary>Opens a sealed value; a wrong key or a tampered value throws <see cref="SecretKeyMismatchException"/>.</summary>
    public string Open(byte[] sealedValue, string associatedData)
    {
        if (sealedValue.Length < 1 + NonceBytes + TagBytes || sealedValue[0] != Version)
            throw new SecretKeyMismatchException($"the sealed value is not in the format this version writes (version byte {(sealedValue.Length > 0 ? sealedValue[0] : -1)})");
        var plain = new byte[sealedValue.Length - 1 - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(_key.Value, TagBytes);
            aes.Decrypt(sealedValue.AsSpan(1, NonceBytes), sealedValue.AsSpan(1 + NonceBytes + TagBytes), sealedValue.AsSpan(1 + NonceBytes, TagBytes),
                plain, Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecretKeyMismatchException($"it was sealed with another secret key than the one in {Source}");
        }
        return Encoding.UTF8.GetString(plain);
    }

    private static byte[] ReadOrCreateKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            // Written aside and moved into place so a second process (the worker) never reads half a key; if it
            // made the file first, its key wins and ours is dropped.
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)) + "\n"));
                stream.Flush(flushToDisk: true);
            }
            try { File.Move(temporary, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(temporary); }
        }
        return Decode(File.ReadAllText(path).Trim(), path);
    }

    private static byte[] Decode(string base64, string source)
    {
        byte[] key;
        try { key = Convert.FromBase64String(base64); }
        catch (FormatException) { throw new InvalidSecretKeyException($"{source} is not base64; it must hold a 256-bit key, e.g. the output of `openssl rand -base64 32`."); }
        return Check(key, source);
    }

    private static byte[] Check(byte[] key, string source) => key.Length == KeyBytes ? key
        : throw new InvalidSecretKeyException($"{source} holds {key.Length} bytes; it must hold a 256-bit (32-byte) key, e.g. the output of `openssl rand -base64 32`.");
}

/// <summary>A sealed secret did not open: the secret key changed since it was stored, or the value was altered.</summary>
public sealed class SecretKeyMismatchException(string message) : Exception(message);

/// <summary>The configured secret key is unusable (not base64, not 32 bytes).</summary>
public sealed class InvalidSecretKeyException(string message) : Exception(message);
