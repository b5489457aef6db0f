namespace Tuneforge.Core.Jobs;

/// <summary>
/// A job creation request after JSON parsing, before validation. <see cref="Hyperparameters"/> merges the
/// top-level (deprecated) object and <c>method.supervised.hyperparameters</c>; <see cref="HyperparametersParam"/>
/// is the request path errors about them should name.
/// </summary>
public sealed record CreateJobRequest(
    string? Model,
    string? TrainingFile,
    string? ValidationFile = null,
    string? Suffix = null,
    long? Seed = null,
    string MethodType = "supervised",
    RequestedHyperparameters? Hyperparameters = null,
    string HyperparametersParam = "hyperparameters",
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? IntegrationsJson = null);
