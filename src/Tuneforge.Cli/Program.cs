using System.CommandLine;

var root = new RootCommand("Tuneforge: self-hosted, OpenAI-compatible fine-tuning.");
return root.Parse(args).Invoke();
