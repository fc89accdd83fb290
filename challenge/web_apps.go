package challenge

// The web challenges' applications: small python3 standard-library HTTP
// servers (http.server, sqlite3 in memory) started inside the box on its
// loopback. Each app's source is the same for every instance of its
// generator; the instance (names, port numbers, filter variant, secrets)
// and the flag arrive on standard input — line 1 the flag, line 2 a JSON
// object — so reading /srv/app.py shows the bug but never the secrets.
// Every app drops its dumpable flag (prctl(PR_SET_DUMPABLE, 0)) right
// after reading stdin, so /proc/PID/mem and /proc/PID/environ are closed.

// webPrologue is shared by every app.
const webPrologue = `import sys, os, re, json, html, hmac, base64, hashlib, ctypes, sqlite3, threading
import http.server, urllib.parse, urllib.request, urllib.error

FLAG = sys.stdin.readline().strip()
CFG = json.loads(sys.stdin.readline() or "{}")
sys.stdin.close()
try:
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
except Exception:
    pass
PORT = int(sys.argv[1])
LOCK = threading.Lock()


class Base(http.server.BaseHTTPRequestHandler):
    server_version = "httpd/2.4"
    sys_version = ""

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/html; charset=utf-8", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, urllib.parse.parse_qs(u.query, keep_blank_values=True)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 16)).decode("utf-8", "replace")
        return urllib.parse.parse_qs(body, keep_blank_values=True)

    def cookie(self, name):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None


def one(q, name):
    return (q.get(name) or [""])[0]


def page(title, body):
    return ("<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1>%s</body></html>"
            % (html.escape(title), html.escape(title), body))


def serve(handler, port=PORT):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    srv.serve_forever()
`

// appSQLiLogin: a login form whose query is built by string formatting.
const appSQLiLogin = webPrologue + `
DB = sqlite3.connect(":memory:", check_same_thread=False)
T = CFG["table"]
DB.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, %s TEXT, %s TEXT, role TEXT)" % (T, CFG["ucol"], CFG["pcol"]))
for u, p, r in CFG["users"]:
    DB.execute("INSERT INTO %s (%s, %s, role) VALUES (?, ?, ?)" % (T, CFG["ucol"], CFG["pcol"]), (u, p, r))

FORM = ('<form method="POST" action="/login"><input name="%s" placeholder="username"> '
        '<input name="%s" type="password" placeholder="password"> <button>Sign in</button></form>'
        % (CFG["uf"], CFG["pf"]))


class H(Base):
    def do_GET(self):
        path, _ = self.route()
        if path == "/":
            return self.send(200, page(CFG["title"], "<p>Staff only. Please sign in.</p>" + FORM))
        self.send(404, page("Not found", ""))

    def do_POST(self):
        path, _ = self.route()
        if path != "/login":
            return self.send(404, page("Not found", ""))
        f = self.form()
        sql = "SELECT %s, role FROM %s WHERE %s = '%s' AND %s = '%s'" % (
            CFG["ucol"], T, CFG["ucol"], one(f, CFG["uf"]), CFG["pcol"], one(f, CFG["pf"]))
        try:
            with LOCK:
                row = DB.execute(sql).fetchone()
        except sqlite3.Error as e:
            return self.send(500, page("Error", "<pre>database error: %s</pre>" % html.escape(str(e))))
        if row is None:
            return self.send(403, page(CFG["title"], "<p>Invalid username or password.</p>" + FORM))
        if row[1] == "admin":
            return self.send(200, page(CFG["title"], "<p>Welcome back, %s. Admin token: %s</p>" % (html.escape(row[0]), FLAG)))
        self.send(200, page(CFG["title"], "<p>Welcome, %s. Nothing here for you.</p>" % html.escape(row[0])))


serve(H)
`

