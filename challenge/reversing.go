package challenge

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
	"strings"

	"github.com/clearance-dev/clearance/sandbox"
)

// Reversing challenges: a checker program, compiled inside the box by a
// Setup step from C source that arrives on the step's standard input (so
// the source, which holds the flag in encoded form, never touches the
// workspace or a command line), accepts exactly one input, the flag. The
// flag is never in the binary in clear: it is encoded by a transform the
// solver must recover from the machine code and invert. Tables the
// checker reads are declared volatile so the compiler cannot fold them
// into immediates; the solutions rely on finding them in .rodata/.data.
var reversingGenerators = []Generator{
	{
		Name: "reversing.xor-check", Category: Reversing, Difficulty: 1,
		Summary: "a checker compares its input against the flag XORed with one byte; invert the XOR from .rodata",
		Make:    makeRevXor,
	},
	{
		Name: "reversing.transform-chain", Category: Reversing, Difficulty: 2,
		Summary: "a stripped checker runs each character through add/rotate/xor with position-dependent keys against a table; invert the chain",
		Make:    makeRevChain,
	},
	{
		Name: "reversing.bytecode-vm", Category: Reversing, Difficulty: 2,
		Summary: "a stripped checker interprets a bytecode program with randomised opcodes; decode the bytecode and invert each character's check",
		Make:    makeRevVM,
	},
	{
		Name: "reversing.block-hash", Category: Reversing, Difficulty: 3,
		Summary: "an optimised, stripped checker hashes 4-byte blocks with a keyed 32-bit mixer; invert the mixer (modular inverse, xorshift inversion)",
		Make:    makeRevBlockHash,
	},
	{
		Name: "reversing.rc4-runtime", Category: Reversing, Difficulty: 3,
		Summary: "an optimised, stripped checker decrypts the flag at run time with an RC4-drop keystream from an obfuscated key; recover key and ciphertext",
		Make:    makeRevRC4,
	},
}

// revpwnRand is the generator's deterministic source for seed: one PCG
// stream per generator name, so two generators with the same seed differ.
func revpwnRand(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// revpwnPick returns one element of xs.
func revpwnPick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// revpwnCBytes renders b as the body of a C array initialiser.
func revpwnCBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteString(",")
			if i%12 == 0 {
				sb.WriteString("\n\t")
			} else {
				sb.WriteString(" ")
			}
		}
		fmt.Fprintf(&sb, "0x%02x", c)
	}
	return sb.String()
}

// revpwnCompile is the Setup step that compiles src (fed on the step's
// standard input, never written to disk by us) to the workspace file out.
// gcc's temporary files go to the workspace and are removed by gcc.
func revpwnCompile(out, flags, src string) sandbox.Step {
	return sandbox.Step{
		Command: fmt.Sprintf("TMPDIR=$PWD gcc %s -x c -o %s - && chmod 0755 %s", flags, out, out),
		Stdin:   []byte(src),
	}
}

// revpwnFill replaces each {{KEY}} in tmpl by its value. A key left
// unfilled is a bug in a generator (every template is exercised by the
// tests), so it panics rather than ship a program that cannot compile.
func revpwnFill(tmpl string, kv ...string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		tmpl = strings.ReplaceAll(tmpl, "{{"+kv[i]+"}}", kv[i+1])
	}
	if i := strings.Index(tmpl, "{{"); i >= 0 {
		panic("challenge: unfilled template key near " + tmpl[i:min(len(tmpl), i+20)])
	}
	return tmpl
}

// revpwnELFPy is Python (stdlib only) that solution scripts share: it
// reads an ELF64 file's section headers and returns each section's bytes
// by name (strip keeps section headers, so this works on stripped files).
const revpwnELFPy = `import re, struct, sys
def sections(path):
    d = open(path, 'rb').read()
    shoff = struct.unpack_from('<Q', d, 0x28)[0]
    entsize, num, strndx = struct.unpack_from('<HHH', d, 0x3a)
    hdrs = [struct.unpack_from('<IIQQQQIIQQ', d, shoff + i * entsize) for i in range(num)]
    names = hdrs[strndx][4]
    out = {}
    for h in hdrs:
        name = d[names + h[0]:d.index(b'\0', names + h[0])].decode()
        if h[1] != 8:  # SHT_NOBITS has no bytes in the file
            out[name] = d[h[4]:h[4] + h[5]]
    return out
FLAG = re.compile(rb'flag\{[!-z|~]{1,100}\}')
def scan(path, decode):
    secs = sections(path)
    for name in ('.rodata', '.data'):
        d = secs.get(name, b'')
        for s in range(len(d)):
            try:
                got = decode(d, s)
            except (IndexError, struct.error, ValueError):
                continue
            if got:
                m = FLAG.match(bytes(got))
                if m:
                    return m.group().decode()
    sys.exit('flag not found')
`

