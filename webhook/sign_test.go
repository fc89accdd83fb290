package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = []byte("whsec_test-secret")
	testTime   = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	testBody   = []byte(`{"id":"evt_42","type":"case.transition","seq":42}`)
)

// TestSignVector pins the scheme: a receiver reimplementing it (see
// docs/webhooks.md) must get this value. The MAC was computed
// independently with
//
//	printf '%s' '1782907200.{"id":"evt_42","type":"case.transition","seq":42}' |
//	  openssl dgst -sha256 -hmac 'whsec_test-secret'
func TestSignVector(t *testing.T) {
	got := Sign(testSecret, testTime, testBody)
	want := "t=1782907200,v1=" + vectorMAC
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	sig := Sign(testSecret, testTime, testBody)
	other := Sign([]byte("whsec_other"), testTime, testBody)
	v1 := func(h string) string { _, v, _ := strings.Cut(h, ",v1="); return v }
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error  // sentinel, nil for success
		msg    string // substring of the error
	}{
		{name: "ok", header: sig},
		{name: "ok at tolerance past", header: sig, now: testTime.Add(DefaultTolerance)},
		{name: "ok at tolerance future", header: sig, now: testTime.Add(-DefaultTolerance)},
		{name: "ok with spaces", header: "t=1782907200, v1=" + v1(sig)},
		{name: "ok fields reordered", header: "v1=" + v1(sig) + ",t=1782907200"},
		{name: "ok unknown scheme ignored", header: sig + ",v0=abc,v2=zz"},
		{name: "ok uppercase hex", header: "t=1782907200,v1=" + strings.ToUpper(v1(sig))},
		{name: "rotation new first", header: "t=1782907200,v1=" + v1(sig) + ",v1=" + v1(other)},
		{name: "rotation old first", header: "t=1782907200,v1=" + v1(other) + ",v1=" + v1(sig)},
		{name: "rotation receiver has other", secret: []byte("whsec_other"),
			header: "t=1782907200,v1=" + v1(sig) + ",v1=" + v1(other)},
		{name: "tampered body", header: sig, body: []byte(`{"id":"evt_43","type":"case.transition","seq":42}`),
			want: ErrSignatureMismatch},
		{name: "empty body", header: sig, body: []byte{}, want: ErrSignatureMismatch},
		{name: "wrong secret", secret: []byte("whsec_wrong"), header: sig, want: ErrSignatureMismatch},
		{name: "timestamp altered", header: "t=1782907201,v1=" + v1(sig), now: testTime, want: ErrSignatureMismatch},
		{name: "stale", header: sig, now: testTime.Add(DefaultTolerance + time.Second),
			want: ErrSignatureTime, msg: "signed 5m1s ago"},
		{name: "future", header: sig, now: testTime.Add(-DefaultTolerance - time.Second),
			want: ErrSignatureTime, msg: "5m1s in the future"},
		{name: "stale but wrong secret is mismatch", secret: []byte("x"), header: sig,
			now: testTime.Add(time.Hour), want: ErrSignatureMismatch},
		{name: "empty header", header: "", want: ErrMalformedSignature, msg: "empty header"},
		{name: "no timestamp", header: "v1=" + v1(sig), want: ErrMalformedSignature, msg: "no timestamp"},
		{name: "no signature", header: "t=1782907200", want: ErrMalformedSignature, msg: "no v1 signature"},
		{name: "only other schemes", header: "t=1782907200,v0=" + v1(sig), want: ErrMalformedSignature, msg: "no v1"},
		{name: "two timestamps", header: "t=1782907200,t=1782907200,v1=" + v1(sig),
			want: ErrMalformedSignature, msg: "field 2: second timestamp"},
		{name: "negative timestamp", header: "t=-1,v1=" + v1(sig), want: ErrMalformedSignature, msg: "field 1: timestamp"},
		{name: "signed timestamp", header: "t=+1782907200,v1=" + v1(sig), want: ErrMalformedSignature, msg: "decimal seconds"},
		{name: "empty timestamp", header: "t=,v1=" + v1(sig), want: ErrMalformedSignature, msg: "empty"},
		{name: "huge timestamp", header: "t=99999999999999999999,v1=" + v1(sig), want: ErrMalformedSignature, msg: "too many digits"},
		{name: "no equals", header: "t1782907200,v1=" + v1(sig), want: ErrMalformedSignature, msg: "field 1: want key=value"},
		{name: "empty field", header: sig + ",", want: ErrMalformedSignature, msg: "field 3: want key=value"},
		{name: "short signature", header: "t=1782907200,v1=abcd", want: ErrMalformedSignature, msg: "field 2: v1 signature has 4 characters"},
		{name: "not hex", header: "t=1782907200,v1=" + strings.Repeat("g", 64), want: ErrMalformedSignature, msg: "not hex"},
		{name: "too long", header: sig + strings.Repeat(",x=y", 2000), want: ErrMalformedSignature, msg: "more than 4096"},
		{name: "too many signatures", header: "t=1782907200" + strings.Repeat(",v1="+v1(sig), 9),
			want: ErrMalformedSignature, msg: "more than 8 v1"},
		{name: "empty secret", secret: []byte{}, header: sig, msg: "empty secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, body, now := tt.secret, tt.body, tt.now
			if secret == nil {
				secret = testSecret
			}
			if body == nil {
				body = testBody
			}
			if now.IsZero() {
				now = testTime.Add(30 * time.Second)
			}
			err := Verify(secret, tt.header, body, now, DefaultTolerance)
			if tt.want == nil && tt.msg == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify = nil, want error %v %q", tt.want, tt.msg)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want it to wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Verify = %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	sig := Sign(testSecret, testTime, testBody)
	for _, tol := range []time.Duration{0, -time.Second} {
		if err := Verify(testSecret, sig, testBody, testTime, tol); err == nil || !strings.Contains(err.Error(), "not positive") {
			t.Errorf("Verify(tolerance %v) = %v, want a not positive error", tol, err)
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	a, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+43 || a == b {
		t.Fatalf("GenerateSecret = %q, %q; want two distinct whsec_ secrets of 49 characters", a, b)
	}
}

// FuzzVerify feeds arbitrary headers to Verify's parser. Verify must not
// panic, must accept a header only if it carries the body's true
// signature, and must accept what Sign makes.
func FuzzVerify(f *testing.F) {
	sig := Sign(testSecret, testTime, testBody)
	for _, s := range []string{
		sig,
		sig + ",v1=" + strings.Repeat("0", 64),
		"t=1782907200",
		"v1=" + vectorMAC,
		"t=1782907200, v1=" + vectorMAC,
		"t=-1,v1=00",
		"t=1782907200,t=1,v1=" + vectorMAC,
		",,,",
		"=",
		"t=1782907200,v1=" + strings.ToUpper(vectorMAC),
	} {
		f.Add(s, testBody, int64(0))
	}
	f.Fuzz(func(t *testing.T, header string, body []byte, unix int64) {
		now := testTime.Add(30 * time.Second)
		err := Verify(testSecret, header, testBody, now, DefaultTolerance)
		if err == nil && !strings.Contains(strings.ToLower(header), vectorMAC) {
			t.Fatalf("Verify accepted %q, which lacks the body's signature", header)
		}
		if err != nil && !errors.Is(err, ErrMalformedSignature) && !errors.Is(err, ErrSignatureMismatch) &&
			!errors.Is(err, ErrSignatureTime) {
			t.Fatalf("Verify(%q) = %v, which wraps no sentinel", header, err)
		}
		at := time.Unix(unix%(1<<36), 0) // within parseUnix's 12 digits
		if unix < 0 {
			at = time.Unix(-unix%(1<<36), 0)
		}
		if err := Verify(testSecret, Sign(testSecret, at, body), body, at, time.Second); err != nil {
			t.Fatalf("Verify(Sign(%v, %q)) = %v", at, body, err)
		}
	})
}

// vectorMAC is the v1 signature of testBody at testTime under testSecret,
// computed with openssl (see TestSignVector).
const vectorMAC = "1a72e56c289d64e6e3cf19be93bd419dcac26727c916f1b945a795b30bbfb506"

func BenchmarkVerify(b *testing.B) {
	body := []byte(strings.Repeat(`{"id":"evt_42","type":"case.transition"}`, 10))
	sig := Sign(testSecret, testTime, body)
	for b.Loop() {
		if err := Verify(testSecret, sig, body, testTime, DefaultTolerance); err != nil {
			b.Fatal(err)
		}
	}
}
