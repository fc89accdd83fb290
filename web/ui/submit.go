package ui

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
)

// maxUploadBytes bounds the body of the submission form, which carries a
// dossier of up to review.MaxDossierBytes (as a file or pasted text).
const maxUploadBytes = review.MaxSubmissionBytes + 64<<10

// submitFields are the submission form's fields, named as the service
// names them in its errors, so that a service error lands next to its
// field.
var submitFields = []string{"model.name", "model.digest", "dossier", "target.url", "target.credentials", "profiles"}

type profileChoice struct {
	ID, Title string
}

type submitPage struct {
	base
	Form     *form
	Profiles []profileChoice
	// Key is the idempotency key of this form: submitting it twice (a
	// double click, a reload) opens one case.
	Key string
}

// builtinProfiles lists the built-in profiles, parsed once.
var builtinProfiles = sync.OnceValue(func() []profileChoice {
	var out []profileChoice
	ps, err := policy.Builtins()
	if err != nil {
		for _, id := range policy.BuiltinIDs() {
			out = append(out, profileChoice{ID: id, Title: id})
		}
		return out
	}
	for _, p := range ps {
		out = append(out, profileChoice{ID: p.ID, Title: p.Title})
	}
	return out
})

// submitForm shows the submission form to a developer.
func (h *Handler) submitForm(w http.ResponseWriter, r *http.Request, u user) {
	if !canSubmit(u) {
		h.serviceError(w, r, review.ErrForbidden)
		return
	}
	h.renderSubmit(w, r, u, http.StatusOK, newForm(url.Values{}), randomToken())
}

func canSubmit(u user) bool {
	return u.User.Has(review.RoleDeveloper) && u.Org.Kind == review.OrgDeveloper
}

func (h *Handler) renderSubmit(w http.ResponseWriter, r *http.Request, u user, status int, f *form, key string) {
	d := &submitPage{base: base{Title: "Submit a model", Nav: "submit"}, Form: f, Profiles: builtinProfiles(), Key: key}
	d.setUser(u)
	h.render(w, r, status, "submit", d)
}

// submit opens a case from the submission form. The dossier (an uploaded
// file, else the pasted text; YAML or JSON) is checked against the
// evidence schema the policy engine reads it with, then the service checks
// the whole submission as it does for the API and seals the credentials.
// Any rejection re-shows the form with the message next to the field, 422.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request, u user) {
	f := newForm(r.PostForm)
	key := r.PostForm.Get("key")
	if key == "" || len(key) > 200 {
		key = randomToken()
	}
	sub := review.Submission{
		Model:  review.SubmittedModel{Name: strings.TrimSpace(f.V("model.name")), Digest: strings.TrimSpace(f.V("model.digest"))},
		Target: review.SubmittedTarget{URL: strings.TrimSpace(f.V("target.url")), Credentials: f.V("target.credentials")},
	}
	known := builtinProfiles()
	for _, p := range r.PostForm["profile"] {
		if !slices.ContainsFunc(known, func(c profileChoice) bool { return c.ID == p }) {
			f.fail("profiles", fmt.Sprintf("%q is not a built-in profile", p))
			continue
		}
		sub.Profiles = append(sub.Profiles, p)
	}
	if len(sub.Profiles) == 0 {
		f.fail("profiles", "choose at least one profile")
	}
	data, name, err := dossierInput(r)
	switch {
	case err != nil:
		f.fail("dossier", err.Error())
	case len(strings.TrimSpace(string(data))) == 0:
		f.fail("dossier", "missing: upload a file or paste the dossier")
	default:
		if sub.Dossier, err = dossierJSON(name, data); err != nil {
			f.fail("dossier", err.Error())
		}
	}
	if !f.Failed() {
		if err := sub.Validate(); err != nil {
			f.serviceFail(err, submitFields...)
		}
	}
	if f.Failed() {
		f.Values.Del("target.credentials") // never echoed back
		h.renderSubmit(w, r, u, http.StatusUnprocessableEntity, f, key)
		return
	}
	body, err := json.Marshal(sub)
	if err != nil {
		h.internalError(w, r, fmt.Errorf("submit: %w", err))
		return
	}
	c, _, err := h.svc.SubmitOnce(r.Context(), u.Actor, key, sha256.Sum256(body), sub)
	if errors.Is(err, review.ErrIdempotencyMismatch) {
		// The same form sent again with other values: a new submission.
		c, err = h.svc.Submit(r.Context(), u.Actor, sub)
	}
	if err != nil {
		if f.serviceFail(err, submitFields...) {
			f.Values.Del("target.credentials")
			h.renderSubmit(w, r, u, http.StatusUnprocessableEntity, f, key)
			return
		}
		h.serviceError(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+c.ID, http.StatusSeeOther)
}

// dossierInput returns the uploaded dossier file, if one was sent, else
// the pasted text, with a name for messages.
func dossierInput(r *http.Request) ([]byte, string, error) {
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["dossier_file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			fh := fhs[0]
			if fh.Size > review.MaxDossierBytes {
				return nil, "", fmt.Errorf("file %s is %d bytes, over the limit of %d", fh.Filename, fh.Size, review.MaxDossierBytes)
			}
			rd, err := fh.Open()
			if err != nil {
				return nil, "", fmt.Errorf("read file %s: %v", fh.Filename, err)
			}
			defer rd.Close()
			b, err := io.ReadAll(io.LimitReader(rd, review.MaxDossierBytes+1))
			if err != nil {
				return nil, "", fmt.Errorf("read file %s: %v", fh.Filename, err)
			}
			return b, fh.Filename, nil
		}
	}
	return []byte(r.PostForm.Get("dossier")), "pasted dossier", nil
}

// dossierJSON validates a YAML or JSON dossier with the policy engine's
// evidence schema (the same as `clearance submit`) and returns it as a
// compact JSON object. Its errors name the line and field at fault.
func dossierJSON(name string, data []byte) (json.RawMessage, error) {
	if len(data) > review.MaxDossierBytes {
		return nil, fmt.Errorf("%d bytes exceeds the limit of %d", len(data), review.MaxDossierBytes)
	}
	if _, err := policy.LoadEvidence(name, data); err != nil {
		var ee *policy.EvidenceError
		if errors.As(err, &ee) {
			return nil, errors.New(describeProblems(ee.Problems))
		}
		return nil, err
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %v", err)
	}
	if v == nil {
		return nil, errors.New("not a mapping of fields")
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("convert to JSON: %v", err)
	}
	return out, nil
}

// describeProblems lists up to five schema problems, each with its line
// and field.
func describeProblems(ps []policy.Problem) string {
	var parts []string
	for i, p := range ps {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-5))
			break
		}
		s := p.Msg
		if fld := p.Field(); fld != "" {
			s = fld + ": " + s
		}
		if p.Line > 0 {
			s = "line " + strconv.Itoa(p.Line) + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