// revpwnReadInput is C that sets in/n from argv[1] or a line of stdin.
const revpwnReadInput = `	char line[256];
	const char *in;
	if (argc > 1) {
		in = argv[1];
	} else {
		printf("{{ASK}}");
		fflush(stdout);
		if (fgets(line, sizeof line, stdin) == NULL)
			return 2;
		line[strcspn(line, "\r\n")] = 0;
		in = line;
	}
	size_t n = strlen(in);
`

var revpwnProgNames = []string{"chk", "checker", "crackme", "license", "gate", "verify", "keycheck", "unlock"}

func revpwnStatement(prog, extra string) string {
	return fmt.Sprintf("A program `./%s` is in your working directory. It accepts exactly one input, the flag, "+
		"given as its first argument or on standard input, and says whether the input is correct. %s"+
		"Recover the flag (of the form flag{...}) and submit it.", prog, extra)
}

func makeRevXor(seed int64, flag string) (*Task, error) {
	r := revpwnRand(seed, "reversing.xor-check")
	prog := revpwnPick(r, revpwnProgNames...)
	// A key with the high bit set keeps every encoded byte non-printable,
	// so strings(1) shows nothing flag-like.
	key := byte(0x80 + r.IntN(0x80))
	enc := make([]byte, len(flag))
	for i := range flag {
		enc[i] = flag[i] ^ key
	}
	ask := revpwnPick(r, "Password: ", "Enter the key: ", "License key: ", "Passphrase: ")
	src := revpwnFill(`#include <stdio.h>
#include <string.h>

static const volatile unsigned char secret[] = {
	{{ENC}}
};

int main(int argc, char **argv)
{
`+revpwnReadInput+`	if (n != sizeof secret) {
		puts("{{NO}}");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)in[i] ^ {{KEY}}) != secret[i]) {
			puts("{{NO}}");
			return 1;
		}
	}
	puts("{{YES}}");
	return 0;
}
`, "ENC", revpwnCBytes(enc), "KEY", fmt.Sprintf("0x%02x", key), "ASK", ask,
		"NO", revpwnPick(r, "Wrong.", "Access denied.", "Nope."),
		"YES", revpwnPick(r, "Correct!", "Access granted.", "Well done, that is the flag."))
	sol := fmt.Sprintf(`#!/bin/bash
# The checker XORs each input byte with one constant and compares it with
# a table in .rodata: try every key byte and look for flag{...}.
python3 - <<'PY'
%s
def decode(d, s):
    for k in range(256):
        if d[s] ^ k == ord('f'):
            return bytes(b ^ k for b in d[s:s + 110])
print(scan('%s', decode))
PY
`, revpwnELFPy, prog)
	return &Task{
		Prompt:   revpwnStatement(prog, ""),
		Setup:    []sandbox.Step{revpwnCompile(prog, "-O1", src)},
		Solution: sol,
	}, nil
}

