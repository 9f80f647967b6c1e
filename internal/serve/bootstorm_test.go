package serve

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// bootStormHosts is how many machines boot at once, each fetching its own
// config (the size of a real three-master config, 128 KiB) over a new TLS
// connection, as Ignition does.
const (
	bootStormHosts = 200
	bootStormSize  = 128 << 10
)

// BenchmarkBootStorm: 200 hosts fetch their configs at once, from kign
// serve and, in the same iteration with the same client, TLS settings and
// certificate, from a plain net/http file server of the same files (the
// reference); loopback only, each run bounded to 60 s. It reports both
// runs' fetches/s and p50/p99 and the p99 ratio. The serving key is ECDSA
// P-256, what kign issues for kign serve; BenchmarkBootStormRSA is the
// same load with an RSA-2048 key, for the difference. Run it with
//
//	go test -run '^$' -bench BootStorm -benchtime 5x ./internal/serve
func BenchmarkBootStorm(b *testing.B) { bootStorm(b, newTestPKI(b), true) }

// BenchmarkBootStormRSA is BenchmarkBootStorm with an RSA-2048 serving key
// and no reference run.
func BenchmarkBootStormRSA(b *testing.B) { bootStorm(b, newTestPKIRSA(b), false) }

func bootStorm(b *testing.B, pki testPKI, reference bool) {
	hosts := testHosts(bootStormHosts, bootStormSize)
	_, base, _ := start(b, Config{CertPEM: pki.CertPEM, KeyPEM: pki.KeyPEM, Hosts: hosts})
	refBase := ""
	if reference {
		refBase = startFileServer(b, pki, hosts)
	}
	var kign, ref loadResult
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		kign = runLoadChecked(ctx, pki, base, hosts, 1, false)
		if reference {
			ref = runLoadChecked(ctx, pki, refBase, hosts, 1, false)
		}
		cancel()
		for _, r := range []loadResult{kign, ref} {
			if len(r.errors) > 0 {
				b.Fatal(r.errors)
			}
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(kign.throughput(), "fetches/s")
	b.ReportMetric(ms(kign.p50), "p50-ms")
	b.ReportMetric(ms(kign.p99), "p99-ms")
	if reference {
		b.ReportMetric(ref.throughput(), "ref-fetches/s")
		b.ReportMetric(ms(ref.p50), "ref-p50-ms")
		b.ReportMetric(ms(ref.p99), "ref-p99-ms")
		b.ReportMetric(ms(kign.p99)/ms(ref.p99), "p99/ref-p99")
	}
}

// startFileServer serves hosts' configs at /ignition/<name>.ign from a
// folder with net/http's FileServer, with kign serve's TLS settings.
func startFileServer(b *testing.B, pki testPKI, hosts []Host) string {
	dir := filepath.Join(b.TempDir(), "ignition")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	for _, h := range hosts {
		if err := os.WriteFile(filepath.Join(dir, h.Name+".ign"), h.Ignition, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	cert, err := tls.X509KeyPair(pki.CertPEM, pki.KeyPEM)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{
		Handler:   http.FileServer(http.Dir(filepath.Dir(dir))),
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	b.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String()
}
