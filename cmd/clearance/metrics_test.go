package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeMetricsAddr checks that serve no longer answers /metrics on
// its public listener and serves it on --metrics-addr, behind the bearer
// token of --metrics-token-file.
func TestServeMetricsAddr(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "metrics.token")
	if err := os.WriteFile(tokenFile, []byte("m3trics\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	maddr := freeAddr(t)
	base := serveInProcess(t, serviceFlags{data: filepath.Join(dir, "data")}, "--workers", "0",
		"--metrics-addr", maddr, "--metrics-token-file", tokenFile)
	get := func(url, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get(base+"/healthz", "")
	if code, body := get(base+"/metrics", "m3trics"); code == 200 || strings.Contains(body, "clearance_http_requests_total") {
		t.Errorf("public listener GET /metrics = %d, want no metrics:\n%.300s", code, body)
	}
	if code, _ := get("http://"+maddr+"/metrics", ""); code != 401 {
		t.Errorf("metrics without the token = %d, want 401", code)
	}
	code, body := get("http://"+maddr+"/metrics", "m3trics")
	if code != 200 || !strings.Contains(body, `clearance_http_requests_total{code="200",route="GET /healthz"}`) {
		t.Errorf("metrics with the token = %d:\n%.500s", code, body)
	}
}

// TestServeMetricsFlags checks the refusals of the metrics flags.
func TestServeMetricsFlags(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-token-file", empty}, "--metrics-token-file needs --metrics-addr"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--metrics-token-file", empty}, "is empty"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--metrics-token-file", filepath.Join(dir, "missing")}, "read --metrics-token-file"},
	} {
		e, _ := quietEnv()
		err := runServe(t.Context(), e, append([]string{"--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %v = %v, want %q", tc.args, err, tc.want)
		}
	}
}