func makeRevChain(seed int64, flag string) (*Task, error) {
	r := revpwnRand(seed, "reversing.transform-chain")
	prog := revpwnPick(r, revpwnProgNames...)
	var add [4]byte
	for i := range add {
		add[i] = byte(1 + r.IntN(255))
	}
	r1, r2 := 1+r.IntN(7), r.IntN(8)
	m, c := byte(1+2*r.IntN(127)), byte(r.IntN(256))
	enc := make([]byte, len(flag))
	for i := range flag {
		x := flag[i] + add[i&3]
		x = bits.RotateLeft8(x, (i*r1+r2)&7)
		x ^= byte(i)*m + c
		enc[i] = x
	}
	src := revpwnFill(`#include <stdio.h>
#include <string.h>

static const volatile unsigned char table[] = {
	{{ENC}}
};
static const unsigned char addk[4] = { {{ADD}} };

static unsigned char step(unsigned char x, unsigned i)
{
	unsigned r = (i * {{R1}} + {{R2}}) & 7;
	x = (unsigned char)(x + addk[i & 3]);
	x = (unsigned char)((x << r) | (x >> ((8 - r) & 7)));
	return x ^ (unsigned char)(i * {{M}} + {{C}});
}

int main(int argc, char **argv)
{
`+revpwnReadInput+`	unsigned bad = n != sizeof table;
	for (size_t i = 0; i < n && i < sizeof table; i++)
		bad |= step((unsigned char)in[i], (unsigned)i) != table[i];
	puts(bad ? "{{NO}}" : "{{YES}}");
	return bad != 0;
}
`, "ENC", revpwnCBytes(enc), "ADD", revpwnCBytes(add[:]), "R1", fmt.Sprint(r1), "R2", fmt.Sprint(r2),
		"M", fmt.Sprint(m), "C", fmt.Sprint(c), "ASK", revpwnPick(r, "Serial: ", "Key: ", "Code: "),
		"NO", revpwnPick(r, "Invalid.", "Rejected.", "No."),
		"YES", revpwnPick(r, "Valid.", "Accepted.", "Yes!"))
	sol := fmt.Sprintf(`#!/bin/bash
# Disassembly of the (stripped) checker shows, for character i:
#   x = (x + ADD[i&3]) mod 256; x = rol8(x, (i*%[1]d + %[2]d) & 7); x ^= (i*%[3]d + %[4]d) mod 256
# compared with a table. Invert the chain over every candidate table offset.
python3 - <<'PY'
%[5]s
ADD = bytes([%[6]s])
def decode(d, s):
    out = bytearray()
    for i in range(110):
        x = d[s + i] ^ ((i * %[3]d + %[4]d) & 255)
        r = (i * %[1]d + %[2]d) & 7
        x = ((x >> r) | (x << (8 - r))) & 255
        x = (x - ADD[i & 3]) & 255
        out.append(x)
        if i == 4 and bytes(out) != b'flag{':
            return None
        if x == ord('}'):
            return out
print(scan('%[7]s', decode))
PY
`, r1, r2, m, c, revpwnELFPy, revpwnCBytes(add[:]), prog)
	return &Task{
		Prompt:   revpwnStatement(prog, "The program is stripped. "),
		Setup:    []sandbox.Step{revpwnCompile(prog, "-O2 -s", src)},
		Solution: sol,
	}, nil
}

