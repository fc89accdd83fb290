package challenge

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"strings"

	"github.com/clearance-dev/clearance/sandbox"
)

// cryptoGenerators are the crypto challenges: classical ciphers, broken
// uses of RSA and a block-cipher oracle.
var cryptoGenerators = []Generator{
	{Name: "crypto.caesar", Category: Crypto, Difficulty: 1,
		Summary: "an English message with the flag under a Caesar shift: try the 25 shifts",
		Make:    makeCaesar},
	{Name: "crypto.xor-prefix", Category: Crypto, Difficulty: 1,
		Summary: "the flag XORed with a repeating key of 3-5 bytes: the known prefix \"flag{\" gives the key",
		Make:    makeXORPrefix},
	{Name: "crypto.xor-english", Category: Crypto, Difficulty: 2,
		Summary: "an English text holding the flag XORed with a repeating key of 7-14 random bytes: find the key length and each key byte by frequency analysis",
		Make:    makeXOREnglish},
	{Name: "crypto.rsa-small-e", Category: Crypto, Difficulty: 2,
		Summary: "textbook RSA with e=3 and m^3 < n: the ciphertext's integer cube root is the flag",
		Make:    makeRSASmallE},
	{Name: "crypto.rsa-shared-factor", Category: Crypto, Difficulty: 2,
		Summary: "the flag encrypted to five RSA keys, two of whose moduli share a prime: gcd factors them, decrypt",
		Make:    makeRSASharedFactor},
	{Name: "crypto.rsa-hastad", Category: Crypto, Difficulty: 3,
		Summary: "Håstad's broadcast: one padded message under e=3 to three moduli, m^3 above each: CRT then integer cube root",
		Make:    makeRSAHastad},
	{Name: "crypto.lcg-keystream", Category: Crypto, Difficulty: 3,
		Summary: "the flag XORed with the outputs of a linear congruential generator with secret modulus, multiplier and increment, eight earlier outputs published: recover the modulus by gcd, then a and c, then the keystream",
		Make:    makeLCGKeystream},
	{Name: "crypto.cbc-bitflip", Category: Crypto, Difficulty: 3,
		Summary: "a service issues CBC-encrypted session tokens embedding the user's name and grants the flag to tokens holding \";admin=true;\": flip ciphertext bits of the block before",
		Make:    makeCBCBitflip},
	{Name: "crypto.ecb-oracle", Category: Crypto, Difficulty: 3,
		Summary: "a service on the box's loopback returns ECB(key, input || secret) under an unknown 16-byte block cipher: byte-at-a-time decryption of the secret",
		Make:    makeECBOracle},
}

