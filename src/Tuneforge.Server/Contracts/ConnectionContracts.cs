using Tuneforge.Core.Connections;

namespace Tuneforge.Server.Contracts;

// Wire shapes of /v1/connections (a Tuneforge extension). The API key is never sent back: only its hint.

public sealed record ConnectionObject(string Id, string Object, string Name, string BaseUrl, string ApiKeyHint, long CreatedAt)
{
    public static ConnectionObject From(Connection c) => new(c.Id, "connection", c.Name, c.BaseUrl, c.ApiKeyHint, c.CreatedAt);
}

public sealed record ConnectionList(string Object, IReadOnlyList<ConnectionObject> Data, string? FirstId, string? LastId, bool HasMore)
{
    public static ConnectionList From(IReadOnlyList<Connection> connections)
    {
        var data = connections.Select(ConnectionObject.From).ToList();
        return new ConnectionList("list", data, data.FirstOrDefault()?.Id, data.LastOrDefault()?.Id, false);
    }
}

public sealed record ConnectionDeleted(string Id, string Object, string Name, bool Deleted);

/// <summary>A model the remote lists: <c>id</c> as runs name it (<c>connection/model</c>), <c>remote_id</c> as the remote does.</summary>
public sealed record RemoteModel(string Id, string Object, string RemoteId);

public sealed record RemoteModelList(string Object, IReadOnlyList<RemoteModel> Data);
