// Package review runs pre-release security reviews as cases: who may do
// what to which case, in which order, by when, and with what record.
//
// The domain is organisations (developer, assessor or agency), users with
// roles (developer, assessor, reviewer, official, auditor, admin, redteamer), API
// tokens (32 random bytes shown once, stored as their SHA-256), and cases.
// A case is one model (OMS root digest and name) reviewed under one or more
// policy profiles; it carries the developer's dossier (a JSON object), the
// target endpoint whose credentials are sealed with age before they reach a
// Store, a review clock, findings with POA&M-style remediation deadlines,
// developer responses, decisions with per-profile outcomes, and appeals.
//
// States and the transitions between them are an explicit table
// (Transitions): a transition not in the table, or made by a role the table
// does not name, is rejected with ErrInvalidTransition. Clocks are pure
// values (Clock) in calendar days, business days or hours; they stop while
// information is requested (the deadline shifts by the stopped time), can
// be extended, and yield a deemed outcome once they expire.
//
// Every change made through a Service is recorded in an append-only,
// hash-chained audit trail written in the same Store transaction as the
// change itself, so a change without its audit entry (or the reverse) is
// never committed. Verify detects an edited, inserted, reordered or deleted
// entry; truncation of the tail is detected only against a head anchored
// elsewhere (the transparency log).
//
// Service enforces roles and tenant isolation: a developer sees and acts on
// only its own organisation's cases, and another organisation's case reads
// as ErrNotFound so that its existence is not disclosed; staff of assessor
// and agency organisations see all cases; auditors only read. The Store the
// service needs is declared here and implemented by store/sqlite and
// store/postgres; store/storetest is the conformance suite both pass.
//
// Errors are the sentinels below, wrapped with detail; callers test them
// with errors.Is, and the web layer maps each to one HTTP status.
package review
