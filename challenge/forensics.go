package challenge

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/sandbox"
)

// forensicsGenerators are the forensics challenges: a flag in an
// archive, in image metadata or pixels, in captured traffic and in a
// deleted file of a filesystem image.
var forensicsGenerators = []Generator{
	{Name: "forensics.archive-nested", Category: Forensics, Difficulty: 1,
		Summary: "a tar.gz of decoy files holding a zip whose deflated notes file has the flag: extract both layers and search",
		Make:    makeArchiveNested},
	{Name: "forensics.png-ztxt", Category: Forensics, Difficulty: 1,
		Summary: "a PNG whose compressed zTXt comment chunk holds the flag: walk the chunks and inflate it",
		Make:    makePNGzTXt},
	{Name: "forensics.png-appended", Category: Forensics, Difficulty: 1,
		Summary: "a PNG with a zip archive appended after its IEND chunk; the zip's deflated note holds the flag: cut after IEND and unzip",
		Make:    makePNGAppended},
	{Name: "forensics.pcap-http", Category: Forensics, Difficulty: 2,
		Summary: "a pcap of HTTP sessions with gzip-encoded bodies split over TCP segments: reassemble the streams, gunzip the bodies",
		Make:    makePcapHTTP},
	{Name: "forensics.fat-deleted", Category: Forensics, Difficulty: 2,
		Summary: "a FAT12 floppy image where a deleted (0xE5) gzip file's clusters remain: carve and gunzip it",
		Make:    makeFATDeleted},
	{Name: "forensics.pcap-dns", Category: Forensics, Difficulty: 3,
		Summary: "a pcap with DNS exfiltration among normal lookups: parse the queries, order the numbered base32 labels, decode",
		Make:    makePcapDNS},
	{Name: "forensics.png-lsb", Category: Forensics, Difficulty: 3,
		Summary: "a PNG carrying a length-prefixed message in the least significant bits of its RGB samples: unfilter the IDAT data and read the bits",
		Make:    makePNGLSB},
}

var cfWords = []string{"alpha", "harbor", "copper", "willow", "granite", "falcon", "ember", "meadow", "orbit", "cobalt",
	"lantern", "summit", "river", "quartz", "cedar", "signal", "atlas", "delta", "nimbus", "pioneer"}