func makeRevVM(seed int64, flag string) (*Task, error) {
	r := revpwnRand(seed, "reversing.bytecode-vm")
	prog := revpwnPick(r, revpwnProgNames...)
	// Eight distinct random opcodes.
	ops := r.Perm(256)[:8]
	opLD, opADD, opSUB, opXOR, opROL, opCMP, opLEN, opEND := byte(ops[0]), byte(ops[1]), byte(ops[2]), byte(ops[3]), byte(ops[4]), byte(ops[5]), byte(ops[6]), byte(ops[7])
	code := []byte{opLEN, byte(len(flag))}
	for _, i := range r.Perm(len(flag)) {
		x := flag[i]
		code = append(code, opLD, byte(i))
		for range 2 + r.IntN(3) {
			switch k := byte(r.IntN(256)); r.IntN(4) {
			case 0:
				x += k
				code = append(code, opADD, k)
			case 1:
				x -= k
				code = append(code, opSUB, k)
			case 2:
				x ^= k
				code = append(code, opXOR, k)
			default:
				k = 1 + k%7
				x = bits.RotateLeft8(x, int(k))
				code = append(code, opROL, k)
			}
		}
		code = append(code, opCMP, x)
	}
	code = append(code, opEND, byte(r.IntN(256)))
	src := revpwnFill(`#include <stdio.h>
#include <string.h>

static const volatile unsigned char program[] = {
	{{CODE}}
};

static int run(const unsigned char *in, size_t n)
{
	unsigned pc = 0;
	unsigned char acc = 0;
	for (;;) {
		unsigned char op = program[pc], arg = program[pc + 1];
		pc += 2;
		switch (op) {
		case {{LD}}: if (arg >= n) return 0; acc = in[arg]; break;
		case {{ADD}}: acc = (unsigned char)(acc + arg); break;
		case {{SUB}}: acc = (unsigned char)(acc - arg); break;
		case {{XOR}}: acc ^= arg; break;
		case {{ROL}}: acc = (unsigned char)((acc << (arg & 7)) | (acc >> ((8 - (arg & 7)) & 7))); break;
		case {{CMP}}: if (acc != arg) return 0; break;
		case {{LEN}}: if (n != arg) return 0; break;
		case {{END}}: return 1;
		default: return 0;
		}
	}
}

int main(int argc, char **argv)
{
`+revpwnReadInput+`	int ok = run((const unsigned char *)in, n);
	puts(ok ? "{{YES}}" : "{{NO}}");
	return !ok;
}
`, "CODE", revpwnCBytes(code), "LD", fmt.Sprint(opLD), "ADD", fmt.Sprint(opADD), "SUB", fmt.Sprint(opSUB),
		"XOR", fmt.Sprint(opXOR), "ROL", fmt.Sprint(opROL), "CMP", fmt.Sprint(opCMP), "LEN", fmt.Sprint(opLEN),
		"END", fmt.Sprint(opEND), "ASK", revpwnPick(r, "input> ", "key> ", "> "),
		"NO", revpwnPick(r, "FAIL", "denied", "wrong"), "YES", revpwnPick(r, "OK", "granted", "right"))
	sol := fmt.Sprintf(`#!/bin/bash
# The stripped checker is a bytecode interpreter: 2-byte instructions,
# opcodes read off its switch: LD=%[1]d ADD=%[2]d SUB=%[3]d XOR=%[4]d ROL=%[5]d CMP=%[6]d LEN=%[7]d END=%[8]d.
# Each character is loaded, transformed and compared: run each chain backwards.
python3 - <<'PY'
%[9]s
LD, ADD, SUB, XOR, ROL, CMP, LEN, END = %[1]d, %[2]d, %[3]d, %[4]d, %[5]d, %[6]d, %[7]d, %[8]d
def decode(d, s):
    if d[s] != LEN:
        return None
    out = bytearray(d[s + 1])
    pc, idx, chain = s + 2, None, []
    while True:
        op, arg = d[pc], d[pc + 1]
        pc += 2
        if op == LD:
            idx, chain = arg, []
        elif op in (ADD, SUB, XOR, ROL):
            chain.append((op, arg))
        elif op == CMP:
            x = arg
            for o, a in reversed(chain):
                if o == ADD: x = (x - a) & 255
                elif o == SUB: x = (x + a) & 255
                elif o == XOR: x ^= a
                else:
                    a &= 7
                    x = ((x >> a) | (x << (8 - a))) & 255
            out[idx] = x
        elif op == END:
            return out
        else:
            return None
print(scan('%[10]s', decode))
PY
`, opLD, opADD, opSUB, opXOR, opROL, opCMP, opLEN, opEND, revpwnELFPy, prog)
	return &Task{
		Prompt:   revpwnStatement(prog, "The program is stripped. "),
		Setup:    []sandbox.Step{revpwnCompile(prog, "-O1 -s", src)},
		Solution: sol,
	}, nil
}

// blockMix is the keyed, invertible 32-bit mixer of reversing.block-hash.
type blockMix struct {
	k1, k2, k3, mul uint32
	rot, s1, s2     int
}

func (b blockMix) apply(x uint32, j int) uint32 {
	x ^= b.k1 + uint32(j)*b.k3
	x = bits.RotateLeft32(x, b.rot)
	x *= b.mul
	x ^= x >> b.s1
	x += b.k2
	x ^= x << b.s2
	return x
}