// appSQLiUnion: a product search that prints the rows of a query built by
// string formatting; the flag is in another table.
const appSQLiUnion = webPrologue + `
DB = sqlite3.connect(":memory:", check_same_thread=False)
T = CFG["table"]
DB.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, name TEXT, price REAL)" % T)
for name, price in CFG["items"]:
    DB.execute("INSERT INTO %s (name, price) VALUES (?, ?)" % T, (name, price))
DB.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, %s TEXT)" % (CFG["hidden"], CFG["hcol"]))
DB.execute("INSERT INTO %s (%s) VALUES (?)" % (CFG["hidden"], CFG["hcol"]), (FLAG,))

FORM = '<form action="/%s"><input name="%s" placeholder="search"> <button>Search</button></form>' % (CFG["endpoint"], CFG["param"])


class H(Base):
    def do_GET(self):
        path, q = self.route()
        if path == "/":
            return self.send(200, page(CFG["title"], "<p>Search our catalogue.</p>" + FORM))
        if path != "/" + CFG["endpoint"]:
            return self.send(404, page("Not found", ""))
        sql = "SELECT name, price FROM %s WHERE name LIKE '%%%s%%'" % (T, one(q, CFG["param"]))
        try:
            with LOCK:
                rows = DB.execute(sql).fetchall()
        except sqlite3.Error as e:
            return self.send(500, page("Error", "<pre>database error: %s</pre>" % html.escape(str(e))))
        items = "".join("<li>%s: %s</li>" % (html.escape(str(a)), html.escape(str(b))) for a, b in rows)
        self.send(200, page(CFG["title"], FORM + "<ul>%s</ul><p>%d result(s)</p>" % (items, len(rows))))


serve(H)
`

// appSQLiBlind: a username-availability check that answers only yes or
// no; an input filter (variant) rejects some characters.
const appSQLiBlind = webPrologue + `
DB = sqlite3.connect(":memory:", check_same_thread=False)
T = CFG["table"]
DB.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, %s TEXT, email TEXT)" % (T, CFG["ucol"]))
for u in CFG["users"]:
    DB.execute("INSERT INTO %s (%s, email) VALUES (?, ?)" % (T, CFG["ucol"]), (u, u + "@example.org"))
DB.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, %s TEXT)" % (CFG["hidden"], CFG["hcol"]))
DB.execute("INSERT INTO %s (%s) VALUES (?)" % (CFG["hidden"], CFG["hcol"]), (FLAG,))


def rejected(v):
    if re.search(r"union", v, re.I):
        return True
    if CFG["filter"] >= 1 and re.search(r"\s", v):
        return True
    if CFG["filter"] >= 2 and ("--" in v or ";" in v or "#" in v):
        return True
    return False


class H(Base):
    def do_GET(self):
        path, q = self.route()
        if path == "/":
            return self.send(200, page(CFG["title"], "<p>Sign-up is open. Check whether your name is free: "
                                       "<code>GET /%s?%s=NAME</code></p>" % (CFG["endpoint"], CFG["param"])))
        if path != "/" + CFG["endpoint"]:
            return self.send(404, page("Not found", ""))
        v = one(q, CFG["param"])
        if rejected(v):
            return self.send(400, json.dumps({"error": "invalid characters in name"}), "application/json")
        sql = "SELECT count(*) FROM %s WHERE %s = '%s'" % (T, CFG["ucol"], v)
        try:
            with LOCK:
                n = DB.execute(sql).fetchone()[0]
        except sqlite3.Error:
            n = 0
        self.send(200, json.dumps({"name": v, "available": n == 0}), "application/json")


serve(H)
`

// appPath: a document download whose file name is joined to the document
// directory of a virtual file system held in memory; the filter variant
// (0 none) decides which naive defence the path passes first.
const appPath = webPrologue + `
import posixpath

BASE = CFG["base"]
FILES = {posixpath.join(BASE, n): body for n, body in CFG["docs"]}
FILES.update({p: body for p, body in CFG["system"]})
FILES[CFG["flagpath"]] = FLAG + "\n"


def resolve(name):
    f = CFG["filter"]
    if f in (1, 2) and name.startswith("/"):
        return None, "absolute paths are not allowed"
    if f == 1:
        name = name.replace("../", "")
    elif f == 2:
        if ".." in name:
            return None, "path traversal attempt blocked"
        name = urllib.parse.unquote(name)
    elif f == 3:
        if not name.startswith(BASE + "/"):
            return None, "only files under %s may be downloaded" % BASE
    return posixpath.normpath(posixpath.join(BASE, name)), None


class H(Base):
    def do_GET(self):
        path, q = self.route()
        if path == "/":
            names = [posixpath.join(BASE, n) if CFG["filter"] == 3 else n for n, _ in CFG["docs"]]
            links = "".join('<li><a href="/%s?%s=%s">%s</a></li>' % (
                CFG["endpoint"], CFG["param"], urllib.parse.quote(n), html.escape(n)) for n in names)
            return self.send(200, page(CFG["title"], "<p>Public documents:</p><ul>%s</ul>" % links))
        if path != "/" + CFG["endpoint"]:
            return self.send(404, page("Not found", ""))
        full, err = resolve(one(q, CFG["param"]))
        if err:
            return self.send(400, page("Bad request", "<p>%s</p>" % html.escape(err)))
        body = FILES.get(full)
        if body is None:
            return self.send(404, page("Not found", "<p>no such file: %s</p>" % html.escape(full)))
        self.send(200, body, "application/octet-stream")


serve(H)
`

