package render

import (
	"fmt"
	"path"

	"github.com/kign-project/kign/butane"
	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

// Modes of the files kign writes on a host.
const (
	modeSecret = 0o600 // keys, kubeconfigs, manifests, anything with a secret
	modePublic = 0o644 // certificates and plain configuration
	modeExec   = 0o755 // binaries and scripts
)

// Host renders one host's generated Butane document and skeleton values.
// The generated part carries every file whose content kign computes; the
// skeleton carries units and fixed text. Only this host's per-host keys are
// included, never another host's.
// addons are the cluster add-ons (Addons), the same for every host.
func Host(p *plan.Plan, b *pki.Bundle, h plan.Host, addons []Addon) (generated *butane.Config, skeleton butane.SkeletonData, err error) {
	r := hostRenderer{p: p, b: b, h: h, addons: addons}
	r.cfg = &butane.Config{Variant: p.OS.ButaneVariant, Version: p.OS.ButaneVersion, Storage: &butane.Storage{}}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"certificates", r.certificates},
		{"kubeconfigs", r.kubeconfigs},
		{"static pods", r.staticPods},
		{"component configuration", r.components},
		{"downloads", r.downloads},
		{"add-ons", r.addonFiles},
		{"network and OS updates", r.machine},
		{"users", r.users},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return nil, skeleton, fmt.Errorf("host %q: %s: %w", h.Name, s.what, err)
		}
	}
	skeleton, err = r.skeleton()
	if err != nil {
		return nil, skeleton, fmt.Errorf("host %q: skeleton: %w", h.Name, err)
	}
	return r.cfg, skeleton, nil
}

type hostRenderer struct {
	p      *plan.Plan
	b      *pki.Bundle
	h      plan.Host
	addons []Addon
	cfg    *butane.Config
}

func (r *hostRenderer) addonFiles() error {
	files, err := addonFiles(r.p, r.h, r.addons)
	if err != nil {
		return err
	}
	r.cfg.Storage.Files = append(r.cfg.Storage.Files, files...)
	return nil
}

func (r *hostRenderer) file(p string, mode butane.Mode, data []byte) {
	r.cfg.Storage.Files = append(r.cfg.Storage.Files, butane.File{
		Path: p, Mode: mode, Overwrite: butane.True(), Contents: butane.Resource{Inline: butane.Inline(string(data))},
	})
}

func (r *hostRenderer) keyPair(spec string) (pki.KeyPair, error) {
	s, ok := pki.Lookup(spec)
	if !ok {
		return pki.KeyPair{}, fmt.Errorf("no certificate %q in the table", spec)
	}
	host := ""
	if s.PerHost {
		host = r.h.Name
	}
	kp, ok := r.b.Get(spec, host)
	if !ok {
		if host != "" {
			return kp, fmt.Errorf("the PKI bundle has no %s for %s", spec, host)
		}
		return kp, fmt.Errorf("the PKI bundle has no %s", spec)
	}
	return kp, nil
}

// certificates places the bundle's files for this host (pki.Bundle.HostFiles:
// every cluster-wide row with a host path and this host's own per-host rows,
// certificates 0644, keys 0600).
func (r *hostRenderer) certificates() error {
	files, err := r.b.HostFiles(r.h.Name)
	if err != nil {
		return err
	}
	for _, f := range files {
		r.file(f.Path, butane.Mode(f.Mode), f.Data)
	}
	return nil
}

// kubeconfigs writes the kubeconfigs of the kubelet and the control-plane
// components. kubelet and kube-proxy go through the VIP (as kubeadm's
// kubelet.conf does), so they keep working when the local apiserver is down;
// controller-manager and scheduler talk to their own host's apiserver.
func (r *hostRenderer) kubeconfigs() error {
	ca, err := r.keyPair(pki.CA)
	if err != nil {
		return err
	}
	for _, k := range []struct {
		path, spec, user, server string
	}{
		{ControllerManagerKubeconfig, pki.ControllerManager, "system:kube-controller-manager", r.p.LocalAPIServerEndpoint()},
		{SchedulerKubeconfig, pki.Scheduler, "system:kube-scheduler", r.p.LocalAPIServerEndpoint()},
		{ProxyKubeconfig, pki.KubeProxy, "system:kube-proxy", r.p.APIServerEndpoint()},
		{AddonManagerKubeconfig, pki.AddonManager, pki.AddonManagerUser, r.p.LocalAPIServerEndpoint()},
		{BootstrapKubeconfig, pki.Bootstrap, "kign:bootstrap", r.p.LocalAPIServerEndpoint()},
	} {
		kp, err := r.keyPair(k.spec)
		if err != nil {
			return err
		}
		data, err := Kubeconfig(r.p.ClusterName, k.server, ca.CertPEM, k.user, kp.CertPEM, kp.KeyPEM)
		if err != nil {
			return fmt.Errorf("%s: %w", k.path, err)
		}
		r.file(k.path, modeSecret, data)
	}
	// The kubelet's: its pair in a file it rotates (KubeletClientPair).
	kp, err := r.keyPair(pki.KubeletClient)
	if err != nil {
		return err
	}
	r.file(KubeletClientPair, modeSecret, append(append([]byte(nil), kp.CertPEM...), kp.KeyPEM...))
	data, err := KubeconfigFiles(r.p.ClusterName, r.p.APIServerEndpoint(), ca.CertPEM, "system:node:"+r.h.Name, KubeletClientCurrent, KubeletClientCurrent)
	if err != nil {
		return fmt.Errorf("%s: %w", KubeletKubeconfig, err)
	}
	r.file(KubeletKubeconfig, modeSecret, data)
	return nil
}

