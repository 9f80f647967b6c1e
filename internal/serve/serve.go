// Package serve is `kign serve`: an HTTPS server that hands each host its
// own Ignition config, and only with that host's bearer token, plus the
// secret-free iPXE scripts by MAC, like matchbox's /ipxe endpoint.
//
// Routes (GET only):
//
//	/ignition/HOST.ign   the full config; "Authorization: Bearer TOKEN" required.
//	                     unknown host 404, missing or wrong token 403,
//	                     already served with Once 410. Never another host's data.
//	/ipxe?mac=MAC        the iPXE script of the host with that MAC (no secret)
//	/ipxe/HOST.ipxe      the same by name
//	/boot.ipxe           a chain script: chain ipxe?mac=${mac:hexhyp}
//	/healthz             200 "ok"
//
// Every request is logged as one JSON line (slog) without tokens. Requests
// are bounded: header size, a zero body, read/write/idle timeouts and a cap
// on requests in flight (503 beyond it, which Ignition retries). Run stops
// gracefully when its context ends (SIGTERM in the CLI).
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Host is one machine the server knows.
type Host struct {
	Name string
	// MAC is the boot interface's address, any common notation; may be empty.
	MAC string
	// Token is the host's bearer token (delivery.HostToken).
	Token string
	// Ignition is the full config, served only with Token.
	Ignition []byte
	// IPXE is the host's iPXE script, served to anyone.
	IPXE []byte
}

// Config configures a Server. Zero limits take the defaults below.
type Config struct {
	// Listen is the TCP address, e.g. 0.0.0.0:8443 (Run only).
	Listen string
	// CertPEM and KeyPEM are the serving certificate (its chain) and key.
	CertPEM, KeyPEM []byte
	Hosts           []Host
	// Once serves each host's config a single time; later requests get 410
	// Gone. The record lives in memory: restarting the server re-arms it.
	Once   bool
	Logger *slog.Logger

	MaxHeaderBytes    int           // default 8 KiB (request line + headers)
	MaxInFlight       int           // default 256
	ReadHeaderTimeout time.Duration // default 5 s
	ReadTimeout       time.Duration // default 10 s
	WriteTimeout      time.Duration // default 30 s
	IdleTimeout       time.Duration // default 60 s
	ShutdownTimeout   time.Duration // default 10 s
}

// Server serves configs and iPXE scripts. Create it with New.
type Server struct {
	cfg      Config
	log      *slog.Logger
	cert     tls.Certificate
	hosts    map[string]*host
	byMAC    map[string]*host
	inFlight chan struct{}
}

type host struct {
	Host
	tokenSum [32]byte
	served   atomic.Bool
}

// New checks cfg and returns a Server. Host names, MACs and tokens must be
// unique, and every host needs a token and a config.
func New(cfg Config) (*Server, error) {
	setDefaults(&cfg)
	s := &Server{cfg: cfg, log: cfg.Logger, hosts: map[string]*host{}, byMAC: map[string]*host{},
		inFlight: make(chan struct{}, cfg.MaxInFlight)}
	var err error
	if s.cert, err = tls.X509KeyPair(cfg.CertPEM, cfg.KeyPEM); err != nil {
		return nil, fmt.Errorf("serve: TLS certificate: %w", err)
	}
	tokens := map[[32]byte]string{}
	for _, in := range cfg.Hosts {
		switch {
		case in.Name == "" || strings.ContainsAny(in.Name, "/?#% "):
			return nil, fmt.Errorf("serve: bad host name %q", in.Name)
		case s.hosts[in.Name] != nil:
			return nil, fmt.Errorf("serve: host %q twice", in.Name)
		case len(in.Token) < 16:
			return nil, fmt.Errorf("serve: host %q: token missing or shorter than 16 characters", in.Name)
		case len(in.Ignition) == 0:
			return nil, fmt.Errorf("serve: host %q: no Ignition config", in.Name)
		}
		h := &host{Host: in, tokenSum: sha256.Sum256([]byte(in.Token))}
		if other, dup := tokens[h.tokenSum]; dup {
			return nil, fmt.Errorf("serve: hosts %q and %q share a token", other, in.Name)
		}
		tokens[h.tokenSum] = in.Name
		if in.MAC != "" {
			mac, err := NormalizeMAC(in.MAC)
			if err != nil {
				return nil, fmt.Errorf("serve: host %q: %w", in.Name, err)
			}
			if other := s.byMAC[mac]; other != nil {
				return nil, fmt.Errorf("serve: hosts %q and %q share MAC %s", other.Name, in.Name, mac)
			}
			h.MAC = mac
			s.byMAC[mac] = h
		}
		s.hosts[in.Name] = h
	}
	return s, nil
}

func setDefaults(c *Config) {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 8 << 10
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 256
	}
	def(&c.ReadHeaderTimeout, 5*time.Second)
	def(&c.ReadTimeout, 10*time.Second)
	def(&c.WriteTimeout, 30*time.Second)
	def(&c.IdleTimeout, 60*time.Second)
	def(&c.ShutdownTimeout, 10*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
}

// NormalizeMAC accepts aa:bb:.., AA-BB-.. (iPXE's ${mac:hexhyp}) and
// aabb.ccdd.eeff, and returns lower-case colon notation.
func NormalizeMAC(s string) (string, error) {
	hw, err := net.ParseMAC(strings.TrimSpace(s))
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("%q is not a 48-bit MAC address", s)
	}
	return hw.String(), nil
}

// TLSConfig is the server's TLS configuration: TLS 1.2 or newer.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.cert}}
}

// Run listens on cfg.Listen and serves until ctx ends, then shuts down
// gracefully (in-flight requests get ShutdownTimeout to finish).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves HTTPS on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.TLSConfig(),
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	s.log.Info("listening", "addr", ln.Addr().String(), "hosts", len(s.hosts), "once", s.cfg.Once)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// Served reports whether host's config has been handed out (with Once).
func (s *Server) Served(name string) bool {
	h := s.hosts[name]
	return h != nil && h.served.Load()
}
