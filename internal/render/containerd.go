package render

import (
	"path"

	toml "github.com/pelletier/go-toml"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/plan"
)

// containerdConfig is the part of containerd's config (version 3, read by
// containerd 2.x; bin_dirs needs 2.1, which current Fedora CoreOS and
// Flatcar stable 4593 ship: flatcar/scripts stable-4593.2.5
// package.accept_keywords containerd-2.1*) that kign sets.
// https://github.com/containerd/containerd/blob/main/docs/cri/config.md
type containerdConfig struct {
	Version int               `toml:"version"`
	Plugins containerdPlugins `toml:"plugins"`
}

type containerdPlugins struct {
	Images  criImages  `toml:"io.containerd.cri.v1.images"`
	Runtime criRuntime `toml:"io.containerd.cri.v1.runtime"`
}

type criImages struct {
	// Registry.ConfigPath is set only when the inventory gives its
	// registry's CA: containerd then reads HOST/hosts.toml below it
	// (containerd docs/hosts.md). Unset, containerd 2.x looks in
	// /etc/containerd/certs.d and /etc/docker/certs.d anyway
	// (internal/cri/config Registry.ConfigPath), which kign writes nothing to.
	Registry *criRegistry `toml:"registry,omitempty"`
	// PinnedImages.Sandbox is the pause image, from kign's catalog (so an
	// air-gapped mirror is honoured) and never garbage-collected.
	PinnedImages struct {
		Sandbox string `toml:"sandbox"`
	} `toml:"pinned_images"`
}

type criRegistry struct {
	ConfigPath string `toml:"config_path"`
}

// registryHosts is containerd's hosts.toml for one registry
// (containerd docs/hosts.md): pull and resolve from the registry itself
// over TLS, verified against the inventory's CA only.
type registryHosts struct {
	Server string                  `toml:"server"`
	Host   map[string]registryHost `toml:"host"`
}

type registryHost struct {
	Capabilities []string `toml:"capabilities"`
	CA           string   `toml:"ca"`
}

type criRuntime struct {
	// EnableSELinux makes the CRI label each container (and relabel its
	// volumes on request); on an SELinux-enforcing OS (Fedora CoreOS) the
	// runtime must, as typhoon's FCOS config sets it. Key of the v3 config,
	// containerd docs/cri/config.md.
	EnableSELinux bool `toml:"enable_selinux"`
	// CNI paths are set explicitly: Fedora's containerd package defaults
	// the plugin folder to /usr/libexec/cni, where the plugins kign
	// unpacks are not. bin_dirs replaces bin_dir, deprecated since
	// containerd 2.1 (to be removed in 2.4; setting both is an error):
	// containerd docs/cri/config.md, RELEASES.md.
	CNI struct {
		BinDirs []string `toml:"bin_dirs"`
		ConfDir string   `toml:"conf_dir"`
	} `toml:"cni"`
	Containerd struct {
		Runtimes struct {
			Runc struct {
				RuntimeType string `toml:"runtime_type"`
				Options     struct {
					// SystemdCgroup matches the kubelet's cgroupDriver: systemd.
					SystemdCgroup bool `toml:"SystemdCgroup"`
				} `toml:"options"`
			} `toml:"runc"`
		} `toml:"runtimes"`
	} `toml:"containerd"`
}

// ContainerdConfig renders /etc/containerd/config.toml.
func ContainerdConfig(p *plan.Plan) ([]byte, error) {
	var c containerdConfig
	c.Version = 3
	pause, _ := p.Artifacts.Image(catalog.ImagePause)
	c.Plugins.Images.PinnedImages.Sandbox = pause.Ref
	if p.Registry.CA != "" {
		c.Plugins.Images.Registry = &criRegistry{ConfigPath: ContainerdCertsDir}
	}
	c.Plugins.Runtime.EnableSELinux = p.OS.SELinux
	c.Plugins.Runtime.CNI.BinDirs = []string{CNIBinDir}
	c.Plugins.Runtime.CNI.ConfDir = CNIConfDir
	c.Plugins.Runtime.Containerd.Runtimes.Runc.RuntimeType = "io.containerd.runc.v2"
	c.Plugins.Runtime.Containerd.Runtimes.Runc.Options.SystemdCgroup = true
	return toml.Marshal(c)
}

// RegistryFile is one file of the registry's certs.d folder.
type RegistryFile struct {
	Path string
	Data []byte
}

// RegistryFiles are containerd's hosts.toml and CA file for the
// inventory's image registry, when it gives the registry's CA.
func RegistryFiles(p *plan.Plan) ([]RegistryFile, error) {
	if p.Registry.CA == "" {
		return nil, nil
	}
	dir := path.Join(ContainerdCertsDir, p.Registry.Host)
	ca := path.Join(dir, "ca.crt")
	server := "https://" + p.Registry.Host
	hosts, err := toml.Marshal(registryHosts{
		Server: server,
		Host:   map[string]registryHost{server: {Capabilities: []string{"pull", "resolve"}, CA: ca}},
	})
	if err != nil {
		return nil, err
	}
	return []RegistryFile{{Path: path.Join(dir, "hosts.toml"), Data: hosts}, {Path: ca, Data: []byte(p.Registry.CA)}}, nil
}
