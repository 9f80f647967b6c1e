package pki

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkCold is a cold run for the seed cluster (3 masters): every key
// generated, every certificate signed, in memory.
func BenchmarkCold(b *testing.B) {
	for _, alg := range []string{RSA, ECDSA} {
		b.Run(alg, func(b *testing.B) {
			p := seedPlan(alg)
			for b.Loop() {
				if _, err := New().Complete(p, Options{Now: fixedNow}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKey is one key, on one core: times Keys(3)/GOMAXPROCS it is the
// lower bound of a cold run.
func BenchmarkKey(b *testing.B) {
	for _, alg := range []string{RSA, ECDSA} {
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := GenerateKey(alg); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per*time.Duration(rows(3))/time.Duration(runtime.GOMAXPROCS(0)))/1e6, "lowerbound-ms")
		})
	}
}

// Example shows the stage as kign gen uses it.
func Example() {
	tmp, err := os.MkdirTemp("", "kign-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "pki") // beside hosts.yaml in real use
	b, err := Load(dir)
	if err != nil {
		panic(err)
	}
	events, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow})
	if err != nil {
		panic(err)
	}
	for _, e := range events[:6] {
		fmt.Println(e)
	}
	if _, err := b.Save(dir); err != nil {
		panic(err)
	}
	kp, _ := b.Get(EtcdPeer, "master1")
	fmt.Println(kp.Cert.Subject.CommonName, kp.Cert.DNSNames, kp.Cert.IPAddresses)
	// Output:
	// [pki] issued ca
	// [pki] issued front-proxy-ca
	// [pki] issued etcd-ca
	// [pki] issued sa
	// [pki] issued apiserver for master0
	// [pki] issued apiserver for master1
	// master1 [localhost master1] [10.22.108.79 127.0.0.1]
}
