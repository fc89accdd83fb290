package ui_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// TestBrowserSubmitAdminPortfolio drives Chromium through the developer's
// submission form (a rejected dossier named on the form, then a good one
// opening the case), the admin's organisations, user and token pages
// (the secret shown once), and the official's portfolio, with a
// screenshot of each.
func TestBrowserSubmitAdminPortfolio(t *testing.T) {
	e := newEnv(t)
	b := uitest.New(t, e.http.URL)
	e.submit(t, "devB", "atlas")

	as(t, b, e, "devA")
	b.Open("/submit")
	b.Set("#submit-model-name", "orion-2")
	b.Set("#submit-model-digest", digest)
	b.Set("#submit-dossier", "model:\n  training_compute_flop: lots\n")
	b.Set("#submit-target-url", "https://api.lab-a.example/v1")
	b.Set("#submit-credentials", "sk-browser")
	b.Do("tick profiles", chromedp.Click(chromedp.CSS("#profile-us-eo-14409")), chromedp.Click(chromedp.CSS("#profile-eu-ai-act-gpai-sr")))
	b.Submit("#submit button[type=submit]")
	b.WantText("#submit-dossier-error", "model.training_compute_flop")
	b.Screenshot("submit-rejected")
	b.Set("#submit-dossier", goodDossier)
	b.Set("#submit-credentials", "sk-browser")
	b.Screenshot("submit-form")
	b.Submit("#submit button[type=submit]")
	b.WantText("h1", "orion-2", "submitted")

	as(t, b, e, "admin")
	b.Open("/orgs")
	b.Set("#org-name", "Lab C")
	b.Submit("#create-org button[type=submit]")
	b.WantText("#org-list", "Lab C", "developer")
	b.Set("#user-name", "Carol")
	b.Screenshot("admin-organisations")
	b.Submit("#create-user button[type=submit]")
	b.WantText("#create-user", "Organisation: choose an organisation")
	b.Open("/tokens")
	b.Set("#mint-name", "ci deploy")
	b.Submit("#mint button[type=submit]")
	b.WantText("#minted", "Copy this secret now", "ci deploy")
	b.Screenshot("token-minted")

	as(t, b, e, "official")
	b.Open("/portfolio")
	b.WantText("#portfolio-matrix", "atlas", "cleared with conditions")
	b.Screenshot("portfolio")
}
