using System.Data.Common;

namespace Tuneforge.Core.Storage;

/// <summary>
/// What differs between the two stores. The repositories write one SQL text that both SQLite and PostgreSQL accept
/// (named <c>@parameters</c>, <c>ON CONFLICT</c>, <c>RETURNING</c>) and ask the dialect for the few pieces that differ.
/// </summary>
internal abstract class SqlDialect : IDisposable
{
    public abstract DbConnection Connect();

    /// <summary>Brings the schema to the last step; safe when several processes start at once.</summary>
    public abstract void Migrate(IReadOnlyList<string> steps);

    /// <summary>Appended to a claim's candidate sub-select: concurrent claimers pass over rows another one is taking.</summary>
    public virtual string SkipLocked => "";

    /// <summary>Appended to a select whose row is then rewritten in the same transaction (read-modify-write).</summary>
    public virtual string ForUpdate => "";

    /// <summary>
    /// Makes the transactions that call this with one <paramref name="resource"/> name run one after the other from
    /// here to their commit, e.g. to hand out a number from <c>MAX(…) + 1</c>. SQLite needs nothing: it has one writer
    /// at a time and a single statement reads and writes under its lock.
    /// </summary>
    public virtual void Serialize(DbConnection connection, string resource) { }

    /// <summary>A LIMIT that takes every row, for <c>… {NoLimit} OFFSET n</c>.</summary>
    public abstract string NoLimit { get; }

    /// <summary>SQL for the text of a top-level string member of a JSON column, the member named by a parameter whose value <see cref="JsonMemberParameter"/> gives.</summary>
    public abstract string JsonMember(string column, string parameter);

    public abstract string JsonMemberParameter(string key);

    /// <summary>True when a write failed on a UNIQUE or PRIMARY KEY constraint (a concurrent insert of the same key).</summary>
    public abstract bool IsUniqueViolation(DbException e);

    public virtual void Dispose() { }
}
