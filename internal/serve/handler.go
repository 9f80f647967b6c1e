package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kign-project/kign/internal/delivery"
)

// Handler returns the server's routes wrapped in the request limits and
// the access log. It is usable without TLS for tests (httptest).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		write(w, "text/plain; charset=utf-8", []byte("ok\n"))
	})
	mux.HandleFunc("GET /boot.ipxe", func(w http.ResponseWriter, r *http.Request) {
		write(w, "text/plain; charset=utf-8", delivery.ChainScript())
	})
	mux.HandleFunc("GET /ipxe", s.ipxeByMAC)
	mux.HandleFunc("GET /ipxe/{file}", s.ipxeByName)
	mux.HandleFunc("GET /ignition/{file}", s.ignition)
	return s.limit(s.accessLog(mux))
}

// ignition serves a host's full config to the holder of its token.
func (s *Server) ignition(w http.ResponseWriter, r *http.Request) {
	rec := recordOf(w)
	if r.Method != http.MethodGet { // the GET pattern also matches HEAD
		w.Header().Set("Allow", http.MethodGet)
		fail(w, rec, http.StatusMethodNotAllowed, "method")
		return
	}
	h := s.hostOf(r, ".ign")
	if h == nil {
		fail(w, rec, http.StatusNotFound, "unknown host")
		return
	}
	rec.host = h.Name
	token, ok := bearer(r)
	if !ok {
		fail(w, rec, http.StatusForbidden, "missing token")
		return
	}
	// Compare digests in constant time: neither the content nor the length
	// of the expected token leaks through timing.
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) != 1 {
		fail(w, rec, http.StatusForbidden, "wrong token")
		return
	}
	// Claim the single serving before writing: of two racing requests only
	// one gets the config, and a failed write does not re-arm it.
	if s.cfg.Once && !h.served.CompareAndSwap(false, true) {
		fail(w, rec, http.StatusGone, "already served")
		return
	}
	h.served.Store(true)
	w.Header().Set("Cache-Control", "no-store")
	write(w, "application/vnd.coreos.ignition+json", h.Ignition)
}

func (s *Server) ipxeByMAC(w http.ResponseWriter, r *http.Request) {
	rec := recordOf(w)
	mac, err := NormalizeMAC(r.URL.Query().Get("mac"))
	if err != nil {
		fail(w, rec, http.StatusBadRequest, "bad mac")
		return
	}
	rec.mac = mac
	h := s.byMAC[mac]
	if h == nil {
		fail(w, rec, http.StatusNotFound, "unknown mac")
		return
	}
	rec.host = h.Name
	s.writeIPXE(w, rec, h)
}

func (s *Server) ipxeByName(w http.ResponseWriter, r *http.Request) {
	rec := recordOf(w)
	h := s.hostOf(r, ".ipxe")
	if h == nil {
		fail(w, rec, http.StatusNotFound, "unknown host")
		return
	}
	rec.host = h.Name
	s.writeIPXE(w, rec, h)
}

func (s *Server) writeIPXE(w http.ResponseWriter, rec *record, h *host) {
	if len(h.IPXE) == 0 {
		fail(w, rec, http.StatusNotFound, "no ipxe script")
		return
	}
	write(w, "text/plain; charset=utf-8", h.IPXE)
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func write(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func fail(w http.ResponseWriter, rec *record, code int, reason string) {
	if rec != nil {
		rec.reason = reason
	}
	http.Error(w, http.StatusText(code), code)
}

// limit bounds requests: no body, and at most MaxInFlight at once (503 with
// Retry-After beyond that; Ignition retries 5xx).
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			s.logRequest(r, http.StatusRequestEntityTooLarge, 0, time.Now(), &record{reason: "request body"})
			http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
			return
		}
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
		default:
			s.logRequest(r, http.StatusServiceUnavailable, 0, time.Now(), &record{reason: "too many requests in flight"})
			w.Header().Set("Retry-After", "1")
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// record collects what the access log says about a request.
type record struct {
	http.ResponseWriter
	status int
	bytes  int
	host   string
	mac    string
	reason string
}

func (r *record) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *record) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func recordOf(w http.ResponseWriter) *record {
	if rec, ok := w.(*record); ok {
		return rec
	}
	return &record{ResponseWriter: w}
}

// accessLog writes one JSON line per request. It never logs headers, so no
// token reaches the log.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &record{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.logRequest(r, rec.status, rec.bytes, start, rec)
	})
}

func (s *Server) logRequest(r *http.Request, status, n int, start time.Time, rec *record) {
	attrs := []any{
		"remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
		"status", status, "bytes", n,
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
	}
	if rec.host != "" {
		attrs = append(attrs, "host", rec.host)
	}
	if rec.mac != "" {
		attrs = append(attrs, "mac", rec.mac)
	}
	if rec.reason != "" {
		attrs = append(attrs, "reason", rec.reason)
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, "user_agent", ua)
	}
	level := slogLevel(status)
	s.log.Log(r.Context(), level, "request", attrs...)
}

// slogLevel logs refusals that may be an attack, and overload, as warnings.
func slogLevel(status int) slog.Level {
	switch {
	case status == http.StatusForbidden, status == http.StatusGone, status >= 500:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// hostOf is the host a request's {file} names as <host><ext>, or nil.
func (s *Server) hostOf(r *http.Request, ext string) *host {
	name, ok := strings.CutSuffix(r.PathValue("file"), ext)
	if !ok {
		return nil
	}
	return s.hosts[name]
}
