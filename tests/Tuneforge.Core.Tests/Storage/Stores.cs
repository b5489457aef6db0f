namespace Tuneforge.Core.Tests.Storage;

/// <summary>The two stores a repository test runs against.</summary>
public enum Store { Sqlite, Postgres }

public static class Stores
{
    /// <summary>For <c>[Theory, MemberData(nameof(Stores.Both), MemberType = typeof(Stores))]</c>.</summary>
    public static TheoryData<Store> Both => new(Store.Sqlite, Store.Postgres);
}
