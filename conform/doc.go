// Package conform checks, after release, that a live endpoint still serves
// the model that was assessed.
//
// At assessment a Fingerprint is recorded: a seeded probe set (prompts
// drawn from the suites plus a generic set) is sent to the endpoint with
// deterministic decoding where the API allows it (temperature 0, a fixed
// seed), each probe Repeats times, and the answers are kept. The
// fingerprint is JSON with a SHA-256 Digest, so a decision can bind it.
//
// A check (Check, or Compare on answers already collected) asks the same
// probes again and runs a family of two-sample tests of the null
// hypothesis "the endpoint is the model that was fingerprinted":
//
//   - exact match: the rate at which a check answer equals the recorded
//     one, against the rate at which the two recorded answers equal each
//     other (the endpoint's own repeatability), one-sided, with Newcombe's
//     hybrid score interval for the difference;
//   - refusal: the refusal rate on harmful probes, overall and per
//     category, recorded against checked, two-sided Newcombe intervals
//     (only when the caller supplies a refusal classifier);
//   - answer distribution: a maximum mean discrepancy (MMD) between the
//     recorded and the checked answers with a word-level Hamming kernel
//     restricted to equal prompts, calibrated by an exact permutation test
//     (Gao, Liang and Guestrin, "Model Equality Testing: Which model is this
//     API serving?", ICLR 2025, who test API-served models the same way);
//   - log-probability (only when the fingerprint was recorded with
//     RecordOptions.LogProbs, the endpoint offered token log-probabilities
//     then and now, and at least MinLogProbProbes probes have them on both
//     sides): the energy distance (Székely and Rizzo; an MMD with the
//     distance kernel −|x − y|) between each probe's recorded and checked
//     mean token log-probabilities, calibrated by the same exact
//     permutation as the MMD. It sees a model that writes the same text
//     with other probabilities. It joins the family only when run, so
//     checks without log-probabilities are unchanged.
//
// The family-wise false-alarm rate is held at Options.Alpha by Bonferroni:
// each of the m tests run rejects at Alpha/m. The endpoint is reported as
// not the same model when any test rejects. Each test is valid when the
// endpoint's answers to a prompt are exchangeable between calls (the same
// weights and serving stack, sampled independently); the exact-match and
// refusal tests treat paired counts as independent samples, which is
// conservative when the pairs are positively correlated, as they are for
// the same model.
//
// What is not detected: a different model that answers every probe
// exactly as the fingerprinted one did (a router that recognises the
// probes), and changes that do not show in the answers to the probes.
// Log-probabilities come only from OpenAI-compatible endpoints that offer
// them ("logprobs": true); an endpoint that stops offering them drops the
// log-probability test rather than failing it.
//
// The package is pure except for Record and Check, which call a Completer.
package conform
