package render

import (
	toml "github.com/pelletier/go-toml"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/plan"
)

// containerdConfig is the part of containerd's config (version 3, containerd
// 2.x, which both Fedora CoreOS and Flatcar ship) that kign sets.
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
	// PinnedImages.Sandbox is the pause image, from kign's catalog (so an
	// air-gapped mirror is honoured) and never garbage-collected.
	PinnedImages struct {
		Sandbox string `toml:"sandbox"`
	} `toml:"pinned_images"`
}

type criRuntime struct {
	// CNI paths are set explicitly: Fedora's containerd package defaults
	// bin_dir to /usr/libexec/cni, where the plugins kign unpacks are not.
	CNI struct {
		BinDir  string `toml:"bin_dir"`
		ConfDir string `toml:"conf_dir"`
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
	c.Plugins.Runtime.CNI.BinDir = CNIBinDir
	c.Plugins.Runtime.CNI.ConfDir = CNIConfDir
	c.Plugins.Runtime.Containerd.Runtimes.Runc.RuntimeType = "io.containerd.runc.v2"
	c.Plugins.Runtime.Containerd.Runtimes.Runc.Options.SystemdCgroup = true
	return toml.Marshal(c)
}
