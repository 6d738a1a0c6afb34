// Package web serves the single-page web app: its hashed assets with a
// long cache, index.html for every client route, and a notice page when
// the binary was built without the app.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/workpulse/workpulse/services/platform/apidocs"
	"github.com/workpulse/workpulse/services/platform/frontdoor"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// Deps are what the server needs.
type Deps struct {
	// App is the built app (Built()); nil serves the "not built" notice.
	App fs.FS
	// Docs are the API docs page's assets (apidocs.Built()); nil serves its
	// "not built" notice, the spec is served either way.
	Docs fs.FS
	HTTP *metrics.HTTP
	// FrontDoor proxies the paths of the services it has backends for.
	FrontDoor *frontdoor.Proxy
}

// Server serves the app from memory: the build is a few hundred kilobytes,
// so every file is read, hashed and gzipped once at start.
type Server struct {
	files map[string]*file
	index *file
	docs  http.Handler
	front *frontdoor.Proxy
	// built is false when index is the "not built" notice, which answers
	// 503 so that no one mistakes it for the app.
	built bool
}

type file struct {
	body, gzipped []byte
	contentType   string
	etag          string
	cache         string
}

// Cache policies: hashed assets never change under their name; everything
// else (index.html above all) must be revalidated so that a deploy shows.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// NewServer loads the app and returns its handler.
func NewServer(d Deps) (http.Handler, error) {
	docs, err := apidocs.Handler(d.Docs)
	if err != nil {
		return nil, err
	}
	s := &Server{files: map[string]*file{}, docs: docs, front: d.FrontDoor}
	if d.App == nil {
		s.index = load("index.html", []byte(notBuiltPage))
	} else if err := fs.WalkDir(d.App, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := fs.ReadFile(d.App, p)
		if err != nil {
			return err
		}
		s.files["/"+p] = load(p, body)
		return nil
	}); err != nil {
		return nil, err
	}
	if s.index == nil {
		s.index, s.built = s.files["/index.html"], true
	}
	return s.routes(d.HTTP), nil
}

func load(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{body: body, contentType: mime.TypeByExtension(path.Ext(name)), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, cache: cacheRevalidate}
	if f.contentType == "" {
		f.contentType = "application/octet-stream"
	}
	if strings.HasPrefix(name, "assets/") {
		f.cache = cacheImmutable
	}
	if compressible(f.contentType) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			f.gzipped = buf.Bytes()
		}
	}
	return f
}

func compressible(contentType string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(contentType, p) {
			return true
		}
	}
	return false
}

// asset serves a file of the build; a missing hashed asset is a 404, not
// index.html, so that a stale page fails loudly instead of parsing HTML as
// JavaScript.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.serve(w, r, f, http.StatusOK)
}

// page serves a file at the root (favicon and the like) or index.html for
// any other path, which the app's router resolves.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[r.URL.Path]
	if !ok || r.URL.Path == "/index.html" {
		f = s.index
	}
	status := http.StatusOK
	if !s.built {
		status = http.StatusServiceUnavailable
	}
	s.serve(w, r, f, status)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, f *file, status int) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cache)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.contentType == "text/html; charset=utf-8" {
		setPageHeaders(h)
	}
	body := f.body
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = f.gzipped
		}
	}
	if status == http.StatusOK && etagMatches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// setPageHeaders keeps the app to its own origin: scripts, styles and
// connections (the API and its WebSocket) come from where the page came.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == etag || t == "W/"+etag || t == "*" {
			return true
		}
	}
	return false
}

// notBuiltPage answers in place of the app when the binary embeds only the
// placeholder: a binary built by `go build` alone, before `make build`.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WorkPulse: the web app is not built</title></head>
<body><main><h1>The web app is not built</h1>
<p>This binary was compiled without the web app. Run <code>make build</code> (or <code>make dev</code>),
which builds it with npm before compiling the services, then start the service again.</p>
<p>The API is unaffected: it is served under <code>/api</code>.</p></main></body></html>
`
