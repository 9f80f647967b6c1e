package cli

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/plan"
)

// maxDownload bounds one locked download (the largest, the kubelet, is
// about 80 MB).
const maxDownload = 1 << 30

// unlocked is one download the lock command must hash: the URL it is
// locked by and the URL it is fetched from (the mirror's when set).
type unlocked struct {
	file     catalog.File
	lockURL  string
	fetchURL string
}

// loadForLock is loadPlan for the lock commands: the inventory and its lock
// file, with downloads that lack a hash allowed (they are what a lock
// records), and the plan as it would be with every such download allowed.
func loadForLock(path string, stderr io.Writer) (*inventory.Inventory, *plan.Plan, error) {
	if path == "" {
		return nil, nil, UsageErrorf("--hosts is required")
	}
	inv, rep := inventory.LoadForLock(path)
	if err := refuse(path, rep, stderr); err != nil {
		return nil, nil, err
	}
	set, err := catalog.Lookup(catalog.Default(), inventory.DefaultArch)
	if err != nil {
		return nil, nil, err
	}
	probe := *inv
	probe.Artifacts.AllowUnverified = set.FileNames()
	p, err := plan.Build(&probe)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, p, nil
}

// lockable lists the downloads of the plan that neither kign's catalog nor
// the inventory's overrides give a hash: those a lock file records, by the
// catalog's URL (or the override's), fetched from where hosts fetch them
// (the mirror's URL when one is set).
func lockable(inv *inventory.Inventory, p *plan.Plan) ([]unlocked, error) {
	set, err := catalog.Lookup(p.KubernetesVersion, p.Artifacts.Arch)
	if err != nil {
		return nil, err
	}
	var out []unlocked
	for _, f := range set.Files {
		o := inv.Artifacts.Overrides[f.Name]
		if f.Verified() || o.SHA256 != "" || o.SHA512 != "" {
			continue
		}
		fetch, _ := p.Artifacts.File(f.Name)
		out = append(out, unlocked{file: f, lockURL: inventory.LockURL(f.URL, o), fetchURL: fetch.URL})
	}
	return out, nil
}

// lockArtifacts downloads every lockable file of the inventory at path
// (entries already locked too, to check they did not change), records the
// new hashes and writes the lock file. A download that differs from its
// recorded hash is an error naming the URL and both hashes, and nothing is
// written.
func lockArtifacts(env Env, path string, client *http.Client) error {
	inv, p, err := loadForLock(path, env.Stderr)
	if err != nil {
		return err
	}
	todo, err := lockable(inv, p)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	lock := inv.Lock
	for _, u := range todo {
		sha256sum, sha512sum, err := fetchHashes(client, u.fetchURL)
		if err != nil {
			return fmt.Errorf("%s %s: %w (nothing written)", u.file.Name, u.file.Version, err)
		}
		_, had := lock.Lookup(u.lockURL)
		if err := lock.Add(inventory.LockEntry{Name: u.file.Name, Version: u.file.Version, URL: u.lockURL, SHA256: sha256sum, SHA512: sha512sum}); err != nil {
			return fmt.Errorf("%w (nothing written)", err)
		}
		verb := "recorded"
		if had {
			verb = "checked"
		}
		fmt.Fprintf(env.Stdout, "[lock] %s %s %s: sha256 %s (from %s)\n", verb, u.file.Name, u.file.Version, sha256sum, u.fetchURL)
	}
	data, err := lock.Marshal()
	if err != nil {
		return err
	}
	changed, err := output.WriteFileAtomic(lock.File, data, 0o644)
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(env.Stdout, "[lock] wrote %s (%d downloads)\n", lock.File, len(lock.Entries))
	} else {
		fmt.Fprintf(env.Stdout, "[lock] %s is up to date (%d downloads)\n", lock.File, len(lock.Entries))
	}
	return nil
}

// fetchHashes downloads url and returns its sha256 and sha512.
func fetchHashes(client *http.Client, url string) (string, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(h256, h512), io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return "", "", fmt.Errorf("GET %s: %w", url, err)
	}
	if n > maxDownload {
		return "", "", fmt.Errorf("GET %s: more than %d bytes", url, maxDownload)
	}
	return hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h512.Sum(nil)), nil
}

// lockClient is the HTTP client of `kign artifacts lock`.
var lockClient = &http.Client{Timeout: 10 * time.Minute}
