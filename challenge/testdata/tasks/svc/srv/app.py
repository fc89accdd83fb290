import http.server, sys
MSG = 'synt{t3_znqr_hc_rkgreany_gjb}'.encode()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(MSG))); self.end_headers(); self.wfile.write(MSG)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