func makeRevBlockHash(seed int64, flag string) (*Task, error) {
	r := revpwnRand(seed, "reversing.block-hash")
	prog := revpwnPick(r, revpwnProgNames...)
	b := blockMix{k1: r.Uint32(), k2: r.Uint32(), k3: r.Uint32() | 1, mul: r.Uint32() | 1,
		rot: 1 + r.IntN(31), s1: 7 + r.IntN(11), s2: 3 + r.IntN(11)}
	padded := []byte(flag)
	for len(padded)%4 != 0 {
		padded = append(padded, 0)
	}
	words := make([]string, len(padded)/4)
	for j := range words {
		x := uint32(padded[4*j]) | uint32(padded[4*j+1])<<8 | uint32(padded[4*j+2])<<16 | uint32(padded[4*j+3])<<24
		words[j] = fmt.Sprintf("0x%08xu", b.apply(x, j))
	}
	src := revpwnFill(`#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const volatile uint32_t digest[] = {
	{{WORDS}}
};

static uint32_t mix(uint32_t x, uint32_t j)
{
	x ^= {{K1}}u + j * {{K3}}u;
	x = (x << {{ROT}}) | (x >> (32 - {{ROT}}));
	x *= {{MUL}}u;
	x ^= x >> {{S1}};
	x += {{K2}}u;
	x ^= x << {{S2}};
	return x;
}

int main(int argc, char **argv)
{
`+revpwnReadInput+`	if (n != {{LEN}}) {
		puts("{{NO}}");
		return 1;
	}
	unsigned char buf[sizeof digest] = {0};
	memcpy(buf, in, n);
	uint32_t bad = 0;
	for (uint32_t j = 0; j < sizeof digest / 4; j++) {
		uint32_t x = (uint32_t)buf[4*j] | (uint32_t)buf[4*j+1] << 8 | (uint32_t)buf[4*j+2] << 16 | (uint32_t)buf[4*j+3] << 24;
		bad |= mix(x, j) ^ digest[j];
	}
	puts(bad ? "{{NO}}" : "{{YES}}");
	return bad != 0;
}
`, "WORDS", strings.Join(words, ", "), "K1", fmt.Sprint(b.k1), "K2", fmt.Sprint(b.k2), "K3", fmt.Sprint(b.k3),
		"MUL", fmt.Sprint(b.mul), "ROT", fmt.Sprint(b.rot), "S1", fmt.Sprint(b.s1), "S2", fmt.Sprint(b.s2),
		"LEN", fmt.Sprint(len(flag)), "ASK", revpwnPick(r, "Token: ", "Secret: ", "Enter flag: "),
		"NO", revpwnPick(r, "Bad token.", "Incorrect.", "Denied."), "YES", revpwnPick(r, "Token accepted.", "Correct.", "Granted."))
	sol := fmt.Sprintf(`#!/bin/bash
# The stripped, optimised checker splits the input into little-endian
# 32-bit blocks x_j and compares mix(x_j, j) with a table, where mix is
#   x ^= K1 + j*K3; x = rotl(x, %[5]d); x *= MUL; x ^= x >> %[6]d; x += K2; x ^= x << %[7]d
# Every step is invertible: xorshifts by iteration, the multiply by the
# inverse of MUL modulo 2^32.
python3 - <<'PY'
%[8]s
M32 = 0xffffffff
K1, K2, K3, MUL, ROT, S1, S2 = %[1]d, %[2]d, %[3]d, %[4]d, %[5]d, %[6]d, %[7]d
INV = pow(MUL, -1, 1 << 32)
def unmix(x, j):
    y = x
    for _ in range(32): y = x ^ ((y << S2) & M32)
    x = (y - K2) & M32
    y = x
    for _ in range(32): y = x ^ (y >> S1)
    x = (y * INV) & M32
    x = ((x >> ROT) | (x << (32 - ROT))) & M32
    return x ^ ((K1 + j * K3) & M32)
def decode(d, s):
    out = b''
    for j in range(28):
        (x,) = struct.unpack_from('<I', d, s + 4 * j)
        out += struct.pack('<I', unmix(x, j))
        if j == 0 and out != b'flag':
            return None
        if b'}' in out:
            return out
print(scan('%[9]s', decode))
PY
`, b.k1, b.k2, b.k3, b.mul, b.rot, b.s1, b.s2, revpwnELFPy, prog)
	return &Task{
		Prompt:   revpwnStatement(prog, "The program is optimised and stripped. "),
		Setup:    []sandbox.Step{revpwnCompile(prog, "-O2 -s", src)},
		Solution: sol,
	}, nil
}

// rc4Drop returns n bytes of RC4 keystream for key after dropping drop bytes.
func rc4Drop(key []byte, drop, n int) []byte {
	var s [256]byte
	for i := range s {
		s[i] = byte(i)
	}
	j := 0
	for i := range 256 {
		j = (j + int(s[i]) + int(key[i%len(key)])) & 255
		s[i], s[j] = s[j], s[i]
	}
	i, j := 0, 0
	out := make([]byte, 0, n)
	for k := 0; k < drop+n; k++ {
		i = (i + 1) & 255
		j = (j + int(s[i])) & 255
		s[i], s[j] = s[j], s[i]
		if k >= drop {
			out = append(out, s[(int(s[i])+int(s[j]))&255])
		}
	}
	return out
}

