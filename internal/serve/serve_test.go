package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func get(t *testing.T, c *http.Client, method, url, auth string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestRoutes(t *testing.T) {
	pki := newTestPKI(t)
	hosts := testHosts(3, 100)
	_, base, logs := start(t, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts})
	c := pki.client(true)
	own, other := "Bearer "+hosts[0].Token, "Bearer "+hosts[1].Token

	tests := []struct {
		name     string
		method   string
		path     string
		auth     string
		body     io.Reader
		want     int
		wantBody []byte
	}{
		{"own token gets own config", "GET", "/ignition/master0.ign", own, nil, 200, hosts[0].Ignition},
		{"bearer scheme is case-insensitive", "GET", "/ignition/master0.ign", "bearer " + hosts[0].Token, nil, 200, hosts[0].Ignition},
		{"another host's token is refused", "GET", "/ignition/master0.ign", other, nil, 403, nil},
		{"no token", "GET", "/ignition/master0.ign", "", nil, 403, nil},
		{"basic auth is not a token", "GET", "/ignition/master0.ign", "Basic " + hosts[0].Token, nil, 403, nil},
		{"truncated token", "GET", "/ignition/master0.ign", own[:len(own)-1], nil, 403, nil},
		{"unknown host even with a valid token", "GET", "/ignition/master9.ign", own, nil, 404, nil},
		{"no .ign suffix", "GET", "/ignition/master0", own, nil, 404, nil},
		{"path traversal", "GET", "/ignition/..%2fmaster0.ign", own, nil, 404, nil},
		{"HEAD is not served", "HEAD", "/ignition/master0.ign", own, nil, 405, nil},
		{"POST is not served", "POST", "/ignition/master0.ign", own, nil, 405, nil},
		{"a body is refused", "GET", "/ignition/master0.ign", own, strings.NewReader("x"), 413, nil},
		{"ipxe by mac", "GET", "/ipxe?mac=52:54:ab:cd:00:01", "", nil, 200, hosts[1].IPXE},
		{"ipxe by iPXE hexhyp mac", "GET", "/ipxe?mac=52-54-ab-cd-00-02", "", nil, 200, hosts[2].IPXE},
		{"ipxe by upper-case mac", "GET", "/ipxe?mac=52:54:AB:CD:00:00", "", nil, 200, hosts[0].IPXE},
		{"unknown mac", "GET", "/ipxe?mac=52:54:ab:cd:ff:ff", "", nil, 404, nil},
		{"bad mac", "GET", "/ipxe?mac=nope", "", nil, 400, nil},
		{"missing mac", "GET", "/ipxe", "", nil, 400, nil},
		{"ipxe by name", "GET", "/ipxe/master2.ipxe", "", nil, 200, hosts[2].IPXE},
		{"chain script", "GET", "/boot.ipxe", "", nil, 200, []byte("#!ipxe\nchain ipxe?mac=${mac:hexhyp}\n")},
		{"healthz", "GET", "/healthz", "", nil, 200, []byte("ok\n")},
		{"anything else", "GET", "/", "", nil, 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, c, tc.method, base+tc.path, tc.auth, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d (%s)", code, tc.want, body)
			}
			if tc.wantBody != nil && !bytes.Equal(body, tc.wantBody) {
				t.Fatalf("body %q, want %q", body, tc.wantBody)
			}
			for _, h := range hosts {
				if code != 200 && bytes.Contains(body, h.Ignition[:40]) && bytes.Contains(body, []byte(h.Name)) {
					t.Fatalf("a refused request returned %s's config", h.Name)
				}
			}
		})
	}

	// The access log is JSON, one line per request, and never holds a token.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	requests := 0
	for _, line := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if e["msg"] == "request" {
			requests++
		}
		for _, h := range hosts {
			if strings.Contains(line, h.Token) {
				t.Fatalf("token of %s in the log: %s", h.Name, line)
			}
		}
	}
	if requests != len(tests) {
		t.Errorf("%d request log lines for %d requests", requests, len(tests))
	}
	if !strings.Contains(logs.String(), `"reason":"wrong token"`) || !strings.Contains(logs.String(), `"host":"master0"`) {
		t.Errorf("log lacks the refusal reason or host:\n%s", logs.String())
	}
}

