// Package policy judges one model's evidence under regimes written as code.
//
// A profile is a YAML file, validated by the published JSON Schema
// (schema/profile.schema.json), that states one regime's rules:
// applicability and exemptions, tiers, required evaluations (suite, metric,
// minimum sample, threshold and how the threshold is judged: point
// estimate, interval bound or sequential test), required artifacts with due
// rules, safeguards, decision rules with outcomes and condition templates,
// review clocks, incident classes with reporting deadlines, disclosure
// duties, a penalty formula, a crosswalk to other profiles, and extends.
// Every number that matters is a named constant carrying its provenance
// (source, pinpoint, tag T/S/M/I, confidence, inference); the provenance is
// repeated wherever the constant is used in a Decision.
//
// Rules are CEL expressions over a typed evidence environment (see
// docs/policy.md for the variables). They are parsed, type-checked and
// cost-estimated when the profile loads, and run with a cost limit; an
// error names the profile and the rule. Load returns a *ProfileError that
// names file, line and field.
//
// Evidence (schema/evidence.schema.json) is the dossier (snake_case
// sections model, developer, market, designations, security, service,
// documents, release, events), the model identity and the metrics from
// assess keyed "<suite>.<metric>". A bare dossier is valid evidence.
//
// Decide judges evidence under profiles and returns a JSON-friendly
// Decision (lowerCamelCase fields, RFC 3339 UTC times). MakePlan turns the
// union of profiles' required evaluations into a sampling plan with
// sequential stop rules for the runner.
//
// The package is pure: no I/O beyond embedded files, no clock (the
// evaluation date comes from the evidence), no randomness. Loaded profiles
// are immutable and safe for concurrent use.
package policy
