namespace Tuneforge.Server.Http;

/// <summary>Ids in paths may arrive percent-encoded (.NET's client sends ':' as %3A).</summary>
public static class RouteId
{
    public static string Decode(string id) => id.Contains('%') ? Uri.UnescapeDataString(id) : id;
}
