namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// A test that runs only when the suite runs on SQLite (the default): the PostgreSQL pass of the service suite
/// (<c>TUNEFORGE_TEST_DATABASE=postgres</c>) skips it with the reason given. For long tests whose subject is not the store.
/// </summary>
public sealed class SqliteFactAttribute : FactAttribute
{
    public SqliteFactAttribute(string whyNotOnPostgres)
    {
        if (TestDatabase.IsPostgres) Skip = whyNotOnPostgres;
    }
}
