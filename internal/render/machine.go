package render

import (
	"bytes"
	"fmt"
	"strings"

	toml "github.com/pelletier/go-toml"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/plan"
)

// Files that set up the machine itself: its network and its OS updates.
const (
	// NMConnectionDir holds NetworkManager keyfiles (Fedora CoreOS docs,
	// sysconfig-network-configuration.adoc); NetworkManager ignores a
	// keyfile that anyone but root may read, so it is written 0600.
	NMConnectionDir = "/etc/NetworkManager/system-connections"
	// NetworkdDir holds systemd-networkd's .network files (Flatcar docs,
	// network-config-with-networkd.md: "Drop a networkd unit in
	// /etc/systemd/network/"; files apply in lexical order and the first
	// that matches an interface wins, so 00- comes before any DHCP file).
	NetworkdDir = "/etc/systemd/network"
	// ZincatiConfigFile is a Zincati drop-in: /etc/zincati/config.d/*.toml
	// are read after /usr/lib/zincati/config.d (whose 30- file sets the
	// default "immediate" strategy), in name order, later files winning
	// (coreos/zincati docs/usage/configuration.md).
	ZincatiConfigFile = "/etc/zincati/config.d/55-kign-updates.toml"
	// FlatcarUpdateConf is read by update_engine and, as an
	// EnvironmentFile, by locksmithd.service (flatcar/locksmith
	// systemd/locksmithd.service; flatcar docs update-conf.md).
	FlatcarUpdateConf = "/etc/flatcar/update.conf"
)

// NetworkConfig is a host's static network file in its OS's format.
type NetworkConfig struct {
	Path string
	Mode int
	Data []byte
}

// NetworkFile returns the static network configuration of host h in its
// OS's format, or nil when h takes DHCP.
func NetworkFile(o osvariant.OS, h plan.Host) (*NetworkConfig, error) {
	n := h.Network
	if n == nil {
		return nil, nil
	}
	if !n.Address.IsValid() || n.Address.Addr() != h.IP {
		return nil, fmt.Errorf("static address %s is not the host's address %s", n.Address, h.IP)
	}
	var dns []string
	for _, d := range n.DNS {
		dns = append(dns, d.String())
	}
	var b bytes.Buffer
	switch o.Network {
	case osvariant.NMKeyfile:
		// The layout of Fedora CoreOS's own example (sysconfig-network-
		// configuration.adoc): address1=IP/PREFIX[,GATEWAY].
		addr := n.Address.String()
		if n.Gateway.IsValid() {
			addr += "," + n.Gateway.String()
		}
		fmt.Fprintf(&b, "# kign: static address of host %s; the certificates name %s.\n", h.Name, h.IP)
		fmt.Fprintf(&b, "[connection]\nid=%s\ntype=ethernet\ninterface-name=%s\n\n", h.Interface, h.Interface)
		fmt.Fprintf(&b, "[ipv4]\nmethod=manual\naddress1=%s\n", addr)
		if len(dns) > 0 {
			fmt.Fprintf(&b, "dns=%s;\n", strings.Join(dns, ";"))
		}
		b.WriteString("dns-search=\nmay-fail=false\n")
		return &NetworkConfig{Path: NMConnectionDir + "/" + h.Interface + ".nmconnection", Mode: modeSecret, Data: b.Bytes()}, nil
	case osvariant.Networkd:
		fmt.Fprintf(&b, "# kign: static address of host %s; the certificates name %s.\n", h.Name, h.IP)
		fmt.Fprintf(&b, "[Match]\nName=%s\n\n[Network]\nAddress=%s\n", h.Interface, n.Address)
		if n.Gateway.IsValid() {
			fmt.Fprintf(&b, "Gateway=%s\n", n.Gateway)
		}
		for _, d := range dns {
			fmt.Fprintf(&b, "DNS=%s\n", d)
		}
		return &NetworkConfig{Path: NetworkdDir + "/00-kign-" + h.Interface + ".network", Mode: modePublic, Data: b.Bytes()}, nil
	}
	return nil, fmt.Errorf("%s: no network config format", o.Name)
}

