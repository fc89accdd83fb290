package ui

import (
	"bytes"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

func testHandler(t testing.TB) *Handler {
	t.Helper()
	h, err := New(Config{Service: &review.Service{}, SessionKey: bytes.Repeat([]byte{9}, SessionKeySize),
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSealOpen(t *testing.T) {
	h := testHandler(t)
	want := session{Token: "tok", CSRF: "c", Expires: 1_800_000_100}
	v, err := h.seal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.open(v)
	if err != nil || got != want {
		t.Fatalf("open(seal(%+v)) = %+v, %v", want, got, err)
	}
	expired, _ := h.seal(session{Token: "tok", CSRF: "c", Expires: 1_800_000_000})
	other := testHandler(t)
	other.secure = true // another cookie name: a value sealed for one name does not open under another
	for name, v := range map[string]string{"expired": expired, "empty": "", "garbage": "!!!", "short": "AAAA"} {
		if _, err := h.open(v); err == nil {
			t.Errorf("open(%s) accepted", name)
		}
	}
	if _, err := other.open(v); err == nil {
		t.Error("a cookie opened under another cookie name")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/cases", "/cases/x": "/cases/x", "//evil.example": "/cases", "/\\evil.example": "/cases",
		"https://evil.example/": "/cases", "/a\r\nSet-Cookie: x": "/cases", "cases": "/cases",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAfterField(t *testing.T) {
	for _, tc := range []struct{ msg, field, want string }{
		{"record finding: title: empty: invalid input", "title", "empty: invalid input"},
		{"schedule assessment of case c: suites[1]: \"X\" is not a suite name: invalid input", "suites", "\"X\" is not a suite name: invalid input"},
		{"plan assessment: suites: unknown suite \"x\": invalid input", "suites", "unknown suite \"x\": invalid input"},
		{"subtitle: bad", "title", ""},
	} {
		got, ok := afterField(tc.msg, tc.field)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("afterField(%q, %q) = %q, %v; want %q", tc.msg, tc.field, got, ok, tc.want)
		}
	}
}

// FuzzOpen feeds arbitrary cookie values to open: none may panic, and
// only values sealed under the key open (the only session ever sealed
// under this test key is want; seal's nonce differs per process, so the
// check is on the content).
func FuzzOpen(f *testing.F) {
	h := testHandler(f)
	want := session{Token: "tok", CSRF: "c", Expires: 1_900_000_000}
	v, err := h.seal(want)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add(v[:len(v)-1])
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := h.open(s)
		if err == nil && got != want {
			t.Fatalf("open(%q) = %+v, want an error: only sealed values open", s, got)
		}
	})
}

func FuzzAfterField(f *testing.F) {
	f.Add("record finding: title: empty: invalid input", "title")
	f.Add("x: suites[3]: bad", "suites")
	f.Fuzz(func(t *testing.T, msg, field string) {
		if field == "" {
			return
		}
		rest, ok := afterField(msg, field)
		if ok && !bytes.Contains([]byte(msg), []byte(rest)) {
			t.Fatalf("afterField(%q, %q) = %q, not part of the message", msg, field, rest)
		}
	})
}
