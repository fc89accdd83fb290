package attest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// PEM block types written and read by this package.
const (
	pemPrivateKey          = "PRIVATE KEY"           // PKCS#8
	pemEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY" // PKCS#8 EncryptedPrivateKeyInfo (RFC 5958)
	pemPublicKey           = "PUBLIC KEY"            // PKIX SubjectPublicKeyInfo
)

// pbkdf2Iterations is the work factor for passphrase-protected keys:
// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
const pbkdf2Iterations = 600_000

// maxPBKDF2Iterations bounds the work an untrusted key file can demand.
const maxPBKDF2Iterations = 10_000_000

// ErrPassphrase is returned by ParsePrivateKey when the key is encrypted and
// the passphrase is missing or wrong.
var ErrPassphrase = errors.New("wrong or missing passphrase")

// ErrKeyType is returned when a key is not ECDSA P-256, the only kind
// Clearance signs with (the one every Sigstore and OMS verifier accepts).
var ErrKeyType = errors.New("key is not ECDSA P-256")

// GenerateKey returns a new ECDSA P-256 signing key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MarshalPrivateKey encodes key as PEM. With an empty passphrase the block is
// an unencrypted PKCS#8 "PRIVATE KEY". Otherwise it is a PKCS#8
// "ENCRYPTED PRIVATE KEY" (RFC 5958) under PBES2 (RFC 8018) with
// PBKDF2-HMAC-SHA256 (600,000 iterations, 16-byte salt) and AES-256-CBC:
// the standard scheme, readable by `openssl pkey`, built from the standard
// library alone.
func MarshalPrivateKey(key *ecdsa.PrivateKey, passphrase []byte) ([]byte, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, ErrKeyType
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	if len(passphrase) == 0 {
		return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
	}
	enc, err := encryptPKCS8(der, passphrase, pbkdf2Iterations)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedPrivateKey, Bytes: enc}), nil
}

// ParsePrivateKey decodes a PEM private key written by MarshalPrivateKey (or
// any PKCS#8 P-256 key, encrypted with PBES2/PBKDF2-HMAC-SHA256/AES-CBC).
// It returns ErrPassphrase when the key is encrypted and passphrase does not
// open it, and ErrKeyType for keys other than ECDSA P-256.
func ParsePrivateKey(data, passphrase []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parse private key: no PEM block")
	}
	der := block.Bytes
	switch block.Type {
	case pemPrivateKey:
	case pemEncryptedPrivateKey:
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("parse private key: key is encrypted: %w", ErrPassphrase)
		}
		var err error
		if der, err = decryptPKCS8(der, passphrase); err != nil {
			return nil, fmt.Errorf("parse private key: %w", err)
		}
	default:
		return nil, fmt.Errorf("parse private key: PEM type %q, want %q or %q", block.Type, pemPrivateKey, pemEncryptedPrivateKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if block.Type == pemEncryptedPrivateKey {
			// A wrong passphrase that happens to leave valid padding.
			return nil, fmt.Errorf("parse private key: %w", ErrPassphrase)
		}
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("parse private key: %w", ErrKeyType)
	}
	return ek, nil
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" (PKIX), the format
// cosign and the OMS tools read.
func MarshalPublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, ErrKeyType
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// ParsePublicKey decodes a PEM "PUBLIC KEY"; it returns ErrKeyType for keys
// other than ECDSA P-256.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parse public key: no PEM block")
	}
	if block.Type != pemPublicKey {
		return nil, fmt.Errorf("parse public key: PEM type %q, want %q", block.Type, pemPublicKey)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("parse public key: %w", ErrKeyType)
	}
	return ek, nil
}

// KeyHint returns the identifier of pub written in a bundle's
// verificationMaterial.publicKey.hint: base64 of SHA-256 over the PKIX DER,
// sigstore-go's convention. Verifiers treat it as a hint only.
func KeyHint(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// WriteKeyFiles writes key to prefix+".key" (mode 0600, encrypted when
// passphrase is non-empty) and its public key to prefix+".pub" (mode
// 0644). It refuses to overwrite an existing private key.
func WriteKeyFiles(prefix string, key *ecdsa.PrivateKey, passphrase []byte) error {
	priv, err := MarshalPrivateKey(key, passphrase)
	if err != nil {
		return err
	}
	pub, err := MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(prefix+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	if _, err := f.Write(priv); err != nil {
		f.Close()
		return fmt.Errorf("write private key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	if err := os.WriteFile(prefix+".pub", pub, 0o644); err != nil {
		return fmt.Errorf("write public key: %w", err)
	}
	return nil
}

var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
)

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

func encryptPKCS8(der, passphrase []byte, iter int) ([]byte, error) {
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, string(passphrase), salt, iter, 32)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(der)%aes.BlockSize
	plain := append(append([]byte(nil), der...), make([]byte, pad)...)
	for i := len(der); i < len(plain); i++ {
		plain[i] = byte(pad)
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, plain)

	kdf, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: iter, PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue}})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Scheme: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algo: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		Data: ct,
	})
}

func decryptPKCS8(der, passphrase []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed EncryptedPrivateKeyInfo")
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("unsupported key encryption %v, want PBES2", info.Algo.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("unsupported key derivation %v, want PBKDF2", params.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kp); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	if !kp.PRF.Algorithm.Equal(oidHMACWithSHA256) {
		return nil, fmt.Errorf("unsupported PBKDF2 PRF %v, want HMAC-SHA256", kp.PRF.Algorithm)
	}
	if kp.Iterations < 1 || kp.Iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("PBKDF2 iteration count %d out of range", kp.Iterations)
	}
	var keyLen int
	switch {
	case params.Scheme.Algorithm.Equal(oidAES256CBC):
		keyLen = 32
	case params.Scheme.Algorithm.Equal(oidAES128CBC):
		keyLen = 16
	default:
		return nil, fmt.Errorf("unsupported cipher %v, want AES-CBC", params.Scheme.Algorithm)
	}
	if kp.KeyLength != 0 && kp.KeyLength != keyLen {
		return nil, fmt.Errorf("PBKDF2 key length %d does not match cipher", kp.KeyLength)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 || len(iv) != aes.BlockSize {
		return nil, errors.New("malformed AES-CBC IV")
	}
	if len(info.Data) == 0 || len(info.Data)%aes.BlockSize != 0 {
		return nil, errors.New("encrypted key is not a whole number of blocks")
	}
	key, err := pbkdf2.Key(sha256.New, string(passphrase), kp.Salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(plain, info.Data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, ErrPassphrase
	}
	want := make([]byte, pad)
	for i := range want {
		want[i] = byte(pad)
	}
	if subtle.ConstantTimeCompare(plain[len(plain)-pad:], want) != 1 {
		return nil, ErrPassphrase
	}
	return plain[:len(plain)-pad], nil
}
