// Package playground serves fhirbridge's browser playground: a static page that converts
// messages with the WebAssembly module, entirely in the browser (no input leaves it).
//
// The page's own files are committed; the module and its glue (fhirbridge.wasm,
// wasm_exec.js, fhirbridge.js) and the examples (examples.json) are written into static/ by
// `go generate ./wasm`, and embedded by whatever is built after that. Without them the page
// says how to build them.
//
// `fhirbridge serve` mounts it at the root:
//
//	mux.Handle("GET /", playground.Handler())
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

// FS returns the embedded files of the playground, index.html at its root.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // "static" is a valid path
	}
	return sub
}

// Built reports whether fsys holds the WebAssembly module, that is, whether
// `go generate ./wasm` ran before the build.
func Built(fsys fs.FS) bool {
	_, err := fs.Stat(fsys, "fhirbridge.wasm")
	return err == nil
}

// Handler serves the embedded playground ([FS]).
func Handler() http.Handler { return HandlerFS(FS()) }

// HandlerFS serves a playground from fsys (for example os.DirFS("wasm/playground/static")).
// It answers GET and HEAD. Each file is read, hashed and gzipped once, on its first request,
// and kept in memory; responses carry its ETag and "Cache-Control: no-cache", so browsers
// revalidate (a 304 when nothing changed) and a new build shows at once, and they are gzipped
// for clients that accept it (fhirbridge.wasm shrinks about fourfold).
func HandlerFS(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys}
}

type handler struct {
	fsys  fs.FS
	files sync.Map // name → *file
}

// file is a served file, read and hashed once.
type file struct {
	once       sync.Once
	err        error
	data, gz   []byte
	etag, ctyp string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if name == "fhirbridge.wasm" && !Built(h.fsys) {
		http.Error(w, "fhirbridge.wasm is not built: run `go generate ./wasm`, then rebuild this program", http.StatusNotFound)
		return
	}
	v, _ := h.files.LoadOrStore(name, &file{})
	f := v.(*file)
	f.once.Do(func() { f.load(h.fsys, name) })
	if f.err != nil {
		h.files.Delete(name) // a file written later (go generate while serving from disk) is found
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctyp)
	hd.Set("ETag", f.etag)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	if name == "index.html" {
		// The page runs WebAssembly and loads nothing from elsewhere.
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	}
	data := f.data
	if f.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		data = f.gz
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

func (f *file) load(fsys fs.FS, name string) {
	f.data, f.err = fs.ReadFile(fsys, name)
	if f.err != nil {
		return
	}
	sum := sha256.Sum256(f.data)
	f.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	f.ctyp = contentType(name)
	if len(f.data) >= 1024 && compressible(f.ctyp) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
		zw.Write(f.data)
		zw.Close()
		if b.Len() < len(f.data) {
			f.gz = b.Bytes()
		}
	}
}

var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".wasm":        "application/wasm",
	".svg":         "image/svg+xml",
	".ts":          "text/plain; charset=utf-8",
	".webmanifest": "application/manifest+json",
}

// contentType does not depend on the system's MIME tables, which may lack .wasm or .mjs.
func contentType(name string) string {
	if t, ok := types[path.Ext(name)]; ok {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctyp string) bool {
	return !strings.HasPrefix(ctyp, "image/") || strings.HasPrefix(ctyp, "image/svg")
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
