// Package oscal exports a review case as NIST OSCAL v1.1.3 JSON: the
// assessment plan (AP), the assessment results (AR) and the plan of
// action and milestones (POA&M), for agencies whose tools read OSCAL.
//
// The documents are pure functions of the case's data (Export, BuildAP,
// BuildAR, BuildPOAM); Load reads that data through review.Service with
// the reader's authorisation. Validate checks a document against NIST's
// official JSON Schemas, embedded unmodified (schemas/, with their
// source and licence). See docs/oscal.md for the mapping.
package oscal