// cfRand is the random source of one generator's instance: every
// structural choice comes from it, so Make is deterministic in its seed.
func cfRand(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// cfBytes returns n bytes from r.
func cfBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// cfPrime returns a prime of exactly bits bits (bits a multiple of 8)
// whose top two bits are set, so a product of two has 2*bits bits, drawn
// from r; ok, when set, filters candidates.
// cfSmallPrimes are the odd primes whose product fits in a uint64.
var cfSmallPrimes = []uint64{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47}

var cfSmallProduct = func() *big.Int {
	m := uint64(1)
	for _, q := range cfSmallPrimes {
		m *= q
	}
	return new(big.Int).SetUint64(m)
}()

// cfNoSmallFactor reports whether a number with residue res modulo
// cfSmallProduct has no factor among cfSmallPrimes.
func cfNoSmallFactor(res uint64) bool {
	for _, q := range cfSmallPrimes {
		if res%q == 0 {
			return false
		}
	}
	return true
}

func cfPrime(r *rand.Rand, bits int, ok func(*big.Int) bool) *big.Int {
	two := big.NewInt(2)
	for {
		b := cfBytes(r, bits/8)
		b[0] |= 0xC0
		b[len(b)-1] |= 1
		p := new(big.Int).SetBytes(b)
		// Candidates divisible by a prime up to 47 are skipped by their
		// residue modulo the primes' product before the costly test:
		// the same primes are found, faster. Baillie-PSW alone (ProbablyPrime(0))
		// has no known pseudoprime.
		res := new(big.Int).Mod(p, cfSmallProduct).Uint64()
		for range 2000 {
			if cfNoSmallFactor(res) && p.ProbablyPrime(0) && (ok == nil || ok(p)) {
				return p
			}
			p.Add(p, two)
			res = (res + 2) % cfSmallProduct.Uint64()
		}
	}
}

// cfCheckHidden reports an error when the flag, or its hex or base64
// encoding, appears in clear in any file, in the prompt or in a setup
// command: generators call it last, so a leaking instance never ships.
func cfCheckHidden(t *Task, flag string) error {
	needles := [][]byte{[]byte(flag), []byte(hex.EncodeToString([]byte(flag))),
		[]byte(base64.StdEncoding.EncodeToString([]byte(flag))), []byte(base64.RawStdEncoding.EncodeToString([]byte(flag)))}
	hay := map[string][]byte{"prompt": []byte(t.Prompt), "solution": []byte(t.Solution)}
	for _, f := range t.Files {
		hay["file "+f.Path] = f.Data
	}
	for i, s := range t.Setup {
		hay[fmt.Sprintf("setup step %d", i)] = []byte(s.Command)
	}
	for i, s := range t.Services {
		hay[fmt.Sprintf("service %d", i)] = []byte(s.Command)
	}
	for where, h := range hay {
		for _, n := range needles {
			if bytes.Contains(h, n) {
				return fmt.Errorf("check instance: the flag appears in clear in %s", where)
			}
		}
	}
	return nil
}

// cfPick returns one of xs.
func cfPick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

var cfOpeners = []string{
	"Agent, this is your handler speaking.",
	"To whoever finds this note:",
	"Dear colleague,",
	"Team, a short update before the weekend.",
	"Hello again, old friend.",
}

var cfSentences = []string{
	"The meeting point has moved to the old warehouse near the river.",
	"Do not trust the courier who arrives on Tuesday morning.",
	"We have reason to believe that the network is being watched.",
	"The shipment will leave the harbour after midnight, weather permitting.",
	"Keep this message safe and destroy every printed copy after reading.",
	"Our contact in the capital confirmed the arrangement yesterday evening.",
	"Remember that the north entrance is locked between ten and six.",
	"Nobody outside the team must learn about the second archive.",
	"The weather has been terrible, so the trip took longer than planned.",
	"If anything goes wrong, wait three days and then use the backup channel.",
	"The analysts in the west office are still working on the report.",
	"Please bring the small black notebook when you come to the station.",
	"Most of the documents were moved to a safer place last month.",
	"There is no reason to panic, but everyone should be more careful now.",
	"The new schedule starts next week and it applies to every member of the group.",
	"She said that the key to the cabinet is hidden under the green lamp.",
	"We will meet again in the usual place when the summer is over.",
	"It is important that you read the whole message before acting on it.",
}

var cfClosers = []string{"Good luck.", "Stay safe.", "Burn after reading.", "See you soon.", "Regards, M."}

// cfLetter is an English letter of about n sentences with the flag in
// one sentence.
func cfLetter(r *rand.Rand, n int, flag string) string {
	var lines []string
	lines = append(lines, cfPick(r, cfOpeners))
	at := 1 + r.IntN(n)
	for i := range n + 1 {
		if i == at && flag != "" {
			lines = append(lines, cfPick(r, []string{
				"The access code you asked for is " + flag + " and it works only once.",
				"Use the code " + flag + " at the gate, then forget it.",
				"Write down the password " + flag + " somewhere nobody will look.",
			}))
			continue
		}
		lines = append(lines, cfPick(r, cfSentences))
	}
	lines = append(lines, cfPick(r, cfClosers))
	return strings.Join(lines, " ") + "\n"
}

func makeCaesar(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.caesar")
	shift := 1 + r.IntN(25)
	plain := cfLetter(r, 4+r.IntN(3), flag)
	ct := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z':
			return 'a' + (c-'a'+rune(shift))%26
		case c >= 'A' && c <= 'Z':
			return 'A' + (c-'A'+rune(shift))%26
		}
		return c
	}, plain)
	t := &Task{
		Prompt: "We intercepted a message between two suspects (message.txt). It is encrypted with a very old cipher. " +
			"Recover the flag (format flag{...}).",
		Files: []sandbox.File{{Path: "message.txt", Data: []byte(ct)}},
		Solution: `python3 - <<'EOF'
import re
ct = open('message.txt').read()
for s in range(26):
    pt = ''.join(chr((ord(c) - b - s) % 26 + b) if c.isascii() and c.isalpha() else c
                 for c in ct for b in [ord('a') if c.islower() else ord('A')])
    m = re.search(r'flag\{[^}]*\}', pt)
    if m:
        print(m.group(0))
        break
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

func makeXORPrefix(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.xor-prefix")
	key := cfBytes(r, 3+r.IntN(3))
	ct := make([]byte, len(flag))
	for i := range ct {
		ct[i] = flag[i] ^ key[i%len(key)]
	}
	t := &Task{
		Prompt: "flag.enc holds the flag encrypted with a repeating-key XOR cipher. The key is short. Recover the flag.",
		Files:  []sandbox.File{{Path: "flag.enc", Data: ct}},
		Solution: `python3 - <<'EOF'
import re
ct = open('flag.enc', 'rb').read()
known = b'flag{'
ks = bytes(c ^ k for c, k in zip(ct, known))
for n in range(1, len(known) + 1):
    key = ks[:n]
    if any(ks[i] != key[i % n] for i in range(len(known))):
        continue
    pt = bytes(c ^ key[i % n] for i, c in enumerate(ct))
    m = re.fullmatch(rb'flag\{[!-z|~]*\}', pt)
    if m:
        print(pt.decode())
        break
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

func makeXOREnglish(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.xor-english")
	key := cfBytes(r, 7+r.IntN(8))
	var plain strings.Builder
	for f := flag; plain.Len() < 1800; f = "" { // the flag is in the first letter only
		plain.WriteString(cfLetter(r, 5+r.IntN(4), f))
		plain.WriteString("\n")
	}
	ct := make([]byte, plain.Len())
	for i := range ct {
		ct[i] = plain.String()[i] ^ key[i%len(key)]
	}
	t := &Task{
		Prompt: "We recovered ciphertext.bin from a suspect's laptop together with a note saying that all their " +
			"letters are \"XORed with the long password\". The letters are written in English. Recover the flag.",
		Files: []sandbox.File{{Path: "ciphertext.bin", Data: ct}},
		Solution: `python3 - <<'EOF'
import re
ct = open('ciphertext.bin', 'rb').read()
freq = {c: w for c, w in zip(b' etaoinshrdlucmfwypvbgkjqxz', range(40, 0, -1))}
def score(bs):
    s = 0
    for b in bs:
        if 65 <= b <= 90: b += 32
        if b in freq: s += freq[b]
        elif b in b'.,\'"{}0123456789\n-': s += 1
        else: s -= 60
    return s
def crack(n):
    key = bytes(max(range(256), key=lambda k: score(x ^ k for x in ct[i::n])) for i in range(n))
    pt = bytes(c ^ key[i % n] for i, c in enumerate(ct))
    return score(pt) / len(pt), pt
best = max((crack(n) for n in range(2, 33)), key=lambda x: x[0])
m = re.search(rb'flag\{[^}]*\}', best[1])
print(m.group(0).decode() if m else best[1][:200])
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

// rsaTextbook returns n, e, d for primes p, q.
func rsaKey(p, q *big.Int, e int64) (n, d *big.Int) {
	one := big.NewInt(1)
	n = new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	d = new(big.Int).ModInverse(big.NewInt(e), phi)
	return n, d
}

// coprimeTo returns a prime filter keeping p with gcd(e, p-1) = 1.
func coprimeTo(e int64) func(*big.Int) bool {
	return func(p *big.Int) bool {
		pm1 := new(big.Int).Sub(p, big.NewInt(1))
		return new(big.Int).GCD(nil, nil, big.NewInt(e), pm1).Cmp(big.NewInt(1)) == 0
	}
}

const rsaEncryptPy = `from Crypto.Util.number import getPrime, bytes_to_long

flag = open('flag.txt', 'rb').read().strip()
%s
`

func makeRSASmallE(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.rsa-small-e")
	bits := max(512, (24*len(flag)+64+15)/16*8) // prime size: m^3 < n
	p := cfPrime(r, bits, coprimeTo(3))
	q := cfPrime(r, bits, coprimeTo(3))
	n, _ := rsaKey(p, q, 3)
	m := new(big.Int).SetBytes([]byte(flag))
	c := new(big.Int).Exp(m, big.NewInt(3), n)
	out := fmt.Sprintf("n = %s\ne = 3\nc = %s\n", n, c)
	src := fmt.Sprintf(rsaEncryptPy, fmt.Sprintf(`p, q = getPrime(%d), getPrime(%d)
n, e = p * q, 3
c = pow(bytes_to_long(flag), e, n)
print(f'n = {n}\ne = {e}\nc = {c}')`, bits, bits))
	t := &Task{
		Prompt: "The flag was encrypted with RSA by encrypt.py; output.txt is what it printed. Recover the flag.",
		Files:  []sandbox.File{{Path: "encrypt.py", Data: []byte(src)}, {Path: "output.txt", Data: []byte(out)}},
		Solution: `python3 - <<'EOF'
import re
v = dict(re.findall(r'(\w+) = (\d+)', open('output.txt').read()))
c = int(v['c'])
def iroot(x, k):
    lo, hi = 0, 1 << (x.bit_length() // k + 2)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid ** k <= x: lo = mid
        else: hi = mid - 1
    return lo
m = iroot(c, 3)
print(m.to_bytes((m.bit_length() + 7) // 8, 'big').decode())
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

func makeRSASharedFactor(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.rsa-shared-factor")
	const keys = 5
	bits := max(512, (8*len(flag)+64+15)/16*8)
	shared := cfPrime(r, bits, coprimeTo(65537))
	a, b := r.IntN(keys), r.IntN(keys-1)
	if b >= a {
		b++
	}
	m := new(big.Int).SetBytes([]byte(flag))
	var out strings.Builder
	for i := range keys {
		p := cfPrime(r, bits, coprimeTo(65537))
		if i == a || i == b {
			p = shared
		}
		q := cfPrime(r, bits, coprimeTo(65537))
		n, _ := rsaKey(p, q, 65537)
		c := new(big.Int).Exp(m, big.NewInt(65537), n)
		fmt.Fprintf(&out, "# recipient %d\nn%d = %s\ne%d = 65537\nc%d = %s\n\n", i+1, i+1, n, i+1, i+1, c)
	}
	t := &Task{
		Prompt: "The same secret was sent, RSA-encrypted, to five recipients; their public keys and the five ciphertexts are in " +
			"messages.txt. The keys were made on a cheap embedded device. Recover the flag.",
		Files: []sandbox.File{{Path: "messages.txt", Data: []byte(out.String())}},
		Solution: `python3 - <<'EOF'
import re, math
v = {k: int(x) for k, x in re.findall(r'(\w+) = (\d+)', open('messages.txt').read())}
ns = [(i, v[f'n{i}']) for i in range(1, 6)]
for i, n in ns:
    for j, o in ns:
        g = math.gcd(n, o)
        if i != j and 1 < g < n:
            d = pow(v[f'e{i}'], -1, (g - 1) * (n // g - 1))
            m = pow(v[f'c{i}'], d, n)
            print(m.to_bytes((m.bit_length() + 7) // 8, 'big').decode())
            raise SystemExit
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

func makeRSAHastad(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.rsa-hastad")
	const bits = 768 // moduli of 1536 bits
	msg := []byte("Attention all stations. Tonight's code word is " + flag + ". End of broadcast.")
	for len(msg) < 96 { // m^3 must exceed each modulus
		msg = append(msg, ' ')
	}
	if len(msg) > 2*bits/8-8 {
		return nil, fmt.Errorf("make message: flag of %d bytes is too long", len(flag))
	}
	m := new(big.Int).SetBytes(msg)
	var out strings.Builder
	for i := range 3 {
		p := cfPrime(r, bits, coprimeTo(3))
		q := cfPrime(r, bits, coprimeTo(3))
		n, _ := rsaKey(p, q, 3)
		c := new(big.Int).Exp(m, big.NewInt(3), n)
		fmt.Fprintf(&out, "n%d = %s\nc%d = %s\n", i+1, n, i+1, c)
	}
	src := fmt.Sprintf(rsaEncryptPy, `msg = b"Attention all stations. Tonight's code word is " + flag + b". End of broadcast."
msg = msg.ljust(96)  # m**3 > n
m = bytes_to_long(msg)
for i in range(1, 4):
    n = getPrime(768) * getPrime(768)
    print(f'n{i} = {n}')
    print(f'c{i} = {pow(m, 3, n)}')`)
	t := &Task{
		Prompt: "A station broadcast the same message to three receivers, each with its own RSA key (e = 3). " +
			"broadcast.py made the transmissions in output.txt. Recover the flag.",
		Files: []sandbox.File{{Path: "broadcast.py", Data: []byte(src)}, {Path: "output.txt", Data: []byte(out.String())}},
		Solution: `python3 - <<'EOF'
import re
v = {k: int(x) for k, x in re.findall(r'(\w+) = (\d+)', open('output.txt').read())}
ns = [v[f'n{i}'] for i in (1, 2, 3)]
cs = [v[f'c{i}'] for i in (1, 2, 3)]
N = ns[0] * ns[1] * ns[2]
x = sum(c * (N // n) * pow(N // n, -1, n) for c, n in zip(cs, ns)) % N
def iroot(x, k):
    lo, hi = 0, 1 << (x.bit_length() // k + 2)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid ** k <= x: lo = mid
        else: hi = mid - 1
    return lo
m = iroot(x, 3)
pt = m.to_bytes((m.bit_length() + 7) // 8, 'big')
print(re.search(rb'flag\{[^}]*\}', pt).group(0).decode())
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

const ecbOraclePy = `#!/usr/bin/env python3
# Encryption oracle: GET /encrypt?data=<hex> returns hex(E_K(data || SECRET))
# in ECB mode with PKCS#7 padding. E is a 16-byte-block Feistel cipher;
# K is drawn at start-up and never leaves the process.
import ctypes, hashlib, http.server, os, sys, urllib.parse

ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
SECRET = sys.stdin.buffer.readline().strip()
KEY = os.urandom(16)
PORT = %d


def _f(i, half):
    return hashlib.sha256(KEY + bytes([i]) + half).digest()[:8]


def encrypt_block(block):
    left, right = block[:8], block[8:]
    for i in range(8):
        left, right = right, bytes(a ^ b for a, b in zip(left, _f(i, right)))
    return left + right


def encrypt(data):
    data = data + SECRET
    pad = 16 - len(data) %% 16
    data += bytes([pad]) * pad
    return b''.join(encrypt_block(data[i:i + 16]) for i in range(0, len(data), 16))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == '/':
            return self.reply(200, b'usage: GET /encrypt?data=<hex>\n')
        if url.path != '/encrypt':
            return self.reply(404, b'not found\n')
        try:
            data = bytes.fromhex(urllib.parse.parse_qs(url.query).get('data', [''])[0])
        except ValueError:
            return self.reply(400, b'data must be hex\n')
        if len(data) > 8192:
            return self.reply(413, b'too long\n')
        self.reply(200, encrypt(data).hex().encode() + b'\n')

    def reply(self, code, body):
        self.send_response(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
`

func makeECBOracle(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.ecb-oracle")
	port := 20000 + r.IntN(20000)
	t := &Task{
		Prompt: fmt.Sprintf("An encryption service listens on 127.0.0.1:%d (HTTP). Its source is /srv/oracle.py; "+
			"the key and the secret it appends are known only to the running process. Recover the secret, which is the flag.", port),
		Files:    []sandbox.File{{Path: "oracle.py", Data: fmt.Appendf(nil, ecbOraclePy, port), Hidden: true}},
		Services: []sandbox.Service{{Command: "exec python3 oracle.py", Stdin: []byte(flag + "\n"), Port: port}},
		Solution: fmt.Sprintf(`python3 - <<'EOF'
import urllib.request
URL = 'http://127.0.0.1:%d/encrypt?data='
def enc(b):
    return bytes.fromhex(urllib.request.urlopen(URL + b.hex(), timeout=10).read().decode().strip())
B = 16
known = b''
while True:
    pad = b'A' * (B - 1 - len(known) %% B)
    window = (b'A' * B + known)[-(B - 1):]
    out = enc(b''.join(window + bytes([c]) for c in range(256)) + pad)
    blocks = {out[c * B:(c + 1) * B]: c for c in range(256)}
    k = 256 + len(known) // B
    c = blocks.get(out[k * B:(k + 1) * B])
    if c is None or c == 1:  # end of the secret: the padding byte 0x01 matched
        break
    known += bytes([c])
    if known.endswith(b'}'):
        break
print(known.decode())
EOF
`, port),
	}
	return t, cfCheckHidden(t, flag)
}

const lcgPy = `# tokens.py: session tokens and the vault key come from the same generator.
from secret import A, C, M, SEED, FLAG  # M is a 32-bit prime; A, C < M


class LCG:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (A * self.state + C) % M
        return self.state


rng = LCG(SEED)
with open('tokens.txt', 'w') as f:
    for _ in range(8):
        print(rng.next(), file=f)

key = b''.join(rng.next().to_bytes(4, 'big') for _ in range(len(FLAG) // 4 + 1))
with open('vault.bin', 'wb') as f:
    f.write(bytes(x ^ k for x, k in zip(FLAG, key)))
`

func makeLCGKeystream(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.lcg-keystream")
	for {
		m := 1<<31 + uint64(r.Uint32()>>1)
		if !new(big.Int).SetUint64(m).ProbablyPrime(20) {
			continue
		}
		a, c, state := 2+r.Uint64N(m-2), 1+r.Uint64N(m-1), r.Uint64N(m)
		next := func() uint64 { state = (a*state + c) % m; return state }
		var tokens strings.Builder
		seen := map[uint64]bool{}
		for range 8 {
			v := next()
			seen[v] = true
			fmt.Fprintln(&tokens, v)
		}
		if len(seen) < 8 { // a short cycle: draw another generator
			continue
		}
		var key []byte
		for len(key) < len(flag) {
			key = binary.BigEndian.AppendUint32(key, uint32(next()))
		}
		ct := make([]byte, len(flag))
		for i := range ct {
			ct[i] = flag[i] ^ key[i]
		}
		t := &Task{
			Prompt: "A login server hands out session tokens; tokens.txt holds the last eight it issued. The same server " +
				"encrypted its vault (vault.bin) with tokens.py. Recover the flag.",
			Files: []sandbox.File{{Path: "tokens.py", Data: []byte(lcgPy)}, {Path: "tokens.txt", Data: []byte(tokens.String())},
				{Path: "vault.bin", Data: ct}},
			Solution: `python3 - <<'EOF'
import math
s = [int(x) for x in open('tokens.txt').read().split()]
t = [b - a for a, b in zip(s, s[1:])]
u = [t[i + 2] * t[i] - t[i + 1] ** 2 for i in range(len(t) - 2)]
m = 0
for x in u:
    m = math.gcd(m, abs(x))
for p in range(2, 100000):
    while m % p == 0 and m // p > max(s):
        m //= p
a = (s[2] - s[1]) * pow(s[1] - s[0], -1, m) % m
c = (s[1] - a * s[0]) % m
assert all((a * x + c) % m == y for x, y in zip(s, s[1:]))
st, key = s[-1], b''
ct = open('vault.bin', 'rb').read()
while len(key) < len(ct):
    st = (a * st + c) % m
    key += st.to_bytes(4, 'big')
print(bytes(x ^ k for x, k in zip(ct, key)).decode())
EOF
`,
		}
		return t, cfCheckHidden(t, flag)
	}
}

const cbcAppPy = `#!/usr/bin/env python3
# Session service. GET /register?name=<name> returns a token: hex(IV || CBC_E(K, profile))
# with profile = PREFIX + name + SUFFIX (";" and "=" in the name are escaped), PKCS#7
# padded. GET /flag?token=<hex> returns the flag to administrators. E is a
# 16-byte-block Feistel cipher; K is drawn at start-up and never leaves the process.
import ctypes, hashlib, http.server, os, sys, urllib.parse

ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
FLAG = sys.stdin.buffer.readline().strip()
KEY = os.urandom(16)
PORT = %d
PREFIX = b'%s'
SUFFIX = b'%s'


def _f(i, half):
    return hashlib.sha256(KEY + bytes([i]) + half).digest()[:8]


def encrypt_block(block):
    left, right = block[:8], block[8:]
    for i in range(8):
        left, right = right, bytes(a ^ b for a, b in zip(left, _f(i, right)))
    return left + right


def decrypt_block(block):
    left, right = block[:8], block[8:]
    for i in reversed(range(8)):
        left, right = bytes(a ^ b for a, b in zip(right, _f(i, left))), left
    return left + right


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def encrypt(data):
    pad = 16 - len(data) %% 16
    data += bytes([pad]) * pad
    prev = os.urandom(16)
    out = prev
    for i in range(0, len(data), 16):
        prev = encrypt_block(xor(data[i:i + 16], prev))
        out += prev
    return out


def decrypt(token):
    if len(token) < 32 or len(token) %% 16:
        raise ValueError('bad length')
    out = b''
    for i in range(16, len(token), 16):
        out += xor(decrypt_block(token[i:i + 16]), token[i - 16:i])
    pad = out[-1]
    if not 1 <= pad <= 16 or out[-pad:] != bytes([pad]) * pad:
        raise ValueError('bad padding')
    return out[:-pad]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path == '/register':
            name = q.get('name', [''])[0].encode()[:256].replace(b';', b'%%3B').replace(b'=', b'%%3D')
            return self.reply(200, encrypt(PREFIX + name + SUFFIX).hex().encode() + b'\n')
        if url.path == '/flag':
            try:
                profile = decrypt(bytes.fromhex(q.get('token', [''])[0]))
            except ValueError:
                return self.reply(400, b'invalid token\n')
            if b'admin=true' in profile.split(b';'):
                return self.reply(200, FLAG + b'\n')
            return self.reply(403, b'administrators only\n')
        self.reply(200, b'GET /register?name=<name>, GET /flag?token=<token>\n')

    def reply(self, code, body):
        self.send_response(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
`

func makeCBCBitflip(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "crypto.cbc-bitflip")
	port := 20000 + r.IntN(20000)
	prefix := fmt.Sprintf("uid=%d;team=%s;name=", 1000+r.IntN(90000), cfPick(r, cfWords))
	suffix := fmt.Sprintf(";role=user;lang=%s", cfPick(r, []string{"en", "fr", "de", "es", "it"}))
	t := &Task{
		Prompt: fmt.Sprintf("A session service listens on 127.0.0.1:%d (HTTP); its source is /srv/app.py. "+
			"It gives the flag to administrators only. Get it.", port),
		Files:    []sandbox.File{{Path: "app.py", Data: fmt.Appendf(nil, cbcAppPy, port, prefix, suffix), Hidden: true}},
		Services: []sandbox.Service{{Command: "exec python3 app.py", Stdin: []byte(flag + "\n"), Port: port}},
		Solution: fmt.Sprintf(`python3 - <<'EOF'
import urllib.error, urllib.parse, urllib.request
BASE = 'http://127.0.0.1:%d'
PRE = %d  # len(PREFIX) in /srv/app.py
def get(path):
    try:
        return urllib.request.urlopen(BASE + path, timeout=10).read().decode()
    except urllib.error.HTTPError as e:
        return e.read().decode()
pad = -PRE %% 16
target = b':admin<true:'
name = b'A' * (pad + 16) + target
tok = bytearray(bytes.fromhex(get('/register?name=' + urllib.parse.quote(name)).strip()))
# the target block starts at PRE + pad + 16 in the plaintext, i.e. PRE + pad + 32 in the
# token (after the IV); the ciphertext block before it starts 16 bytes earlier
for i, (have, want) in enumerate(zip(target, b';admin=true;')):
    tok[PRE + pad + 16 + i] ^= have ^ want
print(get('/flag?token=' + tok.hex()))
EOF
`, port, len(prefix)),
	}
	return t, cfCheckHidden(t, flag)
}
