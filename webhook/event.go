package webhook

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Event is the JSON body of a delivery. Its schema is described in the
// package documentation. It is built from an audit entry and the case
// by NewEvent and carries only what is listed there: never the case's
// credentials, target URL or dossier, sample transcripts, nor the
// audit entry's free-form details.
type Event struct {
	// ID identifies the event, the same for every webhook it is sent
	// to: "evt_" and the audit sequence number.
	ID string `json:"id"`
	// Type is the audit action, such as "case.transition".
	Type string `json:"type"`
	// Seq is the audit entry's sequence number; events of one
	// Clearance deployment are totally ordered by it.
	Seq int64 `json:"seq"`
	// Time is when the action happened, UTC.
	Time   time.Time `json:"time"`
	CaseID string    `json:"case_id"`
	// State is the case's state when the event was delivered, which
	// may be later than the event.
	State       review.State `json:"state"`
	ModelDigest string       `json:"model_digest"`
	ModelName   string       `json:"model_name"`
	// From and To are the states a case.transition moved the case
	// between; empty for other events.
	From review.State `json:"from,omitempty"`
	To   review.State `json:"to,omitempty"`
	// DecisionID is the decision a transition to decided recorded;
	// empty otherwise.
	DecisionID string `json:"decision_id,omitempty"`
}

// NewEvent returns the event for audit entry e about case c. Of the
// entry's details only the fields "from", "to" and "decision" of a
// case.transition are read, and only when they are strings; anything
// else in the details is left out.
func NewEvent(e review.AuditEntry, c review.Case) Event {
	ev := Event{
		ID:          "evt_" + strconv.FormatInt(e.Seq, 10),
		Type:        e.Action,
		Seq:         e.Seq,
		Time:        e.Time.UTC(),
		CaseID:      c.ID,
		State:       c.State,
		ModelDigest: c.ModelDigest,
		ModelName:   c.ModelName,
	}
	if e.Action == "case.transition" {
		var d struct {
			From     any `json:"from"`
			To       any `json:"to"`
			Decision any `json:"decision"`
		}
		// Details not in this shape simply add nothing.
		if json.Unmarshal(e.Details, &d) == nil {
			ev.From = review.State(str(d.From))
			ev.To = review.State(str(d.To))
			ev.DecisionID = str(d.Decision)
		}
	}
	return ev
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Delivery is one event to send to one webhook: the unit of work the
// queue holds and retries. The queue should keep one job per
// (WebhookID, Seq), so that an event enqueued twice is delivered once.
type Delivery struct {
	WebhookID string `json:"webhook_id"`
	Seq       int64  `json:"seq"`
}

// ID returns the delivery id sent in the Clearance-Delivery header,
// "<webhook id>:<seq>": the same on every retry, so that receivers can
// drop a delivery they have already processed.
func (d Delivery) ID() string { return d.WebhookID + ":" + strconv.FormatInt(d.Seq, 10) }

// Matches reports whether a webhook subscribed to events receives an
// audit action: when events is empty, every action starting with
// "case."; otherwise the actions listed, exactly.
func Matches(events []string, action string) bool {
	if len(events) == 0 {
		return strings.HasPrefix(action, "case.")
	}
	return slices.Contains(events, action)
}