func (r *hostRenderer) staticPods() error {
	pods, err := StaticPods(r.p, r.h)
	if err != nil {
		return err
	}
	for _, m := range pods {
		data, err := MarshalPod(m.Pod)
		if err != nil {
			return fmt.Errorf("static pod %q: %w", m.Name, err)
		}
		r.file(path.Join(ManifestsDir, m.Name+".yaml"), modeSecret, data)
	}
	r.cfg.Storage.Directories = append(r.cfg.Storage.Directories, butane.Directory{Path: EtcdDataDir, Mode: 0o700})
	return nil
}

func (r *hostRenderer) components() error {
	for _, c := range []struct {
		path string
		mode butane.Mode
		fn   func() ([]byte, error)
	}{
		{KubeletConfigFile, modePublic, func() ([]byte, error) { return KubeletConfig(r.p, r.h) }},
		{ProxyConfigFile, modePublic, func() ([]byte, error) { return ProxyConfig(r.p, r.h) }},
		{AuthenticationConfigFile, modePublic, func() ([]byte, error) { return AuthenticationConfig(r.p) }},
		{EncryptionConfigFile, modeSecret, func() ([]byte, error) { return EncryptionConfig(r.b.EncryptionKeys()) }},
		{EtcdAuthScriptFile, modePublic, func() ([]byte, error) { return EtcdAuthScript(r.p) }},
		{EtcdMemberScriptFile, modePublic, func() ([]byte, error) { return EtcdMemberScript(r.p, r.h) }},
		{EtcdSnapshotScriptFile, modePublic, func() ([]byte, error) { return EtcdSnapshotScript(r.p) }},
		{EtcdRestoreScriptFile, modeExec, func() ([]byte, error) { return EtcdRestoreScript(r.p, r.h) }},
		{KeepalivedConfigFile, modeSecret, func() ([]byte, error) { return KeepalivedConfig(r.p, r.h) }},
		{KeepalivedCheckScript, modeExec, func() ([]byte, error) { return CheckAPIServerScript(r.p), nil }},
		{FlannelNetConfFile, modePublic, func() ([]byte, error) { return FlannelNetConf(r.p) }},
		{FlanneldEnvFile, modePublic, func() ([]byte, error) { return FlanneldEnvironment(r.p), nil }},
		{CNIConfFile, modePublic, func() ([]byte, error) { return CNIConfList(r.p) }},
		{ContainerdConfigFile, modePublic, func() ([]byte, error) { return ContainerdConfig(r.p) }},
	} {
		data, err := c.fn()
		if err != nil {
			return fmt.Errorf("%s: %w", c.path, err)
		}
		r.file(c.path, c.mode, data)
	}
	regFiles, err := RegistryFiles(r.p)
	if err != nil {
		return fmt.Errorf("%s: %w", ContainerdCertsDir, err)
	}
	for _, f := range regFiles {
		r.file(f.Path, modePublic, f.Data)
	}
	if r.p.Audit.Enabled {
		data, err := AuditPolicy()
		if err != nil {
			return fmt.Errorf("%s: %w", AuditPolicyFile, err)
		}
		r.file(AuditPolicyFile, modePublic, data)
		r.cfg.Storage.Directories = append(r.cfg.Storage.Directories, butane.Directory{Path: AuditLogDir, Mode: 0o700})
	}
	return nil
}

