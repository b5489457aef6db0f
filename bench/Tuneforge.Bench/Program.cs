using System.Reflection;
using Tuneforge.Bench;

// Every IBenchmark in this assembly is one benchmark, run by name: dotnet run -c Release -- <name> [args]
var benches = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .ToDictionary(b => b.Name);
if (args.Length == 0 || !benches.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine($"usage: bench <{string.Join("|", benches.Keys.Order())}> [args]");
    return 2;
}
return bench.Run(args[1..]);
