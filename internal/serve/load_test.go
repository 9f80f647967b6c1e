package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
)

// loadResult summarises one load run.
type loadResult struct {
	fetches       int
	elapsed       time.Duration
	p50, p99, max time.Duration
	errors        []string
}

func (r loadResult) throughput() float64 { return float64(r.fetches) / r.elapsed.Seconds() }

// runLoad has hosts fetch their own configs concurrently, each `rounds`
// times over a fresh TLS connection (as booting machines do), plus one fetch
// each with the next host's token, which must be refused. Any status other
// than expected, any body that is not the requester's own config, and any
// refusal that carries a config is an error. Bounded by ctx.
func runLoad(ctx context.Context, t testing.TB, pki testPKI, base string, hosts []Host, rounds int) loadResult {
	return runLoadChecked(ctx, pki, base, hosts, rounds, true)
}

// runLoadChecked is runLoad; without crossHost it skips the refused
// cross-host fetch (a plain file server has no tokens to refuse).
func runLoadChecked(ctx context.Context, pki testPKI, base string, hosts []Host, rounds int, crossHost bool) loadResult {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	fetch := func(c *http.Client, name, token string) (int, []byte, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/ignition/"+name+".ign", nil)
		if err != nil {
			return 0, nil, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, time.Since(t0), err
	}

	start := time.Now()
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func(i int, h Host) {
			defer wg.Done()
			c := pki.client(false) // one TLS handshake per fetch
			for r := 0; r < rounds; r++ {
				code, body, d, err := fetch(c, h.Name, h.Token)
				switch {
				case err != nil:
					fail("%s round %d: %v", h.Name, r, err)
					return
				case code != http.StatusOK:
					fail("%s round %d: status %d", h.Name, r, code)
				case !bytes.Equal(body, h.Ignition):
					fail("%s round %d: body is not its own config (%d bytes)", h.Name, r, len(body))
				}
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
			if !crossHost {
				return
			}
			// Cross-host: this host's token on the next host's config.
			next := hosts[(i+1)%len(hosts)]
			code, body, _, err := fetch(c, next.Name, h.Token)
			if err != nil || code != http.StatusForbidden || bytes.Contains(body, []byte("/etc/kign-test/")) {
				fail("%s fetching %s: status %d err %v: cross-host request not refused", h.Name, next.Name, code, err)
			}
		}(i, h)
	}
	wg.Wait()
	res := loadResult{fetches: len(latencies), elapsed: time.Since(start), errors: errs}
	if ctx.Err() != nil {
		res.errors = append(res.errors, "load run exceeded its time bound: "+ctx.Err().Error())
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	if n := len(latencies); n > 0 {
		res.p50 = latencies[n/2]
		res.p99 = latencies[(n*99+99)/100-1]
		res.max = latencies[n-1]
	}
	return res
}

// TestServeLoad: 50 hosts each fetch their 64 KiB config 20 times at once
// on loopback, over fresh TLS connections; bounded to 30 s. It reports
// throughput and latency percentiles and fails on any error or leak.
func TestServeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	const hostsN, rounds = 50, 20
	pki := newTestPKI(t)
	hosts := testHosts(hostsN, 64<<10)
	_, base, _ := start(t, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := runLoad(ctx, t, pki, base, hosts, rounds)
	for _, e := range res.errors {
		t.Error(e)
	}
	if res.fetches != hostsN*rounds {
		t.Errorf("%d fetches completed, want %d", res.fetches, hostsN*rounds)
	}
	t.Logf("%d hosts x %d fetches (64 KiB configs, new TLS connection each): %d in %v = %.0f fetches/s; latency p50 %v p99 %v max %v",
		hostsN, rounds, res.fetches, res.elapsed.Round(time.Millisecond), res.throughput(),
		res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.max.Round(time.Microsecond))
}

// BenchmarkServeLoad runs the same load b.N times and reports fetches/s
// and p99 latency as metrics.
func BenchmarkServeLoad(b *testing.B) {
	pki := newTestPKI(b)
	hosts := testHosts(50, 64<<10)
	_, base, _ := start(b, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts})
	var last loadResult
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		last = runLoad(ctx, b, pki, base, hosts, 20)
		cancel()
		if len(last.errors) > 0 {
			b.Fatal(last.errors)
		}
	}
	b.ReportMetric(last.throughput(), "fetches/s")
	b.ReportMetric(float64(last.p99.Microseconds())/1000, "p99-ms")
}
