package render

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/testtool"
)

// block returns the lines between "name {" and its closing brace.
func block(conf, name string) []string {
	re := regexp.MustCompile(`(?s)` + regexp.QuoteMeta(name) + ` \{\n(.*?)\n\s*\}`)
	m := re.FindStringSubmatch(conf)
	if m == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(m[1], "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestKeepalivedConfig(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		p := testPlan(t, n)
		for _, h := range p.Hosts {
			t.Run(fmt.Sprintf("%d hosts/%s", n, h.Name), func(t *testing.T) {
				data, err := KeepalivedConfig(p, h)
				if err != nil {
					t.Fatal(err)
				}
				conf := string(data)
				for _, want := range []string{
					"router_id " + h.Name + "\n", "enable_script_security\n", "script_user root\n",
					`script "/etc/keepalived/check_apiserver.sh"`, "interval 1\n", "timeout 2\n", "fall 2\n", "rise 2\n",
					"state BACKUP\n", "interface eth0\n", "virtual_router_id 42\n",
					fmt.Sprintf("priority %d\n", h.KeepalivedPriority), "advert_int 1\n",
					"auth_type PASS\n", "auth_pass s3cr3t00\n",
					"10.0.0.100/32 dev eth0\n",
				} {
					if !strings.Contains(conf, want) {
						t.Errorf("missing %q in\n%s", want, conf)
					}
				}
				var peers []string
				for _, o := range p.Hosts {
					if o.Name != h.Name {
						peers = append(peers, o.IP.String())
					}
				}
				if got := block(conf, "unicast_peer"); !slices.Equal(got, peers) {
					t.Errorf("unicast_peer %v, want %v", got, peers)
				}
				if hasSrc := strings.Contains(conf, "unicast_src_ip "+h.IP.String()+"\n"); hasSrc != (n > 1) {
					t.Errorf("unicast_src_ip present = %v with %d hosts", hasSrc, n)
				}
				if got := block(conf, "track_script"); !slices.Equal(got, []string{"check_apiserver"}) {
					t.Errorf("track_script %v", got)
				}
				if again, _ := KeepalivedConfig(p, h); string(again) != conf {
					t.Error("two renderings differ")
				}
			})
		}
	}
}

