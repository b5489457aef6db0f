using System.CommandLine;
using Tuneforge.Core.Accounts;
using Tuneforge.Core.Storage;

namespace Tuneforge.Cli.Commands;

public static class KeysCommand
{
    public static Command Create()
    {
        var org = new Option<string>("--org") { Description = "Organisation the key belongs to (created if new).", Required = true };
        var dataDir = ServeCommand.DataDirOption();
        var database = ServeCommand.DatabaseOption();
        var create = new Command("create", "Create an API key and print it (once).") { org, dataDir, database };
        create.SetAction(parse =>
        {
            var name = parse.GetValue(org)!;
            try
            {
                ApiKeys.CheckOrganizationName(name);
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
            if (!ServeCommand.TryDatabaseUrl(parse, database, out var databaseUrl)) return 2;
            var key = ApiKeys.Generate();
            using var db = Database.Open(parse.GetValue(dataDir)!, databaseUrl);
            new SqliteAccountStore(db).AddKey(key, name);
            Console.WriteLine(key);
            Console.Error.WriteLine($"API key for organisation \"{name}\" created. It is stored hashed and will not be shown again.");
            return 0;
        });
        return new Command("keys", "Manage API keys.") { create };
    }
}
