namespace Tuneforge.Core.Accounts;

/// <summary>The owner of files, jobs and fine-tuned models. <see cref="Name"/> is the short name used in model names.</summary>
public sealed record Organization(string Id, string Name);
