package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// metadataSecret is the credential a fake cloud metadata service on
// 127.0.0.1 answers with; no developer may read it through the service.
const metadataSecret = "ASIAFAKEMETADATAKEY9"

// TestTargetEgress points a case's target.url at a fake metadata service
// on the server's own host and runs the assessment through clearance
// serve. By default the service never calls it; allowed by name with
// --allow-target-net, the call goes through, and in both cases nothing
// the developer reads over the API, nor any file of the data directory,
// holds the service's answer: the developer sees the error kind and the
// HTTP status only.
func TestTargetEgress(t *testing.T) {
	for _, tc := range []struct {
		name     string
		extra    []string
		reached  bool
		wantKind string
		status   int
	}{
		{name: "default", reached: false, wantKind: "refused"},
		{name: "allowed", extra: []string{"--allow-target-net", "127.0.0.1/32"}, reached: true, wantKind: "client", status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":%q,"Token":"metadata-token"}`, metadataSecret)
			}))
			defer meta.Close()
			sf := serviceFlags{data: privateDir(t)}
			adminToken := bootstrap(t, sf)
			base := serveInProcess(t, sf, append([]string{"--workers", "1", "--shard-size", "50"}, tc.extra...)...)
			c := client{t: t, base: base}
			p := seedPeople(t, c, adminToken)
			dossier, modelDir := e2eFiles(t)
			caseID := submitCase(t, base, p.dev, meta.URL, modelDir, dossier)
			assignStaff(t, c, p, caseID)
			var as assessmentView
			c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"}, "limit": 2}, 201, &as)
			as = waitFinished(t, c, p.dev, as.ID, time.Minute)

			if got := hits.Load() > 0; got != tc.reached {
				t.Fatalf("the metadata service got %d requests, want reached = %v", hits.Load(), tc.reached)
			}
			var seen bytes.Buffer // everything the developer reads
			_, b := c.try(p.dev, "GET", "/api/v1/assessments/"+as.ID, nil, nil)
			seen.Write(b)
			var samples struct {
				Items []struct {
					Seq     int             `json:"seq"`
					Harmful bool            `json:"harmful"`
					Record  json.RawMessage `json:"record"`
				} `json:"items"`
			}
			c.call(p.dev, "GET", "/api/v1/assessments/"+as.ID+"/samples", nil, 200, &samples)
			if len(samples.Items) == 0 {
				t.Fatal("no samples")
			}
			for _, sm := range samples.Items {
				// The assessor opens every sample, harmful ones too: the
				// body is stored for nobody.
				var full struct{ Record json.RawMessage }
				c.call(p.assessor, "GET", fmt.Sprintf("/api/v1/assessments/%s/samples/%d", as.ID, sm.Seq), nil, 200, &full)
				var rec struct {
					Error *struct {
						Kind    string `json:"kind"`
						Status  int    `json:"status"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if err := json.Unmarshal(full.Record, &rec); err != nil || rec.Error == nil {
					t.Fatalf("sample %d: record %s (%v), want an error", sm.Seq, full.Record, err)
				}
				if rec.Error.Kind != tc.wantKind || rec.Error.Status != tc.status {
					t.Errorf("sample %d: error %+v, want kind %s and status %d", sm.Seq, *rec.Error, tc.wantKind, tc.status)
				}
				if strings.Contains(string(full.Record), metadataSecret) {
					t.Errorf("sample %d as the assessor reads it holds the metadata answer: %s", sm.Seq, full.Record)
				}
				if !sm.Harmful {
					code, b := c.try(p.dev, "GET", fmt.Sprintf("/api/v1/assessments/%s/samples/%d", as.ID, sm.Seq), nil, nil)
					if code != 200 {
						t.Errorf("developer GET sample %d: %d", sm.Seq, code)
					}
					seen.Write(b)
				}
			}
			_, b = c.try(p.dev, "GET", "/api/v1/assessments/"+as.ID+"/samples", nil, nil)
			seen.Write(b)
			for _, m := range []string{metadataSecret, "AccessKeyId", "metadata-token"} {
				if bytes.Contains(seen.Bytes(), []byte(m)) {
					t.Errorf("the developer reads %q", m)
				}
			}
			filepath.WalkDir(sf.data, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(metadataSecret)) {
					t.Errorf("%s holds the metadata answer", path)
				}
				return nil
			})
		})
	}
}

// waitFinished polls an assessment until it is done or failed.
func waitFinished(t *testing.T, c client, token, id string, within time.Duration) assessmentView {
	t.Helper()
	deadline := time.Now().Add(within)
	var a assessmentView
	for time.Now().Before(deadline) {
		if code, b := c.try(token, "GET", "/api/v1/assessments/"+id, nil, nil); code == 200 {
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatal(err)
			}
			if a.State == "done" || a.State == "failed" {
				return a
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("assessment %s not finished within %s: %+v", id, within, a)
	return a
}

// TestReferenceEgress: the demo's runner reaches its reference models on
// 127.0.0.1 and nothing else that is not public.
func TestReferenceEgress(t *testing.T) {
	p := referenceEgress()
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "8.8.8.8": true,
		"127.0.0.2": false, "::1": false, "10.0.0.1": false, "169.254.169.254": false, "192.168.1.1": false,
	} {
		if got := p.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("referenceEgress().Allowed(%s) = %v, want %v", addr, got, want)
		}
	}
}
