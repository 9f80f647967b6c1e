package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// inventory is what the test needs to know of hosts.yaml. The values that
// kign defaults (version, port, node mask) are taken from kign itself where
// it prints them, else from its documented defaults (README "The inventory").
type inventory struct {
	Cluster struct {
		Name              string `yaml:"name"`
		OS                string `yaml:"os"`
		KubernetesVersion string `yaml:"kubernetesVersion"`
		PodCIDR           string `yaml:"podCIDR"`
		ServiceCIDR       string `yaml:"serviceCIDR"`
		NodeCIDRMaskSize  int    `yaml:"nodeCIDRMaskSize"`
		Interface         string `yaml:"interface"`
		APIServer         struct {
			VIP  string `yaml:"vip"`
			Port int    `yaml:"port"`
		} `yaml:"apiServer"`
		Audit struct {
			Policy string `yaml:"policy"`
		} `yaml:"audit"`
		Domain             string `yaml:"domain"`
		DNSServiceIP       string `yaml:"dnsServiceIP"`
		AllowPodsOnMasters bool   `yaml:"allowPodsOnMasters"`
		Components         map[string]struct {
			ExtraArgs map[string]string `yaml:"extraArgs"`
		} `yaml:"components"`
	} `yaml:"cluster"`
	Hosts []struct {
		Name      string `yaml:"name"`
		IP        string `yaml:"ip"`
		Interface string `yaml:"interface"`
	} `yaml:"hosts"`
	Addons []string `yaml:"addons"`
}

// cluster is the parsed, defaulted view of the inventory.
type cluster struct {
	name          string
	os            string // cluster.os, default fcos
	version       string // kign's Kubernetes version for this inventory
	vip           netip.Addr
	port          int
	podCIDR       netip.Prefix
	svcCIDR       netip.Prefix
	nodeMask      int
	auditOff      bool // cluster.audit.policy: off
	domain        string
	dnsIP         netip.Addr
	podsOnMasters bool
	// extraArgs are cluster.components.*.extraArgs by component field.
	extraArgs map[string]map[string]string
	// addons are the inventory's add-on files, as paths from here.
	addons []string
	hosts  []hostInfo
}

type hostInfo struct {
	name  string
	ip    netip.Addr
	iface string
}

func loadInventory(path string) (*cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var inv inventory
	if err := yaml.Unmarshal(data, &inv); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &cluster{name: inv.Cluster.Name, port: inv.Cluster.APIServer.Port, nodeMask: inv.Cluster.NodeCIDRMaskSize, auditOff: inv.Cluster.Audit.Policy == "off"}
	if c.port == 0 {
		c.port = 6443
	}
	if c.os = inv.Cluster.OS; c.os == "" {
		c.os = "fcos"
	}
	if c.nodeMask == 0 {
		c.nodeMask = 24
	}
	if c.vip, err = netip.ParseAddr(inv.Cluster.APIServer.VIP); err != nil {
		return nil, fmt.Errorf("%s: cluster.apiServer.vip: %w", path, err)
	}
	if c.podCIDR, err = netip.ParsePrefix(inv.Cluster.PodCIDR); err != nil {
		return nil, fmt.Errorf("%s: cluster.podCIDR: %w", path, err)
	}
	if c.svcCIDR, err = netip.ParsePrefix(inv.Cluster.ServiceCIDR); err != nil {
		return nil, fmt.Errorf("%s: cluster.serviceCIDR: %w", path, err)
	}
	if c.domain = inv.Cluster.Domain; c.domain == "" {
		c.domain = "cluster.local"
	}
	c.podsOnMasters = inv.Cluster.AllowPodsOnMasters
	c.extraArgs = map[string]map[string]string{}
	for name, comp := range inv.Cluster.Components {
		c.extraArgs[name] = comp.ExtraArgs
	}
	for _, a := range inv.Addons {
		if !filepath.IsAbs(a) {
			a = filepath.Join(filepath.Dir(path), a)
		}
		c.addons = append(c.addons, a)
	}
	if inv.Cluster.DNSServiceIP != "" {
		if c.dnsIP, err = netip.ParseAddr(inv.Cluster.DNSServiceIP); err != nil {
			return nil, fmt.Errorf("%s: cluster.dnsServiceIP: %w", path, err)
		}
	} else {
		// kign's default: the 10th address of serviceCIDR.
		c.dnsIP = c.svcCIDR.Masked().Addr()
		for range 10 {
			c.dnsIP = c.dnsIP.Next()
		}
	}
	for i, h := range inv.Hosts {
		ip, err := netip.ParseAddr(h.IP)
		if err != nil {
			return nil, fmt.Errorf("%s: hosts[%d].ip: %w", path, i, err)
		}
		iface := h.Interface
		if iface == "" {
			iface = inv.Cluster.Interface
		}
		c.hosts = append(c.hosts, hostInfo{name: h.Name, ip: ip, iface: iface})
	}
	if len(c.hosts) < 3 {
		return nil, fmt.Errorf("%s: %d hosts: the end-to-end test needs 3 or more masters", path, len(c.hosts))
	}
	return c, nil
}

// artifact is one file row of `kign artifacts`.
type artifact struct {
	name, version, url, hash string
}

