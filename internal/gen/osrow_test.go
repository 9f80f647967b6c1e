package gen

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml"

	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The facts of each host's OS row hold in its config, on every example
// (fcos and flatcar rows): binaries where the OS executes them, the
// SELinux set-up, static network files, update windows, the install path.
func TestOSRowFacts(t *testing.T) {
	covered := map[string]bool{}
	for _, path := range examples {
		p, _, res := generate(t, path)
		covered[p.OS.Name] = true
		var windows []inventory.Slot
		for _, hc := range res.Hosts {
			t.Run(p.ClusterName+"/"+hc.Host.Name, func(t *testing.T) {
				ph := parseIgnition(t, hc.Ignition)
				checkExecStarts(t, p.OS, ph)
				checkSELinux(t, p.OS, ph)
				checkNetwork(t, p.OS, hc.Host, ph)
				checkUpdates(t, p, hc.Host, ph)
				checkInstall(t, p, hc)
			})
			windows = append(windows, hc.Host.UpdateWindow)
		}
		if p.Updates != inventory.UpdatesOff {
			checkWindowsApart(t, p, windows)
		}
	}
	for _, o := range osvariant.Table {
		if !covered[o.Name] {
			t.Errorf("no example runs on %s", o.Name)
		}
	}
}

// Every ExecStart/ExecStartPre/ExecStartPost of every unit and drop-in
// names a binary in a folder the OS row says systemd may execute.
func checkExecStarts(t *testing.T, o osvariant.OS, ph parsedHost) {
	t.Helper()
	texts := map[string]string{}
	for _, u := range ph.Raw.Systemd.Units {
		if u.Contents != nil {
			texts[u.Name] = *u.Contents
		}
		for _, d := range u.Dropins {
			if d.Contents != nil {
				texts[u.Name+"/"+d.Name] = *d.Contents
			}
		}
	}
	n := 0
	for name, text := range texts {
		for _, l := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(l, "=")
			if !ok || !strings.HasPrefix(k, "ExecStart") || strings.TrimSpace(v) == "" {
				continue
			}
			bin := strings.TrimLeft(strings.Fields(v)[0], "-@:+!")
			n++
			if !o.Executes(bin) {
				t.Errorf("%s: %s runs %s, outside the folders %s executes (%v)", name, k, bin, o.Name, o.ExecDirs)
			}
		}
	}
	if n == 0 {
		t.Error("no ExecStart found")
	}
	for _, b := range []string{render.KubeletBin(o), render.FlanneldBin(o)} {
		if f, ok := ph.Files[b]; !ok || f.Mode != 0o755 {
			t.Errorf("%s: not downloaded as an executable (%+v)", b, f)
		}
	}
}

// On an SELinux-enforcing OS the runtime labels containers and every
// static pod runs as spc_t; elsewhere neither is set.
func checkSELinux(t *testing.T, o osvariant.OS, ph parsedHost) {
	t.Helper()
	var cfg struct {
		Plugins map[string]struct {
			EnableSELinux *bool `toml:"enable_selinux"`
			CNI           struct {
				BinDirs []string `toml:"bin_dirs"`
				BinDir  string   `toml:"bin_dir"`
			} `toml:"cni"`
		} `toml:"plugins"`
	}
	if err := toml.Unmarshal(ph.Files[render.ContainerdConfigFile].Data, &cfg); err != nil {
		t.Fatalf("containerd config: %v", err)
	}
	rt := cfg.Plugins["io.containerd.cri.v1.runtime"]
	if rt.EnableSELinux == nil || *rt.EnableSELinux != o.SELinux {
		t.Errorf("containerd enable_selinux = %v, want %v", rt.EnableSELinux, o.SELinux)
	}
	if !slices.Equal(rt.CNI.BinDirs, []string{render.CNIBinDir}) || rt.CNI.BinDir != "" {
		t.Errorf("containerd CNI bin_dirs %v bin_dir %q, want bin_dirs [%s] only", rt.CNI.BinDirs, rt.CNI.BinDir, render.CNIBinDir)
	}
	pods := 0
	for path, f := range ph.Files {
		if !strings.HasPrefix(path, render.ManifestsDir+"/") {
			continue
		}
		pods++
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(f.Data, &pod); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var se *corev1.SELinuxOptions
		if pod.Spec.SecurityContext != nil {
			se = pod.Spec.SecurityContext.SELinuxOptions
		}
		switch {
		case o.SELinux && (se == nil || se.Type != "spc_t"):
			t.Errorf("%s: SELinux type %+v, want spc_t on %s", path, se, o.Name)
		case !o.SELinux && se != nil:
			t.Errorf("%s: SELinux options %+v on %s, which does not enforce SELinux", path, se, o.Name)
		}
	}
	if pods != 6 {
		t.Errorf("%d static pods, want 6", pods)
	}
}

