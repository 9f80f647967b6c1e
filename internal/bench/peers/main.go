// Command peers times kign's cold generation of a three-master cluster
// against kubeadm's phases for the same three hosts sharing one CA set
// (init phase certs all, kubeconfig all, control-plane all, etcd local), with
// RSA-2048 and with ECDSA P-256, next to the key-generation floor of this
// machine. hack/bench-peers.sh (make bench-peers) builds kubeadm of the
// catalog's version and runs it.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

type host struct{ name, ip string }

// The seed example's cluster (examples/seed/hosts.yaml).
var (
	hosts   = []host{{"master0", "10.22.108.20"}, {"master1", "10.22.108.79"}, {"master2", "10.22.108.92"}}
	vip     = "10.22.108.250"
	svcCIDR = "10.99.66.0/23"
	podCIDR = "10.20.0.0/16"
)

func main() {
	kign := flag.String("kign", "bin/kign", "kign binary")
	kubeadm := flag.String("kubeadm", "", "kubeadm binary")
	version := flag.String("kubernetes-version", "", "kubeadm's kubernetesVersion (the version it was built at)")
	inventory := flag.String("hosts", "examples/seed/hosts.yaml", "the inventory kign generates (the seed example)")
	rounds := flag.Int("rounds", 3, "runs of each, the median is reported")
	flag.Parse()
	if *kubeadm == "" || *version == "" {
		fmt.Fprintln(os.Stderr, "peers: -kubeadm and -kubernetes-version are required")
		os.Exit(2)
	}
	inv, err := os.ReadFile(*inventory)
	check(err)
	fmt.Printf("bench-peers: 3 masters (%s), %d rounds each, median; %d CPUs\n", *inventory, *rounds, runtime.NumCPU())
	fmt.Printf("%-6s %-9s %10s %6s %10s %12s\n", "keys", "tool", "time", "keys", "ratio", "over floor")
	for _, alg := range []struct{ kign, kubeadm, label string }{{"rsa", "RSA-2048", "RSA"}, {"ecdsa", "ECDSA-P256", "ECDSA"}} {
		var tk, ta, tf []time.Duration
		var nk, na int
		for r := 0; r < *rounds; r++ {
			d, n := runKign(*kign, inv, alg.kign)
			tk, nk = append(tk, d), n
			d, n = runKubeadm(*kubeadm, *version, alg.kubeadm)
			ta, na = append(ta, d), n
			tf = append(tf, floor(alg.kign, nk))
		}
		k, a, f := median(tk), median(ta), median(tf)
		fmt.Printf("%-6s %-9s %10s %6d %10s %12s\n", alg.label, "kign", k.Round(time.Millisecond), nk, "1.00", (k - f).Round(time.Millisecond))
		fmt.Printf("%-6s %-9s %10s %6d %9.2fx %12s\n", alg.label, "kubeadm", a.Round(time.Millisecond), na, float64(a)/float64(k), "")
		fmt.Printf("%-6s %-9s %10s %6d %10s %12s\n", alg.label, "floor", f.Round(time.Millisecond), nk, "", "")
	}
	fmt.Println("ratio: kubeadm's time over kign's; floor: generating kign's number of keys on every CPU, nothing else; over floor: kign's time minus the floor")
}

// runKign runs a cold `kign gen` (no PKI bundle) on a copy of the inventory
// with pki.keyAlgorithm alg and returns its wall time and the keys it made.
func runKign(kign string, inv []byte, alg string) (time.Duration, int) {
	dir, err := os.MkdirTemp("", "bench-peers-kign-")
	check(err)
	defer os.RemoveAll(dir)
	if strings.Contains(string(inv), "\npki:") {
		check(fmt.Errorf("the inventory has a pki section; bench-peers sets pki.keyAlgorithm itself"))
	}
	text := string(inv) + "\npki: {keyAlgorithm: " + alg + "}\n"
	check(os.WriteFile(filepath.Join(dir, "hosts.yaml"), []byte(text), 0o644))
	cmd := exec.Command(kign, "gen", "--hosts", filepath.Join(dir, "hosts.yaml"), "-o", filepath.Join(dir, "out"), "--pki", filepath.Join(dir, "pki"))
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "kign gen: %v\n%s", err, out)
		os.Exit(1)
	}
	return time.Since(t0), countKeys(filepath.Join(dir, "pki"))
}

