package ui

import (
	"net/http"
	"net/url"

	"github.com/clearance-dev/clearance/review"
)

type webhookRow struct {
	review.Webhook
	// Paused is true while the circuit breaker holds its deliveries.
	Paused bool
}

type webhooksPage struct {
	base
	Rows []webhookRow
	// All is true for an admin, who sees every organisation's.
	All  bool
	Next string
}

// webhooks lists the webhooks the user may manage (their
// organisation's; every organisation's for an admin) with their
// delivery state, and a button to disable or enable each.
func (h *Handler) webhooks(w http.ResponseWriter, r *http.Request, u user) {
	p := review.Page{After: r.URL.Query().Get("after"), Limit: 100}
	ws, err := h.svc.Webhooks(r.Context(), u.Actor, "", p)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	d := &webhooksPage{base: base{Title: "Webhooks", Nav: "webhooks"}, All: u.User.Has(review.RoleAdmin)}
	d.setUser(u)
	now := h.now()
	for _, x := range ws {
		d.Rows = append(d.Rows, webhookRow{Webhook: x, Paused: !x.Disabled && now.Before(x.PausedUntil)})
	}
	if len(ws) == p.N() {
		d.Next = "/webhooks?" + url.Values{"after": {ws[len(ws)-1].ID}}.Encode()
	}
	h.render(w, r, http.StatusOK, "webhooks", d)
}

// setWebhookDisabled disables or enables a webhook and goes back to the
// list.
func (h *Handler) setWebhookDisabled(disabled bool) func(http.ResponseWriter, *http.Request, user) {
	return func(w http.ResponseWriter, r *http.Request, u user) {
		f := h.svc.EnableWebhook
		if disabled {
			f = h.svc.DisableWebhook
		}
		if err := f(r.Context(), u.Actor, r.PathValue("id")); err != nil {
			h.serviceError(w, r, err)
			return
		}
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
	}
}