// appIDOR: a billing portal whose record API checks the session but not
// the record's owner.
const appIDOR = webPrologue + `
SESSIONS = {}
RECORDS = {int(r["id"]): r for r in CFG["records"]}
for r in RECORDS.values():
    if r["owner"] == CFG["admin"]:
        r["note"] = r["note"] + " " + FLAG
        break

FORM = ('<form method="POST" action="/login"><input name="username"> '
        '<input name="password" type="password"> <button>Sign in</button></form>')


class H(Base):
    def user(self):
        return SESSIONS.get(self.cookie("session") or "")

    def do_GET(self):
        path, _ = self.route()
        if path == "/":
            return self.send(200, page(CFG["title"], "<p>Customer portal.</p>" + FORM))
        u = self.user()
        prefix = "/api/" + CFG["kind"]
        if path in (prefix, prefix + "/"):
            if u is None:
                return self.send(401, json.dumps({"error": "login required"}), "application/json")
            mine = [{"id": r["id"], "title": r["title"]} for r in RECORDS.values() if r["owner"] == u]
            return self.send(200, json.dumps(mine), "application/json")
        if path.startswith(prefix + "/"):
            if u is None:
                return self.send(401, json.dumps({"error": "login required"}), "application/json")
            try:
                r = RECORDS.get(int(path[len(prefix) + 1:]))
            except ValueError:
                r = None
            if r is None:
                return self.send(404, json.dumps({"error": "not found"}), "application/json")
            return self.send(200, json.dumps(r), "application/json")
        self.send(404, page("Not found", ""))

    def do_POST(self):
        path, _ = self.route()
        if path != "/login":
            return self.send(404, page("Not found", ""))
        f = self.form()
        u, p = one(f, "username"), one(f, "password")
        if u != CFG["user"] or p != CFG["password"]:
            return self.send(403, page(CFG["title"], "<p>Invalid credentials.</p>" + FORM))
        sid = os.urandom(16).hex()
        with LOCK:
            SESSIONS[sid] = u
        self.send(200, page(CFG["title"], '<p>Welcome %s. Your %s: <a href="/api/%s">/api/%s</a></p>' % (
            html.escape(u), CFG["kind"], CFG["kind"], CFG["kind"])),
            headers=[("Set-Cookie", "session=%s; Path=/; HttpOnly" % sid)])


serve(H)
`