// A host with static addressing gets exactly one network file in its OS's
// format, saying what the inventory says; a DHCP host gets none.
func checkNetwork(t *testing.T, o osvariant.OS, h plan.Host, ph parsedHost) {
	t.Helper()
	var found []string
	for path := range ph.Files {
		if strings.HasPrefix(path, render.NMConnectionDir+"/") || strings.HasPrefix(path, render.NetworkdDir+"/") {
			found = append(found, path)
		}
	}
	if h.Network == nil {
		if len(found) > 0 {
			t.Errorf("DHCP host has network files %v", found)
		}
		return
	}
	if len(found) != 1 {
		t.Fatalf("network files %v, want one", found)
	}
	f := ph.Files[found[0]]
	text := string(f.Data)
	kv := map[string][]string{}
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			kv[k] = append(kv[k], v)
		}
	}
	var dns []string
	for _, d := range h.Network.DNS {
		dns = append(dns, d.String())
	}
	switch o.Network {
	case osvariant.NMKeyfile:
		want := h.Network.Address.String()
		if h.Network.Gateway.IsValid() {
			want += "," + h.Network.Gateway.String()
		}
		if f.Path != render.NMConnectionDir+"/"+h.Interface+".nmconnection" || f.Mode != 0o600 {
			t.Errorf("keyfile %s mode %o: NetworkManager reads only root-only keyfiles named for the interface", f.Path, f.Mode)
		}
		if got := kv["address1"]; len(got) != 1 || got[0] != want || kv["method"][0] != "manual" || kv["interface-name"][0] != h.Interface {
			t.Errorf("keyfile says address1=%v method=%v interface-name=%v, want %s manual %s", got, kv["method"], kv["interface-name"], want, h.Interface)
		}
		if want := strings.Join(dns, ";") + ";"; len(dns) > 0 && (len(kv["dns"]) != 1 || kv["dns"][0] != want) {
			t.Errorf("keyfile dns=%v, want %s", kv["dns"], want)
		}
	case osvariant.Networkd:
		if !strings.HasSuffix(f.Path, ".network") || kv["Name"][0] != h.Interface {
			t.Errorf("%s does not match interface %s", f.Path, h.Interface)
		}
		if got := kv["Address"]; len(got) != 1 || got[0] != h.Network.Address.String() {
			t.Errorf("Address=%v, want %s", got, h.Network.Address)
		}
		if h.Network.Gateway.IsValid() && (len(kv["Gateway"]) != 1 || kv["Gateway"][0] != h.Network.Gateway.String()) {
			t.Errorf("Gateway=%v, want %s", kv["Gateway"], h.Network.Gateway)
		}
		if !slices.Equal(kv["DNS"], dns) {
			t.Errorf("DNS=%v, want %v", kv["DNS"], dns)
		}
	}
	if h.Network.Address.Addr() != h.IP {
		t.Errorf("static address %s is not the host's IP %s", h.Network.Address, h.IP)
	}
}

