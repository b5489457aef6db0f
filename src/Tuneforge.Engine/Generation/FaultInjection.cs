namespace Tuneforge.Engine.Generation;

/// <summary>
/// A test hook, off unless a test asks for it: makes chosen prompt prefills or decoding steps of a
/// <see cref="GenerationLoop"/> throw <see cref="InjectedFaultException"/>, so tests can check that a fault fails only
/// the requests it hits and that the loop goes on serving. The service reads it from <see cref="Variable"/>
/// (never set it outside tests): comma-separated <c>decode:N</c> (the N-th decoding step since the base model was
/// loaded throws, counting from 1) and <c>prefill:N</c> (the N-th prompt run through the model throws), e.g.
/// <c>TUNEFORGE_TEST_FAULT=decode:1,prefill:3</c>.
/// </summary>
public sealed class FaultInjection
{
    public const string Variable = "TUNEFORGE_TEST_FAULT";

    private readonly HashSet<long> _decodes = [], _prefills = [];
    private long _decodeSteps, _prefillRuns;

    /// <summary>The faults <see cref="Variable"/> asks for; null when it is unset or empty.</summary>
    public static FaultInjection? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } spec ? Parse(spec) : null;

    public static FaultInjection Parse(string spec)
    {
        var faults = new FaultInjection();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (kind, number) = part.Split(':') is [var k, var n] && long.TryParse(n, out var v) && v > 0 ? (k, v)
                : throw new ArgumentException($"{Variable}: '{part}' is not <decode|prefill>:<N ≥ 1>");
            (kind switch
            {
                "decode" => faults._decodes,
                "prefill" => faults._prefills,
                _ => throw new ArgumentException($"{Variable}: unknown point '{kind}'; expected decode or prefill"),
            }).Add(number);
        }
        return faults;
    }

    /// <summary>Called by the loop before each decoding step (on the loop thread).</summary>
    internal void BeforeDecode()
    {
        if (_decodes.Contains(++_decodeSteps)) throw new InjectedFaultException($"decoding step {_decodeSteps}");
    }

    /// <summary>Called by the loop before each prompt prefill (on the loop thread).</summary>
    internal void BeforePrefill()
    {
        if (_prefills.Contains(++_prefillRuns)) throw new InjectedFaultException($"prefill {_prefillRuns}");
    }
}

/// <summary>The fault <see cref="FaultInjection"/> throws.</summary>
public sealed class InjectedFaultException(string point) : Exception($"injected test fault ({FaultInjection.Variable}) at {point}");