// appJWT: a portal whose session is a JSON Web Token; variant 0 accepts
// alg "none", variant 1 signs with a word from a small list.
const appJWT = webPrologue + `
KEY = CFG["key"].encode() if CFG["variant"] == 1 else os.urandom(32)


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def sign(payload):
    h = b64e(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64e(json.dumps(payload, separators=(",", ":")).encode())
    s = b64e(hmac.new(KEY, (h + "." + p).encode(), hashlib.sha256).digest())
    return h + "." + p + "." + s


def verify(tok):
    try:
        h, p, s = tok.split(".")
        hdr = json.loads(b64d(h))
        body = json.loads(b64d(p))
    except Exception:
        return None
    if not isinstance(hdr, dict) or not isinstance(body, dict):
        return None
    alg = str(hdr.get("alg", ""))
    if CFG["variant"] == 0 and alg.lower() == "none":
        return body
    if alg != "HS256":
        return None
    want = b64e(hmac.new(KEY, (h + "." + p).encode(), hashlib.sha256).digest())
    return body if hmac.compare_digest(want, s) else None


FORM = ('<form method="POST" action="/login"><input name="username"> '
        '<input name="password" type="password"> <button>Sign in</button></form>')


class H(Base):
    def do_GET(self):
        path, _ = self.route()
        if path == "/":
            return self.send(200, page(CFG["title"], "<p>Members area.</p>" + FORM))
        claims = verify(self.cookie(CFG["cookie"]) or "")
        if path == "/profile":
            if claims is None:
                return self.send(401, page("Unauthorized", "<p>Please sign in.</p>"))
            return self.send(200, page("Profile", "<p>User: %s<br>Role: %s</p><p><a href=\"/%s\">Admin panel</a></p>" % (
                html.escape(str(claims.get("sub"))), html.escape(str(claims.get("role"))), CFG["admin_path"])))
        if path == "/" + CFG["admin_path"]:
            if claims is None:
                return self.send(401, page("Unauthorized", "<p>Please sign in.</p>"))
            if claims.get("role") != "admin":
                return self.send(403, page("Forbidden", "<p>Administrators only.</p>"))
            return self.send(200, page("Admin panel", "<p>Release key: %s</p>" % FLAG))
        self.send(404, page("Not found", ""))

    def do_POST(self):
        path, _ = self.route()
        if path != "/login":
            return self.send(404, page("Not found", ""))
        f = self.form()
        if one(f, "username") != CFG["user"] or one(f, "password") != CFG["password"]:
            return self.send(403, page(CFG["title"], "<p>Invalid credentials.</p>" + FORM))
        tok = sign({"sub": CFG["user"], "role": "member"})
        self.send(200, page(CFG["title"], '<p>Signed in. <a href="/profile">Profile</a></p>'),
                  headers=[("Set-Cookie", "%s=%s; Path=/" % (CFG["cookie"], tok))])


serve(H)
`

// appSSRF: a link-preview service that fetches URLs for its users, with a
// blocklist (variant) in front of an internal admin service on a second
// loopback port, which answers only requests carrying the fetcher's
// in-memory service token.
const appSSRF = webPrologue + `
TOKEN = os.urandom(16).hex()
INTERNAL = CFG["internal"]


def blocked(host):
    h = host.lower().strip("[]")
    v = CFG["variant"]
    if h in ("localhost", "127.0.0.1", "") or h.endswith(".localhost"):
        return True
    if v >= 1 and (h.startswith("127.") or h in ("0.0.0.0", "0", "::1", "::")):
        return True
    if v >= 2 and re.fullmatch(r"[0-9.]+", h):
        return True
    return False


class Internal(Base):
    def do_GET(self):
        if not hmac.compare_digest(self.headers.get("X-Service-Token") or "", TOKEN):
            return self.send(403, "forbidden: internal clients only\n", "text/plain")
        path, _ = self.route()
        if path == "/":
            return self.send(200, "admin console\nendpoints: /%s\n" % CFG["secret_path"], "text/plain")
        if path == "/" + CFG["secret_path"]:
            return self.send(200, "deploy key: %s\n" % FLAG, "text/plain")
        self.send(404, "not found\n", "text/plain")


class H(Base):
    def do_GET(self):
        path, q = self.route()
        if path == "/":
            return self.send(200, page(CFG["title"], (
                "<p>Paste a link and we fetch a preview for you: <code>GET /%s?%s=URL</code></p>"
                "<p>Notice: the admin console moved to an internal-only service on port %d.</p>")
                % (CFG["endpoint"], CFG["param"], INTERNAL)))
        if path != "/" + CFG["endpoint"]:
            return self.send(404, page("Not found", ""))
        url = one(q, CFG["param"])
        try:
            u = urllib.parse.urlsplit(url)
            host = u.hostname or ""
        except ValueError:
            return self.send(400, page("Bad request", "<p>invalid URL</p>"))
        if u.scheme not in ("http", "https"):
            return self.send(400, page("Bad request", "<p>only http and https URLs</p>"))
        if blocked(host):
            return self.send(403, page("Blocked", "<p>requests to internal hosts are not allowed</p>"))
        req = urllib.request.Request(url, headers={"User-Agent": "preview-bot/1.0", "X-Service-Token": TOKEN})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                body = r.read(1 << 16)
        except urllib.error.HTTPError as e:
            body = e.read(1 << 16)
        except Exception as e:
            return self.send(502, page("Fetch failed", "<p>%s</p>" % html.escape(str(e))))
        self.send(200, page("Preview", "<pre>%s</pre>" % html.escape(body.decode("utf-8", "replace"))))


threading.Thread(target=serve, args=(Internal, INTERNAL), daemon=True).start()
serve(H)
`
