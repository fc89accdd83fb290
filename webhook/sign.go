package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the request header that carries the signature made
// by Sign. Receivers check it with Verify.
const SignatureHeader = "Clearance-Signature"

// EventHeader carries the event's type (the audit action, such as
// "case.transition"); DeliveryHeader a delivery id that stays the same
// across retries of one event to one webhook, for receivers to dedupe.
const (
	EventHeader    = "Clearance-Event"
	DeliveryHeader = "Clearance-Delivery"
)

// DefaultTolerance is the tolerance receivers should pass to Verify
// unless they have a reason to choose another: how far a signature's
// timestamp may lie from the receiver's clock, either way.
const DefaultTolerance = 5 * time.Minute

// maxHeaderLen bounds the signature header Verify accepts: one timestamp
// and a few signatures fit in far less.
const maxHeaderLen = 4096

// maxSignatures bounds the v1 values in one header. Senders send one, or
// two while rotating a secret.
const maxSignatures = 8

// ErrMalformedSignature is returned (wrapped, with the problem and where)
// by Verify when the signature header cannot be parsed.
var ErrMalformedSignature = errors.New("malformed webhook signature")

// ErrSignatureMismatch is returned by Verify when no v1 signature in the
// header is the HMAC of the body under the secret: the body was altered,
// or it was signed with another secret.
var ErrSignatureMismatch = errors.New("webhook signature does not match")

// ErrSignatureTime is returned (wrapped, with the offset) by Verify when
// a correctly signed timestamp is further from now than the tolerance:
// a stale signature, possibly a replay, or one from the future.
var ErrSignatureTime = errors.New("webhook signature timestamp out of tolerance")

// Sign returns the value of the Clearance-Signature header for body sent
// at t: "t=<unix seconds>,v1=<lowercase hex HMAC-SHA256>", where the MAC
// is computed with secret as key over the decimal timestamp, a full stop
// and the body ("<unix>.<body>"). The scheme is that of Stripe's
// webhook signatures, so receivers' existing code for it can be reused.
// Binding the timestamp into the MAC lets receivers refuse replays of
// old deliveries.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Clearance-Signature header value against the raw
// request body (exactly the bytes received, before any JSON decoding).
// It returns nil if one of the header's v1 signatures (a sender rotating
// its secret sends one per secret) is the HMAC of the body under secret
// and the signed timestamp lies within tolerance of now, either way. It
// returns an error wrapping ErrMalformedSignature when the header cannot
// be parsed, ErrSignatureMismatch when no signature matches, and
// ErrSignatureTime when the signature matches but the timestamp is out
// of tolerance. Signatures are compared in constant time. Fields other
// than t and v1 are ignored, so that new schemes can be added. An empty
// secret or a tolerance that is not positive is an error: the check
// fails closed.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return errors.New("verify webhook signature: empty secret")
	}
	if tolerance <= 0 {
		return fmt.Errorf("verify webhook signature: tolerance %v is not positive", tolerance)
	}
	h, err := parseHeader(header)
	if err != nil {
		return fmt.Errorf("verify webhook signature: %w", err)
	}
	want := mac(secret, h.ts, body)
	ok := false
	for _, s := range h.sigs {
		// Check every signature, so the time taken does not say which
		// one matched.
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("verify webhook signature: %w", ErrSignatureMismatch)
	}
	signed := time.Unix(h.unix, 0)
	switch d := now.Sub(signed); {
	case d > tolerance:
		return fmt.Errorf("verify webhook signature: signed %v ago, more than the tolerance %v: %w",
			d.Truncate(time.Second), tolerance, ErrSignatureTime)
	case -d > tolerance:
		return fmt.Errorf("verify webhook signature: signed %v in the future, more than the tolerance %v: %w",
			(-d).Truncate(time.Second), tolerance, ErrSignatureTime)
	}
	return nil
}

// header is a parsed signature header.
type header struct {
	ts   string // the timestamp as sent, the MAC's input
	unix int64
	sigs [][]byte
}

// parseHeader parses "t=<digits>,v1=<64 hex>[,v1=…]" with fields in any
// order and optional spaces around each field. Errors wrap
// ErrMalformedSignature and name the field at fault by its position.
func parseHeader(s string) (header, error) {
	var h header
	if s == "" {
		return h, fmt.Errorf("%w: empty header", ErrMalformedSignature)
	}
	if len(s) > maxHeaderLen {
		return h, fmt.Errorf("%w: header is %d bytes, more than %d", ErrMalformedSignature, len(s), maxHeaderLen)
	}
	seenT := false
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return h, fmt.Errorf("%w: field %d: want key=value, got %q", ErrMalformedSignature, i+1, clip(f))
		}
		switch k {
		case "t":
			if seenT {
				return h, fmt.Errorf("%w: field %d: second timestamp", ErrMalformedSignature, i+1)
			}
			seenT = true
			n, err := parseUnix(v)
			if err != nil {
				return h, fmt.Errorf("%w: field %d: timestamp %q: %v", ErrMalformedSignature, i+1, clip(v), err)
			}
			h.ts, h.unix = v, n
		case "v1":
			if len(h.sigs) == maxSignatures {
				return h, fmt.Errorf("%w: field %d: more than %d v1 signatures", ErrMalformedSignature, i+1, maxSignatures)
			}
			if len(v) != 2*sha256.Size {
				return h, fmt.Errorf("%w: field %d: v1 signature has %d characters, want %d hex digits",
					ErrMalformedSignature, i+1, len(v), 2*sha256.Size)
			}
			b, err := hex.DecodeString(v)
			if err != nil {
				return h, fmt.Errorf("%w: field %d: v1 signature is not hex", ErrMalformedSignature, i+1)
			}
			h.sigs = append(h.sigs, b)
		}
	}
	if !seenT {
		return h, fmt.Errorf("%w: no timestamp (t=)", ErrMalformedSignature)
	}
	if len(h.sigs) == 0 {
		return h, fmt.Errorf("%w: no v1 signature", ErrMalformedSignature)
	}
	return h, nil
}

// parseUnix parses a non-negative decimal count of seconds. Unlike
// strconv.ParseInt it refuses signs, so that each timestamp has one
// spelling the sender could have signed.
func parseUnix(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if len(s) > 12 {
		// Year 33658 and beyond: not a time a sender signs.
		return 0, errors.New("too many digits")
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, errors.New("want decimal seconds since 1970")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// clip shortens untrusted text quoted in an error.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// secretPrefix marks webhook secrets so that secret scanners can find
// leaked ones.
const secretPrefix = "whsec_"

// GenerateSecret returns a new webhook secret: "whsec_" and 32 random
// bytes in unpadded base64url. The whole string, as UTF-8 bytes, is the
// HMAC key on both sides.
func GenerateSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