// runKubeadm runs, for each host, kubeadm's init phases that write what a
// master needs: certificates (the first host makes the CAs and the
// service-account key, the others reuse copies of them, as a joining
// control-plane node does), kubeconfigs, and the control-plane and etcd
// manifests (with --dry-run into a folder of the run's, so nothing touches
// /etc/kubernetes).
func runKubeadm(kubeadm, version, alg string) (time.Duration, int) {
	dir, err := os.MkdirTemp("", "bench-peers-kubeadm-")
	check(err)
	defer os.RemoveAll(dir)
	var elapsed time.Duration
	keys := 0
	for i, h := range hosts {
		hd := filepath.Join(dir, h.name)
		pki := filepath.Join(hd, "pki")
		check(os.MkdirAll(pki, 0o700))
		if i > 0 {
			for _, f := range []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key", "sa.key", "sa.pub"} {
				data, err := os.ReadFile(filepath.Join(dir, hosts[0].name, "pki", f))
				check(err)
				check(os.MkdirAll(filepath.Dir(filepath.Join(pki, f)), 0o700))
				check(os.WriteFile(filepath.Join(pki, f), data, 0o600))
			}
		}
		cfg := filepath.Join(hd, "kubeadm.yaml")
		check(os.WriteFile(cfg, []byte(kubeadmConfig(h, version, alg, pki, hd)), 0o600))
		before := countKeys(pki)
		t0 := time.Now()
		for _, phase := range [][]string{
			{"init", "phase", "certs", "all"},
			{"init", "phase", "kubeconfig", "all", "--kubeconfig-dir", filepath.Join(hd, "kubeconfig")},
			{"init", "phase", "control-plane", "all", "--dry-run"},
			{"init", "phase", "etcd", "local", "--dry-run"},
		} {
			cmd := exec.Command(kubeadm, append(phase, "--config", cfg)...)
			cmd.Env = append(os.Environ(), "KUBEADM_INIT_DRYRUN_DIR="+filepath.Join(hd, "dryrun"))
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "kubeadm %s: %v\n%s", strings.Join(phase, " "), err, out)
				os.Exit(1)
			}
		}
		elapsed += time.Since(t0)
		keys += countKeys(pki) - before + countKubeconfigKeys(filepath.Join(hd, "kubeconfig"))
	}
	return elapsed, keys
}

func kubeadmConfig(h host, version, alg, pki, dir string) string {
	return fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: %s, bindPort: 6443}
nodeRegistration: {name: %s, criSocket: unix:///run/containerd/containerd.sock}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: %s
clusterName: seed
controlPlaneEndpoint: %s:6443
certificatesDir: %s
encryptionAlgorithm: %s
networking: {serviceSubnet: %s, podSubnet: %s, dnsDomain: cluster.local}
etcd: {local: {dataDir: %s}}
`, h.ip, h.name, version, vip, pki, alg, svcCIDR, podCIDR, filepath.Join(dir, "etcd"))
}

func countKeys(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".key") {
			n++
		}
		return nil
	})
	return n
}

// countKubeconfigKeys counts the client keys embedded in kubeadm's kubeconfigs.
func countKubeconfigKeys(dir string) int {
	n := 0
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && strings.Contains(string(data), "client-key-data:") {
			n++
		}
	}
	return n
}

// floor generates n keys of alg on every CPU at once: what any tool that
// makes n keys must spend at least.
func floor(alg string, n int) time.Duration {
	t0 := time.Now()
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				var err error
				if alg == "rsa" {
					_, err = rsa.GenerateKey(rand.Reader, 2048)
				} else {
					_, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				}
				check(err)
			}
		}()
	}
	wg.Wait()
	return time.Since(t0)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}
