package target_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

func TestHTTPTemplateClient(t *testing.T) {
	var got map[string]any
	var hdr http.Header
	var method, rawQuery string
	url, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		hdr, method, rawQuery = r.Header.Clone(), r.Method, r.URL.RawQuery
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body %q is not JSON: %v", b, err)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"out":{"items":[{"text":"first"},{"text":"the \"answer\""}]},"meta":{"in":17,"out":5}}`)
	})
	c, err := target.NewHTTP(target.HTTPConfig{
		URL:              url + "/gen?key=secret-q",
		Headers:          map[string]string{"X-Key": "hk-1"},
		Body:             `{"q": {{json .Prompt}}, "sys": {{json .System}}, "model": {{json .Model}}, "n": {{.MaxTokens}}, "history": {{json .Messages}}}`,
		ResponsePath:     "out.items.1.text",
		InputTokensPath:  "meta.in",
		OutputTokensPath: "meta.out",
		Model:            "custom-1",
		MaxTokens:        64,
	})
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	msgs := []target.Message{{Role: "system", Content: "be nice"}, {Role: "user", Content: `say "hi"` + "\n"}}
	resp, err := c.Complete(context.Background(), target.Request{Messages: msgs})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := target.Response{Content: `the "answer"`, Model: "custom-1", Usage: target.Usage{InputTokens: 17, OutputTokens: 5}}
	if d := cmp.Diff(want, resp); d != "" {
		t.Fatalf("response (-want +got):\n%s", d)
	}
	wantBody := map[string]any{
		"q": "say \"hi\"\n", "sys": "be nice", "model": "custom-1", "n": float64(64),
		"history": []any{
			map[string]any{"role": "system", "content": "be nice"},
			map[string]any{"role": "user", "content": "say \"hi\"\n"},
		},
	}
	if d := cmp.Diff(wantBody, got); d != "" {
		t.Fatalf("rendered body (-want +got):\n%s", d)
	}
	if method != "POST" || hdr.Get("X-Key") != "hk-1" || hdr.Get("Content-Type") != "application/json" || rawQuery != "key=secret-q" {
		t.Fatalf("method %s query %q headers %v", method, rawQuery, hdr)
	}
	if id := c.Identity(); strings.Contains(id, "secret-q") || strings.Contains(id, "hk-1") || !strings.HasPrefix(id, "http method=POST url="+url+"/gen ") {
		t.Fatalf("Identity() = %q: want method and URL without query or header values", id)
	}
}

func TestHTTPErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			url, n := countingServer(t, tc.h)
			c, err := target.NewHTTP(target.HTTPConfig{URL: url, Body: `{}`, ResponsePath: "a", Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Complete(context.Background(), userReq("x"))
			checkErr(t, err, tc.want)
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
		})
	}
	body := func(s string) http.HandlerFunc { return reply(200, nil, "application/json", s) }
	tests := []struct {
		name, path string
		h          http.HandlerFunc
		timeout    time.Duration
		want       wantErr
	}{
		{"missing key", "choices.0.message.content", body(`{"choices":[{"message":{}}]}`), 0, wantErr{target.KindMalformed, 200, 0, `response path "choices.0.message.content": key "content" not found at "choices.0.message"`}},
		{"index out of range", "choices.0.text", body(`{"choices":[]}`), 0, wantErr{target.KindMalformed, 200, 0, "index 0 out of range"}},
		{"not a string", "a", body(`{"a": 3}`), 0, wantErr{target.KindMalformed, 200, 0, "want a string, found a number"}},
		{"invalid json", "a", body(`{"a": `), 0, wantErr{target.KindMalformed, 200, 0, "decode response"}},
		{"trailing", "a", body(`{"a":"x"} {}`), 0, wantErr{target.KindMalformed, 200, 0, "trailing data"}},
		{"hang", "a", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 100 * time.Millisecond, wantErr{target.KindTimeout, 0, 0, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := countingServer(t, tc.h)
			c, err := target.NewHTTP(target.HTTPConfig{URL: url, ResponsePath: tc.path, Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Complete(context.Background(), userReq("x"))
			checkErr(t, err, tc.want)
		})
	}
}

func TestHTTPConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  target.HTTPConfig
		want string
	}{
		{target.HTTPConfig{ResponsePath: "a"}, "url"},
		{target.HTTPConfig{URL: "http://x"}, "response path is required"},
		{target.HTTPConfig{URL: "http://x", ResponsePath: "a..b"}, "empty segment"},
		{target.HTTPConfig{URL: "http://x", ResponsePath: "a", Body: "{{json .Prompt"}, "body template"},
		{target.HTTPConfig{URL: "http://x", ResponsePath: "a", InputTokensPath: "."}, "input tokens path"},
	}
	for _, tc := range tests {
		_, err := target.NewHTTP(tc.cfg)
		if !errors.Is(err, target.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewHTTP(%+v) = %v, want ErrInvalidConfig containing %q", tc.cfg, err, tc.want)
		}
	}
	// A template that names a missing field fails at render time as a
	// client error, before anything is sent.
	c, err := target.NewHTTP(target.HTTPConfig{URL: "http://127.0.0.1:1", ResponsePath: "a", Body: "{{.Nope}}"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Complete(context.Background(), userReq("x"))
	checkErr(t, err, wantErr{target.KindClient, 0, 0, "render body template"})
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"a", []string{"a"}, false},
		{"choices.0.message.content", []string{"choices", "0", "message", "content"}, false},
		{`a\.b.c`, []string{"a.b", "c"}, false},
		{`a\\.b`, []string{`a\`, "b"}, false},
		{"", nil, true},
		{".a", nil, true},
		{"a.", nil, true},
		{"a..b", nil, true},
		{`a\`, nil, true},
		{`a\x`, nil, true},
	}
	for _, tc := range tests {
		got, err := target.ParsePath(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParsePath(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err != nil && !errors.Is(err, target.ErrBadPath) {
			t.Errorf("ParsePath(%q) error = %v, want ErrBadPath", tc.in, err)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("ParsePath(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestWalk(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"a":[{"b":"x"},null,[1,2]],"c.d":true}`), &doc)
	tests := []struct {
		path string
		want any
		err  string
	}{
		{"a.0.b", "x", ""},
		{"a.1", nil, ""},
		{"a.2.1", float64(2), ""},
		{`c\.d`, true, ""},
		{"a.3", nil, "index 3 out of range (length 3) at \"a\""},
		{"a.-1", nil, "not an array index"},
		{"a.01", nil, "not an array index"},
		{"a.0.b.c", nil, `cannot take "c" of a string at "a.0.b"`},
		{"a.1.x", nil, "cannot take \"x\" of null"},
		{"z", nil, `key "z" not found at the root`},
	}
	for _, tc := range tests {
		p, err := target.ParsePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := target.Walk(doc, p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Walk(%q) error = %v, want %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("Walk(%q) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}

// FuzzWalk checks that no path and no JSON document make the path parser
// or the walker panic, and that a successful walk of a parsed path
// round-trips through JSON.
func FuzzWalk(f *testing.F) {
	f.Add("choices.0.message.content", []byte(`{"choices":[{"message":{"content":"hi"}}]}`))
	f.Add("content.0.text", []byte(`{"content":[{"type":"text","text":"Hello"}]}`))
	f.Add(`a\.b.1`, []byte(`{"a.b":[0,{"x":1}]}`))
	f.Add("0.0.0", []byte(`[[[null]]]`))
	f.Add("a.99999999999999999999", []byte(`{"a":[1]}`))
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		p, err := target.ParsePath(path)
		if err != nil {
			if !errors.Is(err, target.ErrBadPath) {
				t.Fatalf("ParsePath(%q) error %v does not wrap ErrBadPath", path, err)
			}
			return
		}
		for _, seg := range p {
			if seg == "" {
				t.Fatalf("ParsePath(%q) = %q has an empty segment", path, p)
			}
		}
		var v any
		if json.Unmarshal(doc, &v) != nil {
			return
		}
		got, err := target.Walk(v, p)
		if err != nil {
			return
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("Walk result %v does not marshal: %v", got, err)
		}
	})
}
