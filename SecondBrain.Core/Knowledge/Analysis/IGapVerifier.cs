namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// An optional second opinion on a detector's candidates (an LLM, when one is configured): returns the candidates
/// it keeps, possibly with adjusted confidence. The rule-based detectors are the default; without a verifier every
/// candidate stands.
/// </summary>
public interface IGapVerifier
{
    Task<DetectorResult> VerifyAsync(DetectorResult result, CancellationToken ct);
}
