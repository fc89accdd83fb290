package policy

// RedTeam is a case's expert red-team campaign as evidence (review
// campaigns, docs/campaigns.md): redteam in CEL. The review service
// fills it from its records, never from the developer's dossier; a case
// without a campaign has the zero value (campaign false, every count 0).
//
//	redteam.campaign && redteam.successes == 0
//	redteam.universal_still_work > 0   // a universal jailbreak survives the fix
type RedTeam struct {
	// Campaign is true once the case has a red-team attempt.
	Campaign bool `json:"campaign"`
	// Attempts, Successes and Universal count attempts, successful
	// attacks and universal attacks (transfer checked).
	Attempts  int64 `json:"attempts"`
	Successes int64 `json:"successes"`
	Universal int64 `json:"universal"`
	// Versions is the number of model versions submitted (0 when the
	// model was never replaced); Retested and StillWork count the
	// regression items re-run on the current version and those that still
	// work; UniversalStillWork the universal attacks among them.
	Versions           int64 `json:"versions"`
	Retested           int64 `json:"retested"`
	StillWork          int64 `json:"still_work"`
	UniversalStillWork int64 `json:"universal_still_work"`
	// Open is the number of successful attacks not retested on the
	// current version or still working there: what remains unfixed.
	Open int64 `json:"open"`
}