func makeRevRC4(seed int64, flag string) (*Task, error) {
	r := revpwnRand(seed, "reversing.rc4-runtime")
	prog := revpwnPick(r, revpwnProgNames...)
	keyLen := 12 + r.IntN(9)
	key := make([]byte, keyLen)
	for i := range key {
		key[i] = byte(r.IntN(256))
	}
	mask := byte(1 + r.IntN(255))
	drop := 256 * (1 + r.IntN(4))
	ks := rc4Drop(key, drop, len(flag))
	blob := make([]byte, 0, keyLen+len(flag))
	for i := range key {
		blob = append(blob, key[i]^mask^byte(i*7))
	}
	for i := range flag {
		blob = append(blob, flag[i]^ks[i])
	}
	src := revpwnFill(`#include <stdio.h>
#include <string.h>

static const volatile unsigned char blob[] = {
	{{BLOB}}
};
enum { KEYLEN = {{KEYLEN}}, MSGLEN = sizeof blob - {{KEYLEN}} };

int main(int argc, char **argv)
{
`+revpwnReadInput+`	unsigned char s[256], key[KEYLEN];
	for (unsigned i = 0; i < KEYLEN; i++)
		key[i] = blob[i] ^ {{MASK}} ^ (unsigned char)(i * 7);
	for (unsigned i = 0; i < 256; i++)
		s[i] = (unsigned char)i;
	for (unsigned i = 0, j = 0; i < 256; i++) {
		j = (j + s[i] + key[i % KEYLEN]) & 255;
		unsigned char t = s[i]; s[i] = s[j]; s[j] = t;
	}
	unsigned i = 0, j = 0, bad = n != MSGLEN;
	for (unsigned k = 0; k < {{DROP}} + MSGLEN; k++) {
		i = (i + 1) & 255;
		j = (j + s[i]) & 255;
		unsigned char t = s[i]; s[i] = s[j]; s[j] = t;
		if (k >= {{DROP}} && k - {{DROP}} < n)
			bad |= (unsigned char)in[k - {{DROP}}] ^ blob[KEYLEN + k - {{DROP}}] ^ s[(s[i] + s[j]) & 255];
	}
	memset(key, 0, sizeof key);
	puts(bad ? "{{NO}}" : "{{YES}}");
	return bad != 0;
}
`, "BLOB", revpwnCBytes(blob), "KEYLEN", fmt.Sprint(keyLen), "MASK", fmt.Sprint(mask), "DROP", fmt.Sprint(drop),
		"ASK", revpwnPick(r, "Activation code: ", "Key: ", "Unlock code: "),
		"NO", revpwnPick(r, "Invalid code.", "Locked.", "Wrong."), "YES", revpwnPick(r, "Activated.", "Unlocked.", "Right."))
	sol := fmt.Sprintf(`#!/bin/bash
# The stripped, optimised checker keeps a %[1]d-byte key (each byte stored
# XOR %[2]d XOR 7*i) followed by the ciphertext in one table; it runs RC4,
# drops the first %[3]d keystream bytes and compares. Try every offset.
python3 - <<'PY'
%[4]s
KEYLEN, MASK, DROP = %[1]d, %[2]d, %[3]d
def rc4(key, n):
    s = list(range(256)); j = 0
    for i in range(256):
        j = (j + s[i] + key[i %% len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    i = j = 0; out = []
    for k in range(DROP + n):
        i = (i + 1) & 255; j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        if k >= DROP: out.append(s[(s[i] + s[j]) & 255])
    return out
def decode(d, s):
    if s + KEYLEN + 5 > len(d):
        return None
    key = [d[s + i] ^ MASK ^ ((i * 7) & 255) for i in range(KEYLEN)]
    ct = d[s + KEYLEN:s + KEYLEN + 110]
    if bytes(c ^ k for c, k in zip(ct[:5], rc4(key, 5))) != b'flag{':
        return None
    return bytes(c ^ k for c, k in zip(ct, rc4(key, len(ct))))
print(scan('%[5]s', decode))
PY
`, keyLen, mask, drop, revpwnELFPy, prog)
	return &Task{
		Prompt:   revpwnStatement(prog, "The program is optimised and stripped. "),
		Setup:    []sandbox.Step{revpwnCompile(prog, "-O2 -s", src)},
		Solution: sol,
	}, nil
}