// kignArtifacts runs `kign artifacts --hosts F` and returns the Kubernetes
// version it plans for and the file rows.
func kignArtifacts(kign, hosts string) (string, []artifact, error) {
	cmd := exec.Command(kign, "artifacts", "--hosts", hosts)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("kign artifacts --hosts %s: %v\n%s", hosts, err, stderr.String())
	}
	var version string
	var files []artifact
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "#" && f[1] == "Kubernetes":
			version = strings.TrimSuffix(f[2], ",")
		case len(f) >= 5 && f[0] == "file":
			files = append(files, artifact{name: f[1], version: f[2], url: f[3], hash: f[4]})
		}
	}
	if version == "" || len(files) == 0 {
		return "", nil, fmt.Errorf("kign artifacts: unexpected output:\n%s", out)
	}
	return version, files, nil
}

// writeInventoryCopy writes hosts.yaml with artifacts.mirror set to mirror
// and artifacts.overrides.<name>.sha256 set to sums, everything else as in
// the original (comments included): the air-gapped site's inventory.
//
// With registry set, artifacts.imageRegistry and imageRegistryCA point at
// the test's registry, and kube-proxy's conntrack.maxPerCore is 0 (as kind
// sets it): a host's network namespace here is not the initial one, where
// alone nf_conntrack_max can be written, and kube-proxy exits when its
// write fails; the machine's value must not change anyway.
func writeInventoryCopy(src, dst, mirror string, sums map[string]string, names []string, registry string, registryCA []byte) error {
	doc, root, err := readDoc(src)
	if err != nil {
		return err
	}
	arts := mapGet(root, "artifacts")
	if arts == nil {
		arts = &yaml.Node{Kind: yaml.MappingNode}
		mapSet(root, "artifacts", arts)
	}
	mapSet(arts, "mirror", &yaml.Node{Kind: yaml.ScalarNode, Value: mirror})
	ov := &yaml.Node{Kind: yaml.MappingNode}
	for _, n := range names {
		e := &yaml.Node{Kind: yaml.MappingNode}
		mapSet(e, "sha256", &yaml.Node{Kind: yaml.ScalarNode, Value: sums[n]})
		mapSet(ov, n, e)
	}
	mapSet(arts, "overrides", ov)
	if registry != "" {
		mapSet(arts, "imageRegistry", &yaml.Node{Kind: yaml.ScalarNode, Value: registry})
		mapSet(arts, "imageRegistryCA", &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.LiteralStyle, Value: string(registryCA)})
		cl := mapGet(root, "cluster")
		if cl == nil {
			return fmt.Errorf("%s: no cluster", src)
		}
		path := []string{"components", "kubeProxy", "config", "conntrack"}
		m := cl
		for _, k := range path {
			next := mapGet(m, k)
			if next == nil {
				next = &yaml.Node{Kind: yaml.MappingNode}
				mapSet(m, k, next)
			}
			m = next
		}
		mapSet(m, "maxPerCore", &yaml.Node{Kind: yaml.ScalarNode, Value: "0", Tag: "!!int"})
	}
	if err := absAddons(root, src); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by the kign end-to-end test from %s: artifacts.mirror\n# and artifacts.overrides point at the test's mirror and files,\n# addons at the original's files.\n", src)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}

// readDoc reads the YAML document at src, whose root must be a mapping.
func readDoc(src string) (*yaml.Node, *yaml.Node, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: not a mapping", src)
	}
	return &doc, doc.Content[0], nil
}

// absAddons makes the relative add-on paths of the inventory root read
// from src absolute: the files stay where they are, a copy lives elsewhere.
func absAddons(root *yaml.Node, src string) error {
	if list := mapGet(root, "addons"); list != nil && list.Kind == yaml.SequenceNode {
		for _, n := range list.Content {
			if !filepath.IsAbs(n.Value) {
				abs, err := filepath.Abs(filepath.Join(filepath.Dir(src), n.Value))
				if err != nil {
					return err
				}
				n.Value = abs
			}
		}
	}
	return nil
}

// writeVariant writes a copy of the inventory src to dst with
// cluster.kubernetesVersion set to version (unless ""), and, if extra is
// set, one more host: a copy of the last host's entry with extra's name
// and address (and no MAC, which is the last host's own).
func writeVariant(src, dst, version string, extra *hostInfo) error {
	doc, root, err := readDoc(src)
	if err != nil {
		return err
	}
	if err := absAddons(root, src); err != nil {
		return err
	}
	if version != "" {
		cl := mapGet(root, "cluster")
		if cl == nil {
			return fmt.Errorf("%s: no cluster section", src)
		}
		mapSet(cl, "kubernetesVersion", &yaml.Node{Kind: yaml.ScalarNode, Value: version})
	}
	if extra != nil {
		hs := mapGet(root, "hosts")
		if hs == nil || hs.Kind != yaml.SequenceNode || len(hs.Content) == 0 {
			return fmt.Errorf("%s: no hosts", src)
		}
		last := hs.Content[len(hs.Content)-1]
		e := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i+1 < len(last.Content); i += 2 {
			switch last.Content[i].Value {
			case "mac", "name", "ip":
				continue
			}
			e.Content = append(e.Content, last.Content[i], last.Content[i+1])
		}
		mapSet(e, "name", &yaml.Node{Kind: yaml.ScalarNode, Value: extra.name})
		mapSet(e, "ip", &yaml.Node{Kind: yaml.ScalarNode, Value: extra.ip.String()})
		e.Content = append(e.Content[len(e.Content)-4:], e.Content[:len(e.Content)-4]...)
		hs.Content = append(hs.Content, e)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by the kign end-to-end test from %s (version %q, extra host %v)\n", src, version, extra != nil)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func mapSet(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}
