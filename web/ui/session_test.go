package ui

import (
	"bytes"
	"strings"
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

// TestSafeNext checks post-sign-in redirects against the ways a browser
// reads a Location (WHATWG URL): tabs and newlines anywhere are dropped,
// leading and trailing C0 controls and spaces are trimmed, and a
// backslash is a slash. Each off-site case is a redirect a browser would
// follow to evil.example if it were kept.
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/cases"},
		{"/cases/x", "/cases/x"},
		{"/cases?state=open&q=a+b", "/cases?state=open&q=a+b"},
		{"/cases/x#findings", "/cases/x#findings"},
		{"/", "/"},
		{"cases", "/cases"},
		// Scheme-relative and backslash forms.
		{"//evil.example", "/cases"},
		{"///evil.example", "/cases"},
		{"/\\evil.example", "/cases"},
		{"\\/evil.example", "/cases"},
		{"\\\\evil.example", "/cases"},
		{"\\/\\/evil.example", "/cases"},
		// Tabs and newlines, which browsers strip before parsing: the
		// finding of issue 10 (/%09/ decodes to a tab).
		{"/\t/evil.example/", "/cases"},
		{"/\n/evil.example", "/cases"},
		{"/\r/evil.example", "/cases"},
		{"\t//evil.example", "/cases"},
		{"/\t\\evil.example", "/cases"},
		{"/\r\n/evil.example", "/cases"},
		{"/\t\t/evil.example", "/cases"},
		// Leading and trailing C0 controls and spaces are trimmed.
		{"  //evil.example", "/cases"},
		{"\x00//evil.example", "/cases"},
		{"\x1f/\\evil.example", "/cases"},
		{" /cases ", "/cases"},
		{"\x0b/cases\x0c", "/cases"},
		// Schemes, with and without slashes.
		{"https://evil.example/", "/cases"},
		{"https:evil.example", "/cases"},
		{"https:/evil.example", "/cases"},
		{"HTTPS://evil.example", "/cases"},
		{"javascript:alert(1)", "/cases"},
		{"java\tscript:alert(1)", "/cases"},
		{"data:text/html,x", "/cases"},
		// Header injection and other control characters.
		{"/a\r\nSet-Cookie: x", "/aSet-Cookie:%20x"},
		{"/a\x00b", "/cases"},
		{"/a\x7fb", "/cases"},
		// Encoded forms stay paths on this site (a browser does not
		// decode %2F, %5C or %09 in a path).
		{"/%5Cevil.example", "/%5Cevil.example"},
		{"/%2F/evil.example", "/%2F/evil.example"},
		{"/%09/evil.example/", "/%09/evil.example/"},
		// Unicode: full-width solidus is no slash to a browser either;
		// non-ASCII is escaped.
		{"/\uff0f/evil.example", "/%EF%BC%8F/evil.example"},
		{"\uff0f\uff0fevil.example", "/cases"},
		{"/ünïcode", "/%C3%BCn%C3%AFcode"},
		{"/a\\b", "/a%5Cb"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeNext checks the invariant whatever the input: the result starts
// with one "/" (not "//" or "/\\", even after a browser drops tabs and
// newlines) and holds no control character.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/cases", "/\t/evil.example/", "//x", "/\\x", " /a", "https:x", "/%09/x", "\x00/", "/a?b#c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := safeNext(in)
		if len(got) == 0 || got[0] != '/' || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("safeNext(%q) = %q: not a path on this site", in, got)
		}
		if strings.IndexFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			t.Fatalf("safeNext(%q) = %q: holds a control character", in, got)
		}
		if again := safeNext(got); again != got {
			t.Fatalf("safeNext(%q) = %q, but safeNext of that = %q", in, got, again)
		}
	})
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