// cfGzip compresses b with gzip at the best compression, with a fixed
// header (no name, zero time) so the output is deterministic.
func cfGzip(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// cfLog is a few dozen lines of a plausible application log, with the
// flag on one line when flag is not empty.
func cfLog(r *rand.Rand, lines int, flag string) []byte {
	var b strings.Builder
	at := r.IntN(lines)
	ts := time.Date(2026, 3, 1+r.IntN(27), 8, 0, 0, 0, time.UTC)
	for i := range lines {
		ts = ts.Add(time.Duration(1+r.IntN(300)) * time.Second)
		fmt.Fprintf(&b, "%s ", ts.Format(time.RFC3339))
		switch {
		case i == at && flag != "":
			fmt.Fprintf(&b, "INFO  vault: recovery token issued to %s: %s\n", cfPick(r, cfWords), flag)
		default:
			fmt.Fprintf(&b, "%s %s: %s %s request from 10.0.%d.%d took %dms\n", cfPick(r, []string{"INFO ", "DEBUG", "WARN "}),
				cfPick(r, cfWords), cfPick(r, []string{"GET", "POST", "sync", "backup"}), cfPick(r, cfWords),
				r.IntN(8), 2+r.IntN(250), 1+r.IntN(900))
		}
	}
	return []byte(b.String())
}

func makeArchiveNested(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.archive-nested")
	mtime := time.Date(2026, 2, 1+r.IntN(27), 9+r.IntN(9), r.IntN(60), 0, 0, time.UTC)

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	names := []string{"site/index.html", "site/about.html", "config/app.yaml", "logs/app.log", "home/" + cfPick(r, cfWords) + "/.notes/notes.txt"}
	for i, name := range names {
		var data []byte
		switch {
		case i == len(names)-1:
			data = cfLog(r, 40+r.IntN(20), flag)
		case strings.HasSuffix(name, ".log"):
			data = cfLog(r, 80, "")
		case strings.HasSuffix(name, ".yaml"):
			data = fmt.Appendf(nil, "listen: 0.0.0.0:%d\nworkers: %d\nlog_level: info\n", 8000+r.IntN(1000), 2+r.IntN(8))
		default:
			data = fmt.Appendf(nil, "<html><body><h1>%s %s</h1><p>%s</p></body></html>\n", cfPick(r, cfWords), cfPick(r, cfWords), cfPick(r, cfSentences))
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime})
		if err != nil {
			return nil, fmt.Errorf("write zip: %w", err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write zip: %w", err)
	}

	var tbuf bytes.Buffer
	tw := tar.NewWriter(&tbuf)
	members := []struct {
		name string
		data []byte
	}{
		{"evidence/README.txt", []byte("Seized from the suspect's workstation. Chain of custody form #" + fmt.Sprint(1000+r.IntN(9000)) + ".\n")},
		{"evidence/syslog", cfLog(r, 120, "")},
		{"evidence/backups/backup-" + mtime.Format("20060102") + ".zip", zbuf.Bytes()},
		{"evidence/photos/readme.txt", []byte("photos removed by request\n")},
	}
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return nil, fmt.Errorf("write tar: %w", err)
		}
		tw.Write(m.data)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write tar: %w", err)
	}
	t := &Task{
		Prompt: "evidence.tar.gz is a copy of the files taken from a suspect's workstation. Somewhere in it is the flag.",
		Files:  []sandbox.File{{Path: "evidence.tar.gz", Data: cfGzip(tbuf.Bytes())}},
		Solution: `mkdir -p x && tar -xzf evidence.tar.gz -C x && python3 - <<'EOF'
import os, re, zipfile
for root, _, files in os.walk('x'):
    for f in files:
        p = os.path.join(root, f)
        blobs = []
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                blobs = [z.read(n) for n in z.namelist()]
        else:
            blobs = [open(p, 'rb').read()]
        for b in blobs:
            for m in re.findall(rb'flag\{[^}]*\}', b):
                print(m.decode())
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

// cfPicture draws a deterministic picture: gradients, a few discs and
// noise, opaque.
func cfPicture(r *rand.Rand, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	type disc struct {
		x, y, rad int
		c         color.NRGBA
	}
	var ds []disc
	for range 3 + r.IntN(4) {
		ds = append(ds, disc{r.IntN(w), r.IntN(h), 8 + r.IntN(h/3), color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}})
	}
	base := [3]int{r.IntN(128), r.IntN(128), r.IntN(128)}
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(base[0] + x*100/w), uint8(base[1] + y*100/h), uint8(base[2] + (x+y)*60/(w+h)), 255}
			for _, d := range ds {
				if (x-d.x)*(x-d.x)+(y-d.y)*(y-d.y) < d.rad*d.rad {
					c = d.c
				}
			}
			n := r.IntN(7) - 3
			c.R, c.G, c.B = clamp8(int(c.R)+n), clamp8(int(c.G)+n), clamp8(int(c.B)+n)
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func clamp8(v int) uint8 { return uint8(min(255, max(0, v))) }

// pngChunk encodes one PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngInsert puts chunks right after a PNG's IHDR chunk.
func pngInsert(p []byte, chunks ...[]byte) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4
	out := append([]byte(nil), p[:ihdrEnd]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[ihdrEnd:]...)
}

func makePNGzTXt(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.png-ztxt")
	var buf bytes.Buffer
	if err := png.Encode(&buf, cfPicture(r, 160+r.IntN(80), 120+r.IntN(60))); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	fmt.Fprintf(zw, "Holiday photo, %s lake. Note to self: the locker combination is %s - the locker is next to the %s %s, "+
		"the locker combination is for the small locker, not the large locker.", cfPick(r, cfWords), flag, cfPick(r, cfWords), cfPick(r, cfWords))
	zw.Close()
	comment := append([]byte("Comment\x00\x00"), z.Bytes()...)
	img := pngInsert(buf.Bytes(),
		pngChunk("tEXt", []byte("Software\x00PhotoEdit "+fmt.Sprint(2+r.IntN(5))+"."+fmt.Sprint(r.IntN(10)))),
		pngChunk("tEXt", []byte("Author\x00"+strings.ToUpper(cfPick(r, cfWords)[:1])+cfPick(r, cfWords)[1:])),
		pngChunk("zTXt", comment))
	name := cfPick(r, cfWords) + ".png"
	t := &Task{
		Prompt: fmt.Sprintf("%s was posted by an account we are investigating. The picture itself shows nothing of interest. Find the flag.", name),
		Files:  []sandbox.File{{Path: name, Data: img}},
		Solution: fmt.Sprintf(`python3 - <<'EOF'
import re, struct, zlib
d = open(%q, 'rb').read()
i = 8
while i < len(d):
    n, typ = struct.unpack('>I4s', d[i:i + 8])
    body = d[i + 8:i + 8 + n]
    if typ == b'zTXt':
        text = zlib.decompress(body[body.index(b'\0') + 2:])
    elif typ == b'tEXt':
        text = body
    else:
        text = b''
    for m in re.findall(rb'flag\{[^}]*\}', text):
        print(m.decode())
    i += 12 + n
EOF
`, name),
	}
	return t, cfCheckHidden(t, flag)
}

// pcapWriter writes a classic libpcap file of Ethernet frames.
type pcapWriter struct {
	buf bytes.Buffer
	ts  time.Time
}

func newPcap(start time.Time) *pcapWriter {
	w := &pcapWriter{ts: start}
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1) // Ethernet
	w.buf.Write(h)
	return w
}

func (w *pcapWriter) frame(gap time.Duration, f []byte) {
	w.ts = w.ts.Add(gap)
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], uint32(w.ts.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(w.ts.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(f)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(f)))
	w.buf.Write(h)
	w.buf.Write(f)
}

type host struct {
	mac [6]byte
	ip  [4]byte
}

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// ipFrame wraps a transport segment (its checksum field at csumAt, or -1)
// in IPv4 and Ethernet.
func ipFrame(src, dst host, proto byte, seg []byte, csumAt int, id uint16) []byte {
	if csumAt >= 0 {
		pseudo := append(append(append([]byte{}, src.ip[:]...), dst.ip[:]...), 0, proto, byte(len(seg)>>8), byte(len(seg)))
		var s uint32
		for i := 0; i < len(pseudo); i += 2 {
			s += uint32(binary.BigEndian.Uint16(pseudo[i:]))
		}
		binary.BigEndian.PutUint16(seg[csumAt:], csum(seg, s))
	}
	ip := make([]byte, 20)
	ip[0], ip[8], ip[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(seg)))
	binary.BigEndian.PutUint16(ip[4:], id)
	ip[6] = 0x40 // don't fragment
	copy(ip[12:], src.ip[:])
	copy(ip[16:], dst.ip[:])
	binary.BigEndian.PutUint16(ip[10:], csum(ip, 0))
	f := append(append(append([]byte{}, dst.mac[:]...), src.mac[:]...), 0x08, 0x00)
	return append(append(f, ip...), seg...)
}

// tcpFlow is one side's sequence state of a TCP connection.
type tcpFlow struct {
	src, dst     host
	sport, dport uint16
	seq, ack     uint32
	id           uint16
}

func (f *tcpFlow) send(w *pcapWriter, gap time.Duration, flags byte, payload []byte) {
	seg := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(seg[0:], f.sport)
	binary.BigEndian.PutUint16(seg[2:], f.dport)
	binary.BigEndian.PutUint32(seg[4:], f.seq)
	binary.BigEndian.PutUint32(seg[8:], f.ack)
	seg[12], seg[13] = 5<<4, flags
	binary.BigEndian.PutUint16(seg[14:], 64240)
	seg = append(seg, payload...)
	f.id++
	w.frame(gap, ipFrame(f.src, f.dst, 6, seg, 16, f.id))
	f.seq += uint32(len(payload))
	if flags&(tcpSYN|tcpFIN) != 0 {
		f.seq++
	}
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// tcpSession writes a whole TCP connection: handshake, the request, the
// response in segments of at most mss bytes, and the close.
func tcpSession(w *pcapWriter, r *rand.Rand, cli, srv host, cport, sport uint16, req, resp []byte, mss int) {
	c := &tcpFlow{src: cli, dst: srv, sport: cport, dport: sport, seq: r.Uint32(), id: uint16(r.Uint32())}
	s := &tcpFlow{src: srv, dst: cli, sport: sport, dport: cport, seq: r.Uint32(), id: uint16(r.Uint32())}
	ms := time.Millisecond
	c.send(w, time.Duration(r.IntN(900))*ms, tcpSYN, nil)
	s.ack = c.seq
	s.send(w, time.Duration(5+r.IntN(30))*ms, tcpSYN|tcpACK, nil)
	c.ack = s.seq
	c.send(w, 200*time.Microsecond, tcpACK, nil)
	c.send(w, 300*time.Microsecond, tcpACK|tcpPSH, req)
	s.ack = c.seq
	s.send(w, time.Duration(5+r.IntN(30))*ms, tcpACK, nil)
	for i := 0; i < len(resp); i += mss {
		s.send(w, time.Duration(r.IntN(3000))*time.Microsecond, tcpACK|tcpPSH, resp[i:min(len(resp), i+mss)])
		c.ack = s.seq
		if r.IntN(2) == 0 {
			c.send(w, 100*time.Microsecond, tcpACK, nil)
		}
	}
	c.ack = s.seq
	c.send(w, time.Duration(r.IntN(50))*ms, tcpFIN|tcpACK, nil)
	s.ack = c.seq
	s.send(w, ms, tcpFIN|tcpACK, nil)
	c.ack = s.seq
	c.send(w, 100*time.Microsecond, tcpACK, nil)
}

func randHost(r *rand.Rand, net [3]byte) host {
	h := host{ip: [4]byte{net[0], net[1], net[2], byte(2 + r.IntN(250))}}
	h.mac = [6]byte{0x02, byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	return h
}

func makePcapHTTP(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.pcap-http")
	cli := randHost(r, [3]byte{192, 168, byte(r.IntN(255))})
	srv := randHost(r, [3]byte{10, byte(r.IntN(255)), byte(r.IntN(255))})
	w := newPcap(time.Date(2026, 4, 1+r.IntN(28), 10+r.IntN(8), r.IntN(60), 0, 0, time.UTC))
	vhost := cfPick(r, cfWords) + "-intranet.corp"
	export := "/export/audit-" + fmt.Sprint(100+r.IntN(900)) + ".log"
	paths := []string{"/", "/static/app.css", "/api/status", "/news/" + cfPick(r, cfWords), export, "/favicon.ico", "/api/users"}
	r.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	secret := slices.Index(paths, export)
	cport := uint16(40000 + r.IntN(20000))
	for i, p := range paths {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"+
			"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n", p, vhost)
		var body []byte
		ctype := "text/html"
		switch {
		case i == secret:
			body, ctype = cfLog(r, 60+r.IntN(40), flag), "text/plain"
		case strings.HasPrefix(p, "/api/"):
			body, ctype = fmt.Appendf(nil, `{"ok":true,"node":"%s","load":%d,"users":[%q,%q]}`, cfPick(r, cfWords), r.IntN(100), cfPick(r, cfWords), cfPick(r, cfWords)), "application/json"
		case strings.HasSuffix(p, ".css"):
			body, ctype = []byte(strings.Repeat("body{margin:0;font-family:sans-serif}\n.nav{color:#333}\n", 5+r.IntN(20))), "text/css"
		case p == "/favicon.ico":
			body, ctype = cfBytes(r, 300+r.IntN(600)), "image/x-icon"
		default:
			body = fmt.Appendf(nil, "<html><head><title>%s</title></head><body>%s %s</body></html>\n", cfPick(r, cfWords),
				cfPick(r, cfSentences), cfPick(r, cfSentences))
		}
		gz := cfGzip(body)
		resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: %s\r\nContent-Encoding: gzip\r\n"+
			"Content-Length: %d\r\nConnection: close\r\n\r\n", ctype, len(gz))
		resp = append(resp, gz...)
		tcpSession(w, r, cli, srv, cport+uint16(i), 80, []byte(req), resp, 200+r.IntN(300))
	}
	t := &Task{
		Prompt: "capture.pcap was recorded on an employee's laptop while they browsed the intranet. Find the flag that was leaked.",
		Files:  []sandbox.File{{Path: "capture.pcap", Data: w.buf.Bytes()}},
		Solution: `python3 - <<'EOF'
import gzip, re, struct, zlib
d = open('capture.pcap', 'rb').read()
streams = {}
i = 24
while i < len(d):
    _, _, n, _ = struct.unpack('<IIII', d[i:i + 16])
    f = d[i + 16:i + 16 + n]
    i += 16 + n
    if f[12:14] != b'\x08\x00' or f[23] != 6:
        continue
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    tcp = ip[ihl:struct.unpack('>H', ip[2:4])[0]]
    sport, dport, seq = struct.unpack('>HHI', tcp[:8])
    payload = tcp[(tcp[12] >> 4) * 4:]
    if payload:
        streams.setdefault((ip[12:16], sport, ip[16:20], dport), {})[seq] = payload
for key, segs in streams.items():
    data = b''.join(segs[s] for s in sorted(segs))
    head, _, body = data.partition(b'\r\n\r\n')
    if b'content-encoding: gzip' in head.lower():
        body = gzip.decompress(body)
    elif b'content-encoding: deflate' in head.lower():
        body = zlib.decompress(body)
    for m in re.findall(rb'flag\{[^}]*\}', head + body):
        print(m.decode())
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

// dnsName encodes a domain name in DNS wire format.
func dnsName(name string) []byte {
	var b []byte
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// udpFrame builds a UDP datagram in IPv4 and Ethernet.
func udpFrame(src, dst host, sport, dport uint16, payload []byte, id uint16) []byte {
	seg := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(seg[0:], sport)
	binary.BigEndian.PutUint16(seg[2:], dport)
	binary.BigEndian.PutUint16(seg[4:], uint16(8+len(payload)))
	seg = append(seg, payload...)
	return ipFrame(src, dst, 17, seg, 6, id)
}

func makePcapDNS(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.pcap-dns")
	cli := randHost(r, [3]byte{172, 16, byte(r.IntN(255))})
	resolver := randHost(r, [3]byte{172, 16, cli.ip[2]})
	w := newPcap(time.Date(2026, 5, 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC))
	exfil := fmt.Sprintf("t%d.%s-%s.net", r.IntN(10), cfPick(r, cfWords), cfPick(r, []string{"cdn", "metrics", "updates", "telemetry"}))
	secret := fmt.Sprintf("host=ws-%d user=%s\nkey=%s\nnote=%s\n", r.IntN(100), cfPick(r, cfWords), flag, cfPick(r, cfSentences))
	enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret)))
	var qs []string
	for i, seq := 0, 0; i < len(enc); seq++ {
		n := min(len(enc)-i, 20+r.IntN(20))
		qs = append(qs, fmt.Sprintf("%d.%s.%s", seq, enc[i:i+n], exfil))
		i += n
	}
	// nearby queries may arrive out of order
	for i := 0; i+1 < len(qs); i++ {
		if r.IntN(4) == 0 {
			qs[i], qs[i+1] = qs[i+1], qs[i]
		}
	}
	noise := []string{"www.google.com", "api.github.com", "fonts.gstatic.com", "ocsp.digicert.com", "update.example.org",
		"mail.corp.example", "time.cloudflare.com", "www.wikipedia.org", "cdn.jsdelivr.net", "login.microsoftonline.com"}
	var all []string
	for _, q := range qs {
		for r.IntN(3) == 0 {
			all = append(all, cfPick(r, noise))
		}
		all = append(all, q)
	}
	for range 8 {
		all = append(all, cfPick(r, noise))
	}
	for _, name := range all {
		id := uint16(r.Uint32())
		qtype := uint16(1)
		if strings.HasSuffix(name, exfil) {
			qtype = 16 // TXT
		}
		q := binary.BigEndian.AppendUint16(nil, id)
		q = append(q, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
		question := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(dnsName(name), qtype), 1)
		q = append(q, question...)
		port := uint16(30000 + r.IntN(30000))
		w.frame(time.Duration(50+r.IntN(2000))*time.Millisecond, udpFrame(cli, resolver, port, 53, q, uint16(r.Uint32())))
		a := binary.BigEndian.AppendUint16(nil, id)
		a = append(a, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
		a = append(a, question...)
		a = append(a, 0xc0, 0x0c)
		if qtype == 16 {
			txt := []byte("ok")
			a = binary.BigEndian.AppendUint16(a, 16)
			a = append(a, 0, 1, 0, 0, 0, 60)
			a = binary.BigEndian.AppendUint16(a, uint16(len(txt)+1))
			a = append(append(a, byte(len(txt))), txt...)
		} else {
			a = append(a, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, byte(1+r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		}
		w.frame(time.Duration(5+r.IntN(40))*time.Millisecond, udpFrame(resolver, cli, 53, port, a, uint16(r.Uint32())))
	}
	t := &Task{
		Prompt: "dns.pcap was captured on a workstation we suspect of leaking data; no files left it over HTTP or e-mail. Find the flag.",
		Files:  []sandbox.File{{Path: "dns.pcap", Data: w.buf.Bytes()}},
		Solution: fmt.Sprintf(`python3 - <<'EOF'
import base64, re, struct
d = open('dns.pcap', 'rb').read()
EXFIL = %q
parts = {}
i = 24
while i < len(d):
    _, _, n, _ = struct.unpack('<IIII', d[i:i + 16])
    f = d[i + 16:i + 16 + n]
    i += 16 + n
    if f[12:14] != b'\x08\x00' or f[23] != 17:
        continue
    ip = f[14:]
    udp = ip[(ip[0] & 15) * 4:]
    dns = udp[8:]
    j, labels = 12, []
    while dns[j]:
        labels.append(dns[j + 1:j + 1 + dns[j]].decode())
        j += 1 + dns[j]
    name = '.'.join(labels)
    if name.endswith('.' + EXFIL):
        seq, chunk = labels[0], labels[1]
        parts[int(seq)] = chunk
data = ''.join(parts[k] for k in sorted(parts)).upper()
data += '=' * (-len(data) %% 8)
print(re.search(rb'flag\{[^}]*\}', base64.b32decode(data)).group(0).decode())
EOF
`, exfil),
	}
	return t, cfCheckHidden(t, flag)
}

// FAT12 geometry of a 1.44 MB floppy.
const (
	fatSector    = 512
	fatSectors   = 2880
	fatPerFAT    = 9
	fatRootStart = 1 + 2*fatPerFAT
	fatRootSecs  = 14
	fatDataStart = fatRootStart + fatRootSecs
)

func fatSet(fat []byte, n int, v uint16) {
	off := n * 3 / 2
	if n%2 == 0 {
		fat[off] = byte(v)
		fat[off+1] = fat[off+1]&0xF0 | byte(v>>8)&0x0F
	} else {
		fat[off] = fat[off]&0x0F | byte(v<<4)
		fat[off+1] = byte(v >> 4)
	}
}

func makeFATDeleted(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.fat-deleted")
	img := make([]byte, fatSectors*fatSector)
	b := img[:fatSector]
	copy(b, []byte{0xEB, 0x3C, 0x90})
	copy(b[3:], "MSWIN4.1")
	binary.LittleEndian.PutUint16(b[11:], fatSector)
	b[13] = 1                                  // sectors per cluster
	binary.LittleEndian.PutUint16(b[14:], 1)   // reserved sectors
	b[16] = 2                                  // FATs
	binary.LittleEndian.PutUint16(b[17:], 224) // root entries
	binary.LittleEndian.PutUint16(b[19:], fatSectors)
	b[21] = 0xF0
	binary.LittleEndian.PutUint16(b[22:], fatPerFAT)
	binary.LittleEndian.PutUint16(b[24:], 18)
	binary.LittleEndian.PutUint16(b[26:], 2)
	b[38] = 0x29
	binary.LittleEndian.PutUint32(b[39:], r.Uint32())
	copy(b[43:], fmt.Sprintf("%-11s", strings.ToUpper(cfPick(r, cfWords))))
	copy(b[54:], "FAT12   ")
	b[510], b[511] = 0x55, 0xAA
	fat := make([]byte, fatPerFAT*fatSector)
	fatSet(fat, 0, 0xFF0)
	fatSet(fat, 1, 0xFFF)

	stamp := time.Date(2025+r.IntN(2), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC)
	fatTime := uint16(stamp.Hour()<<11 | stamp.Minute()<<5)
	fatDate := uint16((stamp.Year()-1980)<<9 | int(stamp.Month())<<5 | stamp.Day())
	type file struct {
		name, ext string
		data      []byte
		deleted   bool
	}
	secretText := append(cfLog(r, 30, ""), fmt.Sprintf("\nDo not lose this: %s\n", flag)...)
	files := []file{
		{"README", "TXT", []byte("Backup disk. " + cfPick(r, cfSentences) + "\r\n"), false},
		{"TODO", "TXT", fmt.Appendf(nil, "- %s\r\n- %s\r\n- %s\r\n", cfPick(r, cfSentences), cfPick(r, cfSentences), cfPick(r, cfSentences)), false},
		{"SERVER", "LOG", cfLog(r, 50+r.IntN(50), ""), false},
		{strings.ToUpper(cfPick(r, cfWords)), "GZ", cfGzip(secretText), true},
		{"PHOTO", "BIN", cfBytes(r, 2000+r.IntN(3000)), false},
		{"NOTES", "TXT", fmt.Appendf(nil, "%s\r\n%s\r\n", cfPick(r, cfSentences), cfPick(r, cfSentences)), false},
	}
	r.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	root := img[fatRootStart*fatSector : fatDataStart*fatSector]
	copy(root, fmt.Sprintf("%-11s", strings.ToUpper(string(b[43:48]))))
	root[11] = 0x08 // volume label
	cluster := 2
	for i, f := range files {
		e := root[(i+1)*32 : (i+2)*32]
		copy(e, fmt.Sprintf("%-8s%-3s", f.name, f.ext))
		if f.deleted {
			e[0] = 0xE5
		}
		e[11] = 0x20
		binary.LittleEndian.PutUint16(e[14:], fatTime)
		binary.LittleEndian.PutUint16(e[16:], fatDate)
		binary.LittleEndian.PutUint16(e[18:], fatDate)
		binary.LittleEndian.PutUint16(e[22:], fatTime)
		binary.LittleEndian.PutUint16(e[24:], fatDate)
		binary.LittleEndian.PutUint16(e[26:], uint16(cluster))
		binary.LittleEndian.PutUint32(e[28:], uint32(len(f.data)))
		n := (len(f.data) + fatSector - 1) / fatSector
		copy(img[(fatDataStart+cluster-2)*fatSector:], f.data)
		if !f.deleted { // a deleted file's chain is zeroed; its data stays
			for k := range n {
				next := uint16(cluster + k + 1)
				if k == n-1 {
					next = 0xFFF
				}
				fatSet(fat, cluster+k, next)
			}
		}
		cluster += n
	}
	copy(img[fatSector:], fat)
	copy(img[(1+fatPerFAT)*fatSector:], fat)
	t := &Task{
		Prompt: "floppy.img is an image of a floppy disk found in a suspect's desk. The suspect says the disk holds nothing but old notes. Find the flag.",
		Files:  []sandbox.File{{Path: "floppy.img", Data: img}},
		Solution: `python3 - <<'EOF'
import gzip, re, struct
d = open('floppy.img', 'rb').read()
bps, spc, res, nfat, nroot = struct.unpack('<HBHBH', d[11:19])
spf = struct.unpack('<H', d[22:24])[0]
root = (res + nfat * spf) * bps
data = root + nroot * 32
for k in range(nroot):
    e = d[root + 32 * k:root + 32 * k + 32]
    if e[0] != 0xE5 or e[11] & 0x18:
        continue
    start, size = struct.unpack('<H', e[26:28])[0], struct.unpack('<I', e[28:32])[0]
    blob = d[data + (start - 2) * spc * bps:][:size]
    if blob[:2] == b'\x1f\x8b':
        blob = gzip.decompress(blob)
    for m in re.findall(rb'flag\{[^}]*\}', blob):
        print(m.decode())
EOF
`,
	}
	return t, cfCheckHidden(t, flag)
}

func makePNGLSB(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.png-lsb")
	pic := cfPicture(r, 200+r.IntN(100), 150+r.IntN(50))
	msg := []byte("meet at the " + cfPick(r, cfWords) + " pier at dawn; code " + flag)
	payload := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	payload = append(payload, msg...)
	bit := 0
	pix := pic.Pix
	for i := 0; i < len(pix) && bit < 8*len(payload); i++ {
		if i%4 == 3 { // alpha
			continue
		}
		v := payload[bit/8] >> (7 - bit%8) & 1
		pix[i] = pix[i]&^1 | v
		bit++
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, pic); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	name := cfPick(r, cfWords) + "_" + fmt.Sprint(1000+r.IntN(9000)) + ".png"
	t := &Task{
		Prompt: fmt.Sprintf("Two suspects exchange holiday pictures such as %s far more often than holidays would explain. "+
			"We believe the pictures carry messages. Find the flag.", name),
		Files: []sandbox.File{{Path: name, Data: buf.Bytes()}},
		Solution: fmt.Sprintf(`python3 - <<'EOF'
import re, struct, zlib
d = open(%q, 'rb').read()
i, idat = 8, b''
while i < len(d):
    n, typ = struct.unpack('>I4s', d[i:i + 8])
    body = d[i + 8:i + 8 + n]
    if typ == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif typ == b'IDAT':
        idat += body
    i += 12 + n
bpp = {2: 3, 6: 4}[ctype]
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
samples = bytearray()
for y in range(h):
    ft = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if ft == 1: line[x] = (line[x] + a) & 255
        elif ft == 2: line[x] = (line[x] + b) & 255
        elif ft == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif ft == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[x] = (line[x] + pr) & 255
    samples += bytes(v for k, v in enumerate(line) if k %% bpp < 3)
    prev = line
bits = [v & 1 for v in samples]
def byte_at(k):
    return sum(bits[8 * k + j] << (7 - j) for j in range(8))
n = struct.unpack('>I', bytes(byte_at(k) for k in range(4)))[0]
msg = bytes(byte_at(4 + k) for k in range(n))
print(re.search(rb'flag\{[^}]*\}', msg).group(0).decode())
EOF
`, name),
	}
	return t, cfCheckHidden(t, flag)
}

func makePNGAppended(seed int64, flag string) (*Task, error) {
	r := cfRand(seed, "forensics.png-appended")
	var buf bytes.Buffer
	if err := png.Encode(&buf, cfPicture(r, 180+r.IntN(100), 120+r.IntN(80))); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	mtime := time.Date(2026, 1, 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"drop/instructions.txt", []byte(cfLetter(r, 6, flag))},
		{"drop/contacts.txt", fmt.Appendf(nil, "%s\n%s\n", cfPick(r, cfWords), cfPick(r, cfWords))},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime})
		if err != nil {
			return nil, fmt.Errorf("write zip: %w", err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write zip: %w", err)
	}
	name := "IMG_" + fmt.Sprint(1000+r.IntN(9000)) + ".png"
	t := &Task{
		Prompt: fmt.Sprintf("%s was shared on a forum used by the group we follow. It looks like an ordinary picture, "+
			"but it is larger than it should be. Find the flag.", name),
		Files: []sandbox.File{{Path: name, Data: append(buf.Bytes(), zbuf.Bytes()...)}},
		Solution: fmt.Sprintf(`python3 - <<'EOF'
import io, re, zipfile
d = open(%q, 'rb').read()
tail = d[d.index(b'IEND') + 8:]
with zipfile.ZipFile(io.BytesIO(tail)) as z:
    for n in z.namelist():
        for m in re.findall(rb'flag\{[^}]*\}', z.read(n)):
            print(m.decode())
EOF
`, name),
	}
	return t, cfCheckHidden(t, flag)
}
