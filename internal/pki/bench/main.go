// Command bench compares, in one run and side by side, the wall time of
// kign's cold certificate set for the seed cluster (examples/seed/hosts.yaml:
// three masters) with the key-generation lower bound (keys × the measured
// time of one key on one core / cores) and with the seed guide's own ten
// cfssl CLI steps (guide.sh). hack/bench-pki.sh installs the cfssl CLI and
// runs it:
//
//	go run ./internal/pki/bench -cfssl-bin DIR [-rounds 7] [-keys 112] [-hosts examples/seed/hosts.yaml]
//
// Rounds interleave the guide and kign so that both see the same load on a
// shared machine; the table shows medians.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

//go:embed guide.sh
var guideScript []byte

func main() {
	cfsslBin := flag.String("cfssl-bin", "", "folder holding the cfssl and cfssljson binaries (v1.6.5); empty skips the guide")
	rounds := flag.Int("rounds", 7, "interleaved rounds of guide and kign runs")
	keys := flag.Int("keys", 112, "RSA keys generated one after another (spread over the rounds) to measure one key's time")
	hosts := flag.String("hosts", "examples/seed/hosts.yaml", "inventory whose certificate set kign makes")
	flag.Parse()
	if err := run(*hosts, *cfsslBin, *rounds, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "bench-pki:", err)
		os.Exit(1)
	}
}

func run(hosts, cfsslBin string, rounds, nkeys int) error {
	cores := runtime.GOMAXPROCS(0)
	rsaPlan, err := loadPlan(hosts, pki.RSA)
	if err != nil {
		return err
	}
	ecPlan, err := loadPlan(hosts, pki.ECDSA)
	if err != nil {
		return err
	}
	keys := keyCount(rsaPlan)
	startLoad := load1()
	fmt.Printf("bench-pki: seed cluster, %d masters; %s, GOMAXPROCS %d, load %s\n", len(rsaPlan.Hosts), runtime.Version(), cores, loadavg())

	// Every round measures the guide, kign and single keys one after another,
	// so that all three see the same load on a shared machine.
	var guide, kignRSA, kignEC []time.Duration
	var rsaKeyTotal, ecKeyTotal time.Duration
	var rsaKeys, ecKeys int
	for r := range rounds {
		if cfsslBin != "" {
			d, err := runGuide(cfsslBin)
			if err != nil {
				return err
			}
			guide = append(guide, d)
		}
		d, err := cold(rsaPlan)
		if err != nil {
			return err
		}
		kignRSA = append(kignRSA, d)
		n := max(nkeys/rounds, 1)
		if d, err = timeKeys(pki.RSA, n); err != nil {
			return err
		}
		rsaKeyTotal, rsaKeys = rsaKeyTotal+d, rsaKeys+n
		for range 10 {
			d, err := cold(ecPlan)
			if err != nil {
				return err
			}
			kignEC = append(kignEC, d)
		}
		if d, err = timeKeys(pki.ECDSA, 400); err != nil {
			return err
		}
		ecKeyTotal, ecKeys = ecKeyTotal+d, ecKeys+400
		g := "-"
		if len(guide) > 0 {
			g = ms(guide[len(guide)-1])
		}
		fmt.Fprintf(os.Stderr, "round %d/%d: guide %s, kign RSA %s, load %s\n", r+1, rounds, g, ms(kignRSA[len(kignRSA)-1]), loadavg())
	}
	rsaKey, ecKey := rsaKeyTotal/time.Duration(rsaKeys), ecKeyTotal/time.Duration(ecKeys)

	lbRSA := rsaKey * time.Duration(keys) / time.Duration(cores)
	lbEC := ecKey * time.Duration(keys) / time.Duration(cores)
	mRSA, mEC := median(kignRSA), median(kignEC)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\tcertificates\tkeys\tRSA-2048\tECDSA P-256\t")
	if len(guide) > 0 {
		fmt.Fprintf(w, "seed guide, cfssl CLI (guide.sh)\t10\t10\t%s\t-\t\n", ms(median(guide)))
	}
	fmt.Fprintf(w, "kign cold, full set (pki.Complete)\t%d\t%d\t%s\t%s\t\n", keys-1, keys, ms(mRSA), ms(mEC))
	fmt.Fprintf(w, "one key, one core (mean of %d / %d)\t\t1\t%s\t%s\t\n", rsaKeys, ecKeys, ms(rsaKey), ms(ecKey))
	fmt.Fprintf(w, "lower bound: keys × one key / %d cores\t\t%d\t%s\t%s\t\n", cores, keys, ms(lbRSA), ms(lbEC))
	fmt.Fprintf(w, "kign / lower bound\t\t\t%.2fx\t%.2fx\t\n", ratio(mRSA, lbRSA), ratio(mEC, lbEC))
	if len(guide) > 0 {
		fmt.Fprintf(w, "kign / guide\t\t\t%.2fx\t%.3fx\t\n", ratio(mRSA, median(guide)), ratio(mEC, median(guide)))
	}
	w.Flush()
	if startLoad > 0.5 {
		fmt.Printf("WARNING: load average %.2f at the start: other processes compete for the %d cores and hurt the parallel run most; run again when the machine is idle\n", startLoad, cores)
	}
	fmt.Printf("medians of %d rounds (ECDSA: %d runs); RSA runs min %s max %s; load now %s\n",
		rounds, len(kignEC), ms(slices.Min(kignRSA)), ms(slices.Max(kignRSA)), loadavg())
	if len(guide) > 0 {
		fmt.Printf("guide runs min %s max %s\n", ms(slices.Min(guide)), ms(slices.Max(guide)))
		fmt.Printf("goal kign RSA < guide:        %v\n", mRSA < median(guide))
	}
	fmt.Printf("(ECDSA: key generation is a few percent of a run; signing and checking %d certificates dominate)\n", keys-1)
	fmt.Printf("goal kign RSA ≤ 1.3 × bound:  %v\n", ratio(mRSA, lbRSA) <= 1.3)
	fmt.Printf("goal kign ECDSA < 50 ms:      %v\n", mEC < 50*time.Millisecond)
	return nil
}

