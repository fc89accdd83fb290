package web_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/trust/trusttest"
)

func recognitionBody(authority string, bundle, receipt []byte) string {
	b, _ := json.Marshal(map[string]any{"authority": authority, "bundle": bundle, "receipt": receipt, "note": "mutual recognition"})
	return string(b)
}

// TestRecognitionAPI, on SQLite and PostgreSQL: an assigned assessor
// recognises another authority's logged decision about the case's model
// (201, listed with its provenance); a wrong key, a tampered bundle, a
// missing or wrong receipt, another model and an unknown authority are
// 422 naming the reason and store nothing; a developer may not import.
func TestRecognitionAPI(t *testing.T) {
	onStores(t, envOptions{}, func(t *testing.T, e *env) {
		aisi := trusttest.New(t, "uk-aisi")
		impostor := trusttest.New(t, "impostor")
		trusttest.WriteTrust(t, e.trustPath, aisi)
		c := e.submit(t, "devA")
		at := e.now.Add(-time.Hour)
		good, receipt := aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, at), digest)
		forged, forgedReceipt := impostor.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, at), digest)
		other := "sha256:" + strings.Repeat("e", 64)
		elsewhere, elsewhereReceipt := aisi.Sign(t, trusttest.Decision(other, attest.OutcomeCleared, at), other)
		tampered := []byte(strings.Replace(string(good), `"payload":"`, `"payload":"AA`, 1))
		path := "/api/v1/cases/" + c + "/recognitions"

		refused := []struct {
			name, body, want string
		}{
			{"wrong key", recognitionBody("uk-aisi", forged, forgedReceipt), "not a decision signed by a key of uk-aisi"},
			{"tampered", recognitionBody("uk-aisi", tampered, receipt), "not accepted as uk-aisi"},
			{"unlogged", recognitionBody("uk-aisi", good, nil), "not logged"},
			{"bad receipt", recognitionBody("uk-aisi", good, elsewhereReceipt), "not logged"},
			{"other model", recognitionBody("uk-aisi", elsewhere, elsewhereReceipt), "not this case"},
			{"unknown authority", recognitionBody("nsa", good, receipt), "unknown authority"},
			{"bundle not base64", `{"authority":"uk-aisi","bundle":"%%%"}`, ""},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				before := e.snapshot(t)
				r := e.do(t, "assessor", "POST", path, tt.body)
				if tt.want == "" {
					checkProblem(t, r, 400)
				} else {
					checkProblem(t, r, 422)
					if d := problemDetail(t, r); !strings.Contains(d, tt.want) {
						t.Errorf("detail %q does not say %q", d, tt.want)
					}
				}
				if after := e.snapshot(t); after != before {
					t.Error("a refused recognition changed the store")
				}
			})
		}
		checkProblem(t, e.do(t, "devA", "POST", path, recognitionBody("uk-aisi", good, receipt)), 403)

		var rc struct {
			ID          string `json:"id"`
			Authority   string `json:"authority"`
			SignerKey   string `json:"signer_key"`
			LogOrigin   string `json:"log_origin"`
			LogIndex    int64  `json:"log_index"`
			ModelDigest string `json:"model_digest"`
			Outcome     string `json:"outcome"`
			Bundle      []byte `json:"bundle"`
			ImportedBy  string `json:"imported_by"`
			Profiles    []struct{ Profile, Outcome string }
		}
		e.must(t, 201, &rc, "assessor", "POST", path, recognitionBody("uk-aisi", good, receipt))
		if rc.Authority != "uk-aisi" || rc.SignerKey != attest.KeyHint(&aisi.Key.PublicKey) || rc.LogOrigin != "uk-aisi.test/decisions" ||
			rc.ModelDigest != digest || rc.Outcome != "cleared" || string(rc.Bundle) != string(good) || rc.ImportedBy != e.actors["assessor"].User.ID ||
			len(rc.Profiles) != 1 || rc.Profiles[0].Profile != "aisi-frontier" {
			t.Errorf("recognition %+v", rc)
		}
		var l struct {
			Items []struct {
				ID      string `json:"id"`
				Receipt string `json:"receipt"`
			} `json:"items"`
		}
		e.must(t, 200, &l, "devA", "GET", path, "")
		if len(l.Items) != 1 || l.Items[0].ID != rc.ID || l.Items[0].Receipt != base64.StdEncoding.EncodeToString(receipt) {
			t.Errorf("list = %+v", l)
		}
		checkProblem(t, e.do(t, "devB", "GET", path, ""), 404)
	})
}