// downloads lists the files Ignition fetches at first boot, each with its
// verification hash (a file without one was allowed explicitly by the
// inventory and is reported by `kign gen`).
func (r *hostRenderer) downloads() error {
	for _, d := range []struct {
		name, path string
		mode       butane.Mode
	}{
		{catalog.Kubelet, KubeletBin(r.p.OS), modeExec},
		{catalog.Kubectl, KubectlBin(r.p.OS), modeExec},
		{catalog.Flanneld, FlanneldBin(r.p.OS), modeExec},
		{catalog.FlannelCNIPlugin, FlannelCNIBin, modeExec},
		{catalog.CNIPlugins, CNIPluginsTarball, modePublic},
		{catalog.Etcd, EtcdTarball, modePublic},
	} {
		f, ok := r.p.Artifacts.File(d.name)
		if !ok {
			return fmt.Errorf("artifact %q is not in the catalog set", d.name)
		}
		res := butane.Resource{Source: f.URL}
		switch {
		case f.SHA512 != "":
			res.Verification = &butane.Verification{Hash: "sha512-" + f.SHA512}
		case f.SHA256 != "":
			res.Verification = &butane.Verification{Hash: "sha256-" + f.SHA256}
		}
		r.cfg.Storage.Files = append(r.cfg.Storage.Files, butane.File{Path: d.path, Mode: d.mode, Overwrite: butane.True(), Contents: res})
	}
	return nil
}

// machine writes the host's static network configuration (if any) and its
// update agent's settings, both in the formats of the OS row.
func (r *hostRenderer) machine() error {
	n, err := NetworkFile(r.p.OS, r.h)
	if err != nil {
		return err
	}
	if n != nil {
		r.file(n.Path, butane.Mode(n.Mode), n.Data)
	}
	path, data, err := UpdateConfig(r.p, r.h)
	if err != nil {
		return err
	}
	r.file(path, modePublic, data)
	return nil
}

func (r *hostRenderer) users() error {
	if len(r.p.SSHAuthorizedKeys) == 0 {
		return nil
	}
	r.cfg.Passwd = &butane.Passwd{Users: []butane.User{{Name: "core", SSHAuthorizedKeys: r.p.SSHAuthorizedKeys}}}
	return nil
}

func (r *hostRenderer) skeleton() (butane.SkeletonData, error) {
	d := butane.SkeletonData{
		OS:                 r.p.OS,
		Hostname:           r.h.Name,
		BinDir:             r.p.OS.BinDir,
		CNIBinDir:          CNIBinDir,
		CNIPluginsTarball:  CNIPluginsTarball,
		EtcdTarball:        EtcdTarball,
		ManifestsDir:       ManifestsDir,
		FlannelNetConfFile: FlannelNetConfFile,
		FlannelRunDir:      FlannelRunDir,
		FlanneldEnvFile:    FlanneldEnvFile,
		EtcdAuthScript:     EtcdAuthScriptFile,
		EtcdMemberScript:   EtcdMemberScriptFile,
		EtcdSnapshotScript: EtcdSnapshotScriptFile,
		EtcdSnapshotTimer:  EtcdSnapshots.OnCalendar,
		EtcdLearnerMarker:  EtcdLearnerMarker,
		KubeletClientLink:  KubeletClientCurrent,
		KubeletClientPair:  KubeletClientPair,
		AddonsScript:       AddonsScriptFile,
		AddonsMarker:       AddonsAppliedMarker,
	}
	d.ContainerdExecStart = r.p.OS.ContainerdExecStart
	var err error
	if d.KubeletExec, err = butane.ExecLine(append([]string{KubeletBin(r.p.OS)}, KubeletArgs(r.p, r.h)...)...); err != nil {
		return d, err
	}
	if d.FlanneldExec, err = butane.ExecLine(append([]string{FlanneldBin(r.p.OS)}, FlanneldArgs(r.p, r.h)...)...); err != nil {
		return d, err
	}
	if d.FlannelNetConfExec, err = butane.ExecLine(append([]string{EtcdctlBin(r.p.OS)}, FlannelNetConfPutArgs(r.p)...)...); err != nil {
		return d, err
	}
	return d, nil
}

// FlannelNetConfPutArgs are etcdctl's arguments to store flannel's network
// config (read from standard input) under flannel's etcd prefix, with the v3
// API, through the local etcd member.
func FlannelNetConfPutArgs(p *plan.Plan) []string {
	return []string{
		fmt.Sprintf("--endpoints=https://127.0.0.1:%d", EtcdClientPort),
		"--cacert=" + EtcdCACert,
		"--cert=" + FlannelEtcdClientCert,
		"--key=" + FlannelEtcdClientKey,
		"put",
		FlannelEtcdPrefix + "/config",
	}
}
