package review

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
)

// Sealer encrypts secrets before they reach a Store and decrypts them for
// the roles that need them. Implementations must be safe for concurrent
// use.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}

// AgeSealer seals to an age X25519 identity's recipient and opens with
// the identity. It is safe for concurrent use.
type AgeSealer struct {
	id *age.X25519Identity
}

var _ Sealer = (*AgeSealer)(nil)

// NewAgeSealer returns a sealer for an age identity string
// ("AGE-SECRET-KEY-1…").
func NewAgeSealer(identity string) (*AgeSealer, error) {
	id, err := age.ParseX25519Identity(strings.TrimSpace(identity))
	if err != nil {
		return nil, fmt.Errorf("parse age identity: %w", err)
	}
	return &AgeSealer{id: id}, nil
}

// GenerateAgeIdentity returns a new age identity string for NewAgeSealer.
func GenerateAgeIdentity() (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", fmt.Errorf("generate age identity: %w", err)
	}
	return id.String(), nil
}

// Seal encrypts plaintext to the sealer's recipient.
func (s *AgeSealer) Seal(plaintext []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, s.id.Recipient())
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return buf.Bytes(), nil
}

// Open decrypts ciphertext made by Seal with the same identity.
func (s *AgeSealer) Open(ciphertext []byte) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ciphertext), s.id)
	if err != nil {
		return nil, fmt.Errorf("open sealed secret: %w", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("open sealed secret: %w", err)
	}
	return b, nil
}

// tokenPrefix marks Clearance API tokens so that secret scanners can find
// leaked ones.
const tokenPrefix = "clr_"

// newToken returns a fresh token secret (32 random bytes) and its hash.
func newToken() (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [32]byte{}, fmt.Errorf("generate token: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// HashToken returns the SHA-256 of a token secret, as stored.
func HashToken(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// newID returns a new id for kind: the kind, an underscore, the creation
// time in milliseconds as 12 hex digits (so that ids sort by creation,
// which pagination relies on) and 10 random bytes in hex. Within one
// process ids are strictly increasing: an id made in the same millisecond
// as the previous one (or with a clock that went back) takes the
// previous id's time and random part plus one, as ULIDs do, so that
// "created first" and "smallest id" agree (the service's home agency is
// the first agency by id).
func newID(kind string, now time.Time) (string, error) {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	lastID.Lock()
	defer lastID.Unlock()
	if bytes.Compare(b[:6], lastID.b[:6]) <= 0 {
		b = lastID.b
		for i := 15; i >= 6; i-- { // the random part plus one
			b[i]++
			if b[i] != 0 {
				break
			}
		}
	}
	lastID.b = b
	return kind + "_" + hex.EncodeToString(b[:]), nil
}

// lastID is the last id newID made in this process.
var lastID struct {
	sync.Mutex
	b [16]byte
}
