package playground

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbedded(t *testing.T) {
	for _, name := range []string{"index.html", "playground.js", "playground.css", "sw.js"} {
		if _, err := fs.Stat(FS(), name); err != nil {
			t.Errorf("%s is not embedded: %v", name, err)
		}
	}
}

func TestHandler(t *testing.T) {
	wasm := bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00"), 4096)
	h := HandlerFS(fstest.MapFS{
		"index.html":      {Data: []byte("<!doctype html><title>fhirbridge</title>")},
		"playground.js":   {Data: []byte(strings.Repeat("console.log(1);\n", 200))},
		"fhirbridge.wasm": {Data: wasm},
	})
	get := func(path string, header ...string) *http.Response {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}

	tests := []struct {
		name, path, ctype string
		status            int
	}{
		{name: "root is index.html", path: "/", ctype: "text/html; charset=utf-8", status: 200},
		{name: "script", path: "/playground.js", ctype: "text/javascript; charset=utf-8", status: 200},
		{name: "module", path: "/fhirbridge.wasm", ctype: "application/wasm", status: 200},
		{name: "missing", path: "/nothing.js", status: 404},
		{name: "outside", path: "/../../etc/passwd", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.ctype != "" && res.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
		})
	}

	t.Run("ETag and 304", func(t *testing.T) {
		etag := get("/fhirbridge.wasm").Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if res := get("/fhirbridge.wasm", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
			t.Errorf("status %d, want 304", res.StatusCode)
		}
	})

	t.Run("gzip", func(t *testing.T) {
		res := get("/fhirbridge.wasm", "Accept-Encoding", "br, gzip")
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, wasm) {
			t.Errorf("the gzipped body does not decode to the file (%v)", err)
		}
		if res := get("/fhirbridge.wasm", "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
			t.Errorf("gzip sent to a client that refused it")
		}
	})

	t.Run("CSP on the page", func(t *testing.T) {
		csp := get("/").Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "'wasm-unsafe-eval'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
	})

	t.Run("POST", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", rec.Code)
		}
	})
}

func TestNotBuilt(t *testing.T) {
	fsys := fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}
	if Built(fsys) {
		t.Fatal("Built = true without fhirbridge.wasm")
	}
	rec := httptest.NewRecorder()
	HandlerFS(fsys).ServeHTTP(rec, httptest.NewRequest("GET", "/fhirbridge.wasm", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "go generate ./wasm") {
		t.Errorf("status %d, body %q; want 404 saying how to build it", rec.Code, rec.Body.String())
	}
}
