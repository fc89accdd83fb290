// Package webhook delivers Clearance's case events to the HTTP(S)
// endpoints organisations register: each event is an entry of the audit
// trail (package review) about one of the organisation's cases, sent as
// an HMAC-signed JSON POST and retried by the job queue until the
// receiver accepts it.
//
// # Flow
//
// A Dispatcher follows the audit trail from each webhook's stored
// cursor (HookCursor) and, for every entry about a case, enqueues one
// Delivery per matching webhook: one of the case's own organisation,
// enabled, created no later than the entry, and subscribed to the
// entry's action (an empty Events list subscribes to every action
// starting with "case."). A cursor moves only after the entry's delivery
// is enqueued, so delivery is at least once; the queue keeps one job per
// (webhook, seq). It is fair between organisations: a webhook never has
// more than PerHook deliveries in the queue, nor an organisation more
// than PerOrg, and the rest wait in the trail, so another organisation's
// event waits behind a bounded number of deliveries, not a backlog.
//
// A Deliverer runs one Delivery: it loads the webhook, the audit entry
// and the case, builds the Event, signs it with the webhook's secret and
// POSTs it. A 2xx answer completes the delivery. An error wrapping
// ErrPermanent (a 4xx other than 408, 425 and 429, or a delivery that
// cannot be built) should not be retried; any other error should be,
// with backoff. A webhook that is gone or disabled by the time its
// delivery runs gets nothing. Redirects are not followed.
//
// The Deliverer keeps a circuit breaker per webhook in the store: after
// PauseAfter consecutive failures the webhook is paused, its deliveries
// return a *PausedError (the queue waits until the pause ends, without
// counting an attempt), and then one probe delivery decides whether it
// resumes. Failures are logged at most once per webhook per LogEvery.
//
// # The request
//
// Each delivery is a POST with Content-Type application/json and these
// headers:
//
//	Clearance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//	Clearance-Event:     <event type, e.g. case.transition>
//	Clearance-Delivery:  <webhook id>:<audit seq>
//
// Clearance-Delivery is the same on every retry of one event to one
// webhook; a receiver that records the ids it has processed can drop
// repeats, which at-least-once delivery makes possible. Deliveries may
// arrive out of order; Seq orders them.
//
// The body is an Event:
//
//	{
//	  "id":           "evt_42",                 // event id: "evt_" + seq, the same for every webhook
//	  "type":         "case.transition",        // the audit action
//	  "seq":          42,                       // audit sequence number, increasing
//	  "time":         "2026-07-01T09:30:00.123Z", // when it happened, UTC, RFC 3339
//	  "case_id":      "case_…",
//	  "state":        "decided",                // the case's state at delivery time
//	  "model_digest": "sha256:…",               // OMS manifest root digest of the weights
//	  "model_name":   "…",
//	  "from":         "under_review",           // case.transition only
//	  "to":           "decided",                // case.transition only
//	  "decision_id":  "dec_…"                   // a transition that recorded a decision only
//	}
//
// Receivers should ignore members they do not know: members may be
// added. An event never carries the case's credentials, target URL or
// dossier, transcripts or samples, the actor, or the audit entry's
// free-form details; a receiver that needs more fetches it through the
// API with its own token, which enforces roles.
//
// # Signatures
//
// The signature scheme is Stripe's webhook signature scheme ("t=…,v1=…",
// HMAC-SHA256 over "<t>.<body>"), so existing receiver code for it works
// unchanged. Sign makes the header; a receiver in Go calls Verify with
// the raw body, before decoding it:
//
//	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//	…
//	err = webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body,
//		time.Now(), webhook.DefaultTolerance)
//	if err != nil {
//		http.Error(w, "bad signature", http.StatusBadRequest) // 4xx: not retried
//		return
//	}
//
// Verify compares in constant time, accepts a header with several v1
// values (a sender rotating its secret signs with both), and refuses a
// timestamp further than the tolerance from now, which bounds replays.
// docs/webhooks.md shows the same check in shell with openssl.
package webhook