// The update agent's settings carry the host's own window, or turn
// automatic reboots off.
func checkUpdates(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost) {
	t.Helper()
	w := h.UpdateWindow
	switch p.OS.Updates {
	case osvariant.Zincati:
		f, ok := ph.Files[render.ZincatiConfigFile]
		if !ok {
			t.Fatal("no Zincati config")
		}
		tree, err := toml.LoadBytes(f.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p.Updates == inventory.UpdatesOff {
			if tree.Get("updates.enabled") != false {
				t.Error("updates off, but Zincati's updates.enabled is not false")
			}
			return
		}
		if tree.Get("updates.strategy") != "periodic" || tree.Get("updates.periodic.time_zone") != "UTC" {
			t.Errorf("Zincati strategy %v zone %v, want periodic UTC", tree.Get("updates.strategy"), tree.Get("updates.periodic.time_zone"))
		}
		wins, _ := tree.Get("updates.periodic.window").([]*toml.Tree)
		if len(wins) != 1 {
			t.Fatalf("%d windows, want 1", len(wins))
		}
		days := w.DayNames()
		if days == nil {
			days = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
		}
		var got []string
		for _, d := range wins[0].Get("days").([]any) {
			got = append(got, d.(string))
		}
		if !slices.Equal(got, days) || wins[0].Get("start_time") != w.HHMM() || wins[0].Get("length_minutes") != int64(w.Length) {
			t.Errorf("Zincati window %v %v %v, want %v %s %d", got, wins[0].Get("start_time"), wins[0].Get("length_minutes"), days, w.HHMM(), w.Length)
		}
	case osvariant.Locksmith:
		f, ok := ph.Files[render.FlatcarUpdateConf]
		if !ok {
			t.Fatal("no update.conf")
		}
		text := string(f.Data)
		if p.Updates == inventory.UpdatesOff {
			if !strings.Contains(text, "\nREBOOT_STRATEGY=off\n") {
				t.Error("updates off, but REBOOT_STRATEGY is not off")
			}
			return
		}
		start := w.HHMM()
		if !w.Daily() {
			start = w.DayNames()[0] + " " + start
		}
		for _, want := range []string{"\nREBOOT_STRATEGY=reboot\n", "\nLOCKSMITHD_REBOOT_WINDOW_START=\"" + start + "\"\n", fmt.Sprintf("\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=%dm\n", w.Length)} {
			if !strings.Contains(text, want) {
				t.Errorf("update.conf lacks %q:\n%s", want, text)
			}
		}
	}
}

// No two hosts' windows come closer than MinWindowGap, in any week.
func checkWindowsApart(t *testing.T, p *plan.Plan, slots []inventory.Slot) {
	t.Helper()
	week := make([]string, 7*24*60)
	for i, s := range slots {
		days := s.Days
		if s.Daily() {
			days = []int{0, 1, 2, 3, 4, 5, 6}
		}
		for _, d := range days {
			// The window plus the gap after it is this host's alone.
			for m := 0; m < s.Length+inventory.MinWindowGap; m++ {
				at := (d*24*60 + s.Start + m) % len(week)
				if other := week[at]; other != "" {
					t.Fatalf("%s: %s's window (+%dm) meets %s's", p.ClusterName, p.Hosts[i].Name, inventory.MinWindowGap, other)
				}
				week[at] = p.Hosts[i].Name
			}
		}
	}
}

// The PXE initrd installs the OS to the host's disk with the host's full
// config, and on Fedora CoreOS carries a static address to the installed
// system's first boot. (delivery.boot: live: internal/cli TestGenLiveBootWarns.)
func checkInstall(t *testing.T, p *plan.Plan, hc HostConfig) {
	t.Helper()
	var img []byte
	for _, f := range hc.Boot {
		if f.Path == delivery.IgnitionImgName(hc.Host.Name) {
			img = f.Data
		}
	}
	files, err := delivery.UnwrapFiles(img)
	if err != nil {
		t.Fatal(err)
	}
	boot := files[p.OS.InitrdConfigPath]
	in, err := delivery.ReadInstallConfig(p.OS, boot)
	if err != nil {
		t.Fatal(err)
	}
	if in.Disk != hc.Host.InstallDisk || string(in.Config) != string(hc.Ignition) {
		t.Errorf("installs to %s (%d bytes), want %s with the host's config", in.Disk, len(in.Config), hc.Host.InstallDisk)
	}
	if p.OS.Installer == osvariant.CoreOSInstaller {
		keyfile, err := render.NetworkFile(p.OS, hc.Host)
		if err != nil {
			t.Fatal(err)
		}
		ph := parseIgnition(t, hc.Ignition)
		static := keyfile != nil
		if static != (in.Network != nil) || static && (string(in.Network) != string(keyfile.Data) || string(ph.Files[keyfile.Path].Data) != string(keyfile.Data)) {
			t.Errorf("first-boot network %q, want the host's keyfile (static: %v)", in.Network, static)
		}
	}
}