func TestOnce(t *testing.T) {
	pki := newTestPKI(t)
	hosts := testHosts(2, 10)
	s, base, _ := start(t, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts, Once: true})
	c := pki.client(false)
	url := base + "/ignition/master0.ign"
	steps := []struct {
		name string
		auth string
		want int
	}{
		{"wrong token does not use up the serving", "Bearer " + hosts[1].Token, 403},
		{"first fetch", "Bearer " + hosts[0].Token, 200},
		{"second fetch", "Bearer " + hosts[0].Token, 410},
		{"wrong token after serving is still 403", "Bearer " + hosts[1].Token, 403},
	}
	for _, st := range steps {
		if code, _ := get(t, c, "GET", url, st.auth, nil); code != st.want {
			t.Fatalf("%s: status %d, want %d", st.name, code, st.want)
		}
	}
	if !s.Served("master0") || s.Served("master1") {
		t.Fatalf("served state wrong")
	}
	if code, _ := get(t, c, "GET", base+"/ignition/master1.ign", "Bearer "+hosts[1].Token, nil); code != 200 {
		t.Fatalf("other host: %d", code)
	}
}

// Of many racing fetches with --once, exactly one gets the config.
func TestOnceRace(t *testing.T) {
	pki := newTestPKI(t)
	hosts := testHosts(1, 10)
	_, base, _ := start(t, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts, Once: true})
	c := pki.client(true)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := get(t, c, "GET", base+"/ignition/master0.ign", "Bearer "+hosts[0].Token, nil)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 1 || codes[410] != 19 {
		t.Fatalf("status counts %v, want one 200 and nineteen 410", codes)
	}
}

func TestHeaderLimit(t *testing.T) {
	pki := newTestPKI(t)
	_, base, _ := start(t, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: testHosts(1, 10)})
	code, _ := get(t, pki.client(false), "GET", base+"/healthz", "Bearer "+strings.Repeat("x", 32<<10), nil)
	if code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d for a 32 KiB header, want 431", code)
	}
}

func TestInFlightLimit(t *testing.T) {
	pki := newTestPKI(t)
	s, err := New(Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: testHosts(1, 10), MaxInFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	release, entered := make(chan struct{}), make(chan struct{})
	h := s.limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	<-entered
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	close(release)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second request: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// Cancelling the context (SIGTERM in the CLI) lets an in-flight download
// finish, then stops the server and closes the port.
func TestGracefulShutdown(t *testing.T) {
	pki := newTestPKI(t)
	hosts := testHosts(1, 16<<20) // big enough to stay in flight while the client waits
	s, err := New(Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	req, _ := http.NewRequest("GET", "https://"+addr+"/ignition/master0.ign", nil)
	req.Header.Set("Authorization", "Bearer "+hosts[0].Token)
	resp, err := pki.client(false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	cancel() // shutdown begins with the response mostly unsent
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("server stopped with a download in flight: %v", err)
	default:
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("in-flight download cut: %v", err)
	}
	if got := append(first, rest...); !bytes.Equal(got, hosts[0].Ignition) {
		t.Fatalf("in-flight download incomplete: %d of %d bytes", len(got), len(hosts[0].Ignition))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("port still open after shutdown")
	}
}

func TestNewRefuses(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name string
		edit func(hs []Host) []Host
		cert []byte
		want string
	}{
		{"duplicate name", func(hs []Host) []Host { hs[1].Name = hs[0].Name; return hs }, nil, "twice"},
		{"shared token", func(hs []Host) []Host { hs[1].Token = hs[0].Token; return hs }, nil, "share a token"},
		{"shared MAC", func(hs []Host) []Host { hs[1].MAC = strings.ToUpper(hs[0].MAC); return hs }, nil, "share MAC"},
		{"short token", func(hs []Host) []Host { hs[0].Token = "short"; return hs }, nil, "token"},
		{"no config", func(hs []Host) []Host { hs[0].Ignition = nil; return hs }, nil, "no Ignition config"},
		{"bad name", func(hs []Host) []Host { hs[0].Name = "a/b"; return hs }, nil, "bad host name"},
		{"bad MAC", func(hs []Host) []Host { hs[0].MAC = "zz"; return hs }, nil, "MAC"},
		{"bad cert", func(hs []Host) []Host { return hs }, []byte("nope"), "TLS certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert := pki.CertPEM
			if tc.cert != nil {
				cert = tc.cert
			}
			_, err := New(Config{CertPEM: cert, KeyPEM: pki.KeyPEM, Hosts: tc.edit(testHosts(2, 10))})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