// zincatiConfig is the part of Zincati's configuration kign sets
// (coreos/zincati docs/usage/updates-strategy.md).
type zincatiConfig struct {
	Updates zincatiUpdates `toml:"updates"`
}

type zincatiUpdates struct {
	// Enabled false turns automatic updates off.
	Enabled  *bool            `toml:"enabled,omitempty"`
	Strategy string           `toml:"strategy,omitempty"`
	Periodic *zincatiPeriodic `toml:"periodic,omitempty"`
}

type zincatiPeriodic struct {
	// TimeZone is UTC, Zincati's default, written out so that the windows
	// kign checked for overlaps are the windows Zincati uses.
	TimeZone string          `toml:"time_zone"`
	Window   []zincatiWindow `toml:"window"`
}

type zincatiWindow struct {
	Days          []string `toml:"days"`
	StartTime     string   `toml:"start_time"`
	LengthMinutes int      `toml:"length_minutes"`
}

// UpdateConfig returns the update agent's configuration for host h: with
// the "windows" strategy the agent reboots for an update only inside h's
// own window, which overlaps no other host's, so two masters never reboot
// at once and etcd keeps its quorum; with "off" it never reboots by itself.
func UpdateConfig(p *plan.Plan, h plan.Host) (path string, data []byte, err error) {
	w := h.UpdateWindow
	off := p.Updates == inventory.UpdatesOff
	switch p.OS.Updates {
	case osvariant.Zincati:
		var c zincatiConfig
		if off {
			c.Updates.Enabled = new(bool)
		} else {
			days := w.EveryDayName()
			c.Updates.Strategy = "periodic"
			c.Updates.Periodic = &zincatiPeriodic{TimeZone: "UTC", Window: []zincatiWindow{{
				Days: days, StartTime: w.HHMM(), LengthMinutes: w.Length,
			}}}
		}
		data, err := toml.Marshal(c)
		if err != nil {
			return "", nil, err
		}
		head := fmt.Sprintf("# kign: OS updates of host %s. %s\n", h.Name, updatesWhy(p.OS, off, w))
		return ZincatiConfigFile, append([]byte(head), data...), nil
	case osvariant.Locksmith:
		if !off && !w.Daily() && len(w.Days) > 1 {
			return "", nil, fmt.Errorf("host %q: locksmith takes one weekday or every day, not %s", h.Name, strings.Join(w.DayNames(), ","))
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "# kign: OS updates of host %s. %s\n", h.Name, updatesWhy(p.OS, off, w))
		fmt.Fprintf(&b, "GROUP=%s\n", p.Image.Stream)
		if off {
			// update_engine still downloads; locksmithd never reboots.
			b.WriteString("REBOOT_STRATEGY=off\n")
		} else {
			// locksmith's window: [DAY ]HH:MM in the machine's zone (UTC
			// unless set: Flatcar docs configuring-date-and-timezone.md), for
			// a Go duration (flatcar/locksmith locksmithctl/daemon.go,
			// pkg/timeutil/periodic.go).
			start := w.HHMM()
			if !w.Daily() {
				start = w.DayNames()[0] + " " + start
			}
			fmt.Fprintf(&b, "REBOOT_STRATEGY=reboot\nLOCKSMITHD_REBOOT_WINDOW_START=%q\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=%dm\n", start, w.Length)
		}
		return FlatcarUpdateConf, b.Bytes(), nil
	}
	return "", nil, fmt.Errorf("%s: no update agent", p.OS.Name)
}

func updatesWhy(o osvariant.OS, off bool, w inventory.Slot) string {
	switch {
	case off && o.Updates == osvariant.Zincati:
		// enabled = false stops Zincati altogether: nothing is staged.
		return "Automatic updates are off (cluster.updates.strategy: off): update each master by hand, one at a time (rpm-ostree upgrade, then systemctl reboot)."
	case off:
		return "Update reboots are off (cluster.updates.strategy: off): update_engine still stages updates; reboot each master by hand, one at a time."
	}
	return fmt.Sprintf("It reboots for an update only in its window, %s, which no other master's overlaps.", w)
}
