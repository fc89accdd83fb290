// Package attest gives a model directory its identity and turns review
// decisions into signed, verifiable attestations.
//
// Model identity is the OpenSSF Model Signing (OMS) v1.0 manifest of the
// directory, "files" serialization with SHA-256: every regular file not
// ignored is hashed whole, the resources are ordered by path (component by
// component, the order Python's pathlib gives the reference
// implementation), and the root digest is SHA-256 over the concatenated raw
// file digests in that order. [HashModel] computes it with a pool of workers
// streaming the files; [Manifest.Root] is the identity used everywhere else
// in Clearance.
//
// Two kinds of signed documents are produced, both in-toto Statement v1
// serialised with protojson, wrapped in a DSSE envelope
// (payloadType application/vnd.in-toto+json) inside a Sigstore bundle v0.3,
// signed with an ECDSA P-256 key ([GenerateKey]) and verified through
// sigstore-go's verifier with the signer's public key as the only trusted
// material:
//
//   - an OMS model signature ([SignModel], [VerifyModel]), predicate type
//     https://model_signing/signature/v1.0, that the OMS tools accept;
//   - a decision attestation ([SignDecision], [VerifyDecision]) with
//     predicate type [DecisionPredicateType], whose subjects are the model
//     root digest, every weight file and the OMS signature bundle.
//
// Key-signed bundles carry no transparency-log entry or timestamp; the
// Clearance transparency log (package tlog) provides the public record.
// Verification fails closed: any error means "not verified".
//
// Everything here is safe for concurrent use; the package holds no state.
package attest
