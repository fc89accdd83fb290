package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func quietEnv() (*env, *bytes.Buffer) {
	var out bytes.Buffer
	return &env{stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard,
		log: slog.New(slog.DiscardHandler), getenv: os.Getenv, now: time.Now}, &out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeContract checks the service's CLI contract on the embedded
// SQLite default: admin bootstrap, /healthz, the OpenAPI 3.1 document, 401
// problem details without a token, an authenticated read and the log mount.
// (The PostgreSQL store passes the same conformance suite in store/postgres.)
func TestServeContract(t *testing.T) {
	for name, extra := range map[string][]string{"sqlite": nil} {
		t.Run(name, func(t *testing.T) {
			data := privateDir(t)
			e, out := quietEnv()
			args := append([]string{"bootstrap", "--data", data, "--org", "Agency", "--user", "alice"}, extra...)
			if err := runAdmin(context.Background(), e, args); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			token := lines[len(lines)-1]
			if err := runAdmin(context.Background(), e, args); err == nil {
				t.Fatal("a second bootstrap succeeded")
			}

			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			se, _ := quietEnv()
			go func() { done <- runServe(ctx, se, append([]string{"--addr", addr, "--data", data}, extra...)) }()
			base := "http://" + addr
			var resp *http.Response
			var err error
			for range 100 {
				if resp, err = http.Get(base + "/healthz"); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET /healthz: %v %v", resp, err)
			}
			resp.Body.Close()

			get := func(path, token string) (int, string, map[string]any) {
				req, _ := http.NewRequest("GET", base+path, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				r, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Body.Close()
				var m map[string]any
				json.NewDecoder(r.Body).Decode(&m)
				return r.StatusCode, r.Header.Get("Content-Type"), m
			}
			if code, _, doc := get("/api/v1/openapi.json", ""); code != 200 || !strings.HasPrefix(doc["openapi"].(string), "3.1") {
				t.Fatalf("openapi.json: %d %v", code, doc["openapi"])
			}
			if code, ct, p := get("/api/v1/cases", ""); code != 401 || ct != "application/problem+json" || p["status"].(float64) != 401 {
				t.Fatalf("no token: %d %s %v", code, ct, p)
			}
			if code, _, _ := get("/api/v1/cases", "clr_bogus"); code != 401 {
				t.Fatalf("bogus token: %d", code)
			}
			if code, _, m := get("/api/v1/cases", token); code != 200 || m["items"] == nil {
				t.Fatalf("authenticated list: %d %v", code, m)
			}
			if code, _, _ := get("/log/checkpoint", ""); code != 200 {
				t.Fatalf("log checkpoint: %d", code)
			}

			// The admin makes a developer organisation, user and token; the
			// developer submits with the client commands.
			admin := &apiClient{base: base, token: token, hc: http.DefaultClient}
			var org, user, tok map[string]any
			ctx2 := context.Background()
			if err := admin.do(ctx2, "POST", "/api/v1/orgs", map[string]any{"name": "Acme AI", "kind": "developer"}, nil, &org); err != nil {
				t.Fatal(err)
			}
			if err := admin.do(ctx2, "POST", "/api/v1/users", map[string]any{"org_id": org["id"], "name": "dev", "roles": []string{"developer"}}, nil, &user); err != nil {
				t.Fatal(err)
			}
			if err := admin.do(ctx2, "POST", "/api/v1/users/"+user["id"].(string)+"/tokens", map[string]any{"name": "cli"}, nil, &tok); err != nil {
				t.Fatal(err)
			}
			devToken := tok["secret"].(string)
			dossier := filepath.Join(data, "dossier.yaml")
			os.WriteFile(dossier, []byte("model:\n  name: atlas\n  training_compute_flop: 2.0e25\nmarket:\n  eu_placed: true\n"), 0o644)
			submit := []string{"--server", base, "--token", devToken, "--dossier", dossier, "--target", "http://127.0.0.1:9/v1",
				"--model-digest", "sha256:" + strings.Repeat("ab", 32), "--model-name", "atlas", "--profile", "eu-ai-act-gpai-sr", "--format", "json"}
			ce, cout := quietEnv()
			if err := runSubmit(ctx2, ce, submit); err != nil {
				t.Fatal(err)
			}
			var first map[string]any
			json.Unmarshal(cout.Bytes(), &first)
			ce2, cout2 := quietEnv()
			if err := runSubmit(ctx2, ce2, submit); err != nil {
				t.Fatal(err)
			}
			var again map[string]any
			json.Unmarshal(cout2.Bytes(), &again)
			if first["id"] == nil || first["id"] != again["id"] {
				t.Fatalf("a retried submit made another case: %v then %v", first["id"], again["id"])
			}
			le, lout := quietEnv()
			if err := runCase(ctx2, le, []string{"list", "--server", base, "--token", devToken}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(lout.String(), first["id"].(string)) || !strings.Contains(lout.String(), "submitted") {
				t.Fatalf("case list:\n%s", lout.String())
			}
			if err := runCase(ctx2, le, []string{"show", "nope", "--server", base, "--token", devToken}); err == nil || !strings.Contains(err.Error(), "404") {
				t.Fatalf("case show of an unknown case: %v", err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve returned %v after cancel", err)
			}
		})
	}
}