// A failed check puts the instance in FAULT: no weight, which would only
// lower the holder's priority and leave the takeover to the backups' master
// down timer (3 advert intervals).
func TestCheckFaults(t *testing.T) {
	data, err := KeepalivedConfig(testPlan(t, 3), testPlan(t, 3).Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^\s*weight`).Match(data) {
		t.Errorf("the check has a weight:\n%s", data)
	}
	if CheckCurlTimeout >= CheckTimeout || CheckFall < 2 || CheckInterval*CheckFall > 2 {
		t.Errorf("check timing: curl %d s, keepalived timeout %d s, fall %d every %d s", CheckCurlTimeout, CheckTimeout, CheckFall, CheckInterval)
	}
}

func TestKeepalivedConfigRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *plan.Plan, h *plan.Host)
		want   string
	}{
		{"long password", func(p *plan.Plan, _ *plan.Host) { p.Keepalived.Password = "123456789" }, "at most 8"},
		{"password with space", func(p *plan.Plan, _ *plan.Host) { p.Keepalived.Password = "a b" }, "password"},
		{"interface with brace", func(_ *plan.Plan, h *plan.Host) { h.Interface = "eth0}" }, "interface"},
		{"no interface", func(_ *plan.Plan, h *plan.Host) { h.Interface = "" }, "interface"},
		{"router id 0", func(p *plan.Plan, _ *plan.Host) { p.Keepalived.VirtualRouterID = 0 }, "virtual_router_id"},
		{"router id 256", func(p *plan.Plan, _ *plan.Host) { p.Keepalived.VirtualRouterID = 256 }, "virtual_router_id"},
		{"priority 255", func(_ *plan.Plan, h *plan.Host) { h.KeepalivedPriority = 255 }, "priority"},
		{"VIP prefix 0", func(p *plan.Plan, _ *plan.Host) { p.Keepalived.VIPPrefixLen = 0 }, "VIP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan(t, 3)
			h := p.Hosts[0]
			tt.mutate(p, &h)
			if _, err := KeepalivedConfig(p, h); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestKeepalivedSyntax runs Debian's keepalived -t on every host's config of
// a 1-, 3- and 5-host plan. keepalived -t fails when the check script is
// missing, so a test-only copy points at an executable script in a temp dir,
// and at an interface this machine has.
func TestKeepalivedSyntax(t *testing.T) {
	bin := testtool.Need(t, "keepalived", "keepalived")
	iface := testtool.Interface(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "check_apiserver.sh")
	if err := os.WriteFile(script, CheckAPIServerScript(testPlan(t, 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 5} {
		p := testPlan(t, n)
		for i := range p.Hosts {
			p.Hosts[i].Interface = iface
		}
		for _, h := range p.Hosts {
			t.Run(fmt.Sprintf("%d hosts/%s", n, h.Name), func(t *testing.T) {
				data, err := KeepalivedConfig(p, h)
				if err != nil {
					t.Fatal(err)
				}
				conf := strings.ReplaceAll(string(data), KeepalivedCheckScript, script)
				path := filepath.Join(dir, h.Name+".conf")
				if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(bin, "-t", "-f", path).CombinedOutput()
				if err != nil {
					t.Errorf("keepalived -t: %v\n%s\n%s", err, out, conf)
				}
			})
		}
	}
}

func TestCheckAPIServerScript(t *testing.T) {
	p := testPlan(t, 3)
	p.APIServerPort = 7443
	s := string(CheckAPIServerScript(p))
	for _, want := range []string{"#!/bin/sh\n", "https://127.0.0.1:7443/readyz", "--cacert /etc/kubernetes/pki/ca.crt", "--max-time 1", "--fail"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, p.VIP.String()) {
		t.Error("script probes the VIP")
	}
	if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v %s", err, out)
	}
}

// TestCheckAPIServerScriptRuns runs the script against a local TLS server
// standing in for the apiserver: it must pass only while /readyz says 200.
func TestCheckAPIServerScriptRuns(t *testing.T) {
	testtool.Need(t, "curl", "curl")
	status := http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	p := testPlan(t, 1)
	p.APIServerPort = port
	script := strings.ReplaceAll(string(CheckAPIServerScript(p)), CACert, ca)
	run := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return exec.CommandContext(ctx, "sh", "-c", script).Run()
	}
	if err := run(); err != nil {
		t.Errorf("ready apiserver: script failed: %v", err)
	}
	status = http.StatusInternalServerError
	if err := run(); err == nil {
		t.Error("unready apiserver: script passed")
	}
	srv.Close()
	if err := run(); err == nil {
		t.Error("no apiserver: script passed")
	}
}

func TestKeepalivedPod(t *testing.T) {
	p := testPlan(t, 3)
	pod := podsByName(t, p, p.Hosts[0])["keepalived"]
	c := pod.Spec.Containers[0]
	want := []string{"keepalived", "--dont-fork", "--log-console", "--use-file=/etc/keepalived/keepalived.conf"}
	if !slices.Equal(c.Command, want) {
		t.Errorf("command %q, want %q", c.Command, want)
	}
	if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
		t.Fatal("no capabilities")
	}
	var caps []string
	for _, c := range c.SecurityContext.Capabilities.Add {
		caps = append(caps, string(c))
	}
	if !slices.Equal(caps, []string{"NET_ADMIN", "NET_BROADCAST", "NET_RAW"}) {
		t.Errorf("capabilities %v", caps)
	}
	for _, path := range []string{KeepalivedConfigFile, KeepalivedCheckScript, CACert} {
		if !mountedAt(pod, path) {
			t.Errorf("%s not mounted", path)
		}
	}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("%s mounted read-write", m.MountPath)
		}
	}
	// Nothing in the pod needs the API: no service account, no API-backed volume.
	if pod.Spec.ServiceAccountName != "" || len(c.EnvFrom) > 0 {
		t.Error("keepalived depends on the API")
	}
}