// loadPlan builds the plan of an inventory (the seed example by default)
// as kign gen does, with the given key algorithm.
func loadPlan(path, alg string) (*plan.Plan, error) {
	inv, rpt := inventory.Load(path)
	if rpt.HasErrors() {
		return nil, fmt.Errorf("%s", rpt.String())
	}
	p, err := plan.Build(inv)
	if err != nil {
		return nil, err
	}
	p.PKI.KeyAlgorithm = alg
	return p, nil
}

// keyCount is how many keys a cold run makes: one per row and host.
func keyCount(p *plan.Plan) int {
	n := 0
	for _, s := range pki.Table {
		if s.When != nil && !s.When(p) {
			continue
		}
		if s.PerHost {
			n += len(p.Hosts)
		} else {
			n++
		}
	}
	return n
}

// timeKeys generates n keys one after another on one goroutine and returns the total time.
func timeKeys(alg string, n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if _, err := pki.GenerateKey(alg); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func cold(p *plan.Plan) (time.Duration, error) {
	start := time.Now()
	_, err := pki.New().Complete(p, pki.Options{Now: time.Now()})
	return time.Since(start), err
}

// runGuide times guide.sh in a fresh folder.
func runGuide(bin string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "kign-bench-guide-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "guide.sh")
	if err := os.WriteFile(script, guideScript, 0o700); err != nil {
		return 0, err
	}
	cmd := exec.Command("sh", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("guide.sh: %v\n%s", err, stderr.String())
	}
	pems, _ := filepath.Glob(filepath.Join(dir, "*-key.pem"))
	if len(pems) != 10 {
		return 0, fmt.Errorf("guide.sh made %d keys, want 10", len(pems))
	}
	return d, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f ms", float64(d)/1e6)
}

// load1 is the one-minute load average, 0 when unknown.
func load1() float64 {
	var l float64
	fmt.Sscan(loadavg(), &l)
	return l
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}
