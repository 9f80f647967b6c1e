package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/testtool"
)

// The machine-level mistakes of issue 10 are file:line errors, and gen
// writes nothing: neither output nor PKI.
func TestGenBadMachineWritesNothing(t *testing.T) {
	genRefuses(t, `cluster:
  name: bad
  serviceCIDR: 10.99.66.0/23
  podCIDR: 10.20.0.0/16
  interface: eth0
  apiServer: {vip: 10.22.108.250}
  installDisk: sda
  network: {prefixLength: 24, gateway: 10.22.109.1}
hosts:
  - {name: m0, ip: 10.22.108.20, updateWindow: {start: "05:00"}}
  - {name: m1, ip: 10.22.108.21, network: {address: 10.22.108.99/24}}
  - {name: m2, ip: 10.22.108.22, updateWindow: {start: "05:10"}}
artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
`,
		`:7:16: cluster.installDisk: "sda" is not an absolute device path`,
		`:10:20: hosts[0].ip: gateway 10.22.109.1 is outside host m0's subnet 10.22.108.0/24`,
		`:11:53: hosts[1].network.address: 10.22.108.99 is not the host's address`,
		`:12:48: hosts[2].updateWindow: host m2's update window (every day 05:10 UTC for 30m) overlaps host m0's`,
		"nothing written")
}

// `kign image iso` embeds a config that installs Fedora CoreOS to the
// host's install disk with the host's full config: read back from the ISO.
func TestImageISOInstalls(t *testing.T) {
	xorriso := testtool.Need(t, "xorriso", "xorriso")
	dir, hosts := inventoryCopy(t, "../../examples/metal/hosts.yaml")
	out := filepath.Join(dir, "out")
	if code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", out); code != ExitOK {
		t.Fatalf("gen: exit %d\n%s%s", code, stdout, stderr)
	}
	// A live ISO as Fedora CoreOS lays it out: its reserved embed area is
	// images/ignition.img.
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "images", "ignition.img"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, "live.iso")
	if b, err := exec.Command(xorriso, "-as", "mkisofs", "-quiet", "-V", "fedora-coreos-test", "-o", live, tree).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, b)
	}
	iso := filepath.Join(dir, "rack3-m2.iso")
	code, stdout, stderr := kign(t, "image", "iso", "--hosts", hosts, "--host", "rack3-m2", "--iso", live, "-o", iso, "--out", out)
	if code != ExitOK || !strings.Contains(stdout, "installs Fedora CoreOS to /dev/disk/by-id/nvme-") {
		t.Fatalf("image iso: exit %d\n%s%s", code, stdout, stderr)
	}
	f, err := os.Open(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	boot, err := delivery.ISOIgnition(f)
	if err != nil {
		t.Fatal(err)
	}
	in, err := delivery.ReadInstallConfig(osvariant.MustLookup("fcos"), boot)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(filepath.Join(out, "rack3-m2.ign"))
	if in.Disk != "/dev/disk/by-id/nvme-SAMSUNG_MZQL2960HCJR-00A07_S64FNE0R801234" || !bytes.Equal(in.Config, full) {
		t.Errorf("the ISO installs to %s a config of %d bytes, want rack3-m2's disk and rack3-m2.ign (%d bytes)", in.Disk, len(in.Config), len(full))
	}
}

// delivery.boot: live puts the full config itself into the PXE initrd,
// and every run says loudly what that costs.
func TestGenLiveBootWarns(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/seed/hosts.yaml")
	data, _ := os.ReadFile(hosts)
	if err := os.WriteFile(hosts, append(data, []byte("delivery: {boot: live}\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", out)
	if code != ExitOK || !strings.Contains(stderr, "WARNING: delivery.boot is live") || strings.Contains(stderr, "WARNING: WARNING") {
		t.Fatalf("exit %d, want 0 and the live-boot warning once\n%s%s", code, stdout, stderr)
	}
	img, _ := os.ReadFile(filepath.Join(out, delivery.IgnitionImgName("master1")))
	full, _ := os.ReadFile(filepath.Join(out, "master1.ign"))
	files, err := delivery.UnwrapFiles(img)
	if err != nil || !bytes.Equal(files["config.ign"], full) {
		t.Errorf("a live boot's initrd does not hold the full config (%v)", err)
	}
	if _, stderr := kignErr(t, "validate", "--hosts", hosts, "-q"); !strings.Contains(stderr, "WARNING: delivery.boot is live") {
		t.Errorf("validate does not warn:\n%s", stderr)
	}
}

func kignErr(t *testing.T, args ...string) (int, string) {
	code, _, stderr := kign(t, args...)
	return code, stderr
}

// A flag the component's version does not have, a flag the cluster needs,
// an unknown component and a derived config field are file:line errors,
// and gen writes nothing.
func TestGenBadCustomizationWritesNothing(t *testing.T) {
	genRefuses(t, `cluster:
  name: bad
  serviceCIDR: 10.99.66.0/23
  podCIDR: 10.20.0.0/16
  interface: eth0
  apiServer: {vip: 10.22.108.250}
  components:
    apiServer: {extraArgs: {insecure-port: "8080", etcd-servers: "https://10.0.0.1:2379"}}
    kubelet: {config: {staticPodPath: /tmp}}
    kubeApiserver: {}
hosts:
  - {name: m0, ip: 10.22.108.20}
artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
`,
		`:8:44: cluster.components.apiServer.extraArgs.insecure-port: --insecure-port is not a flag of kube-apiserver v1.36`,
		`:8:66: cluster.components.apiServer.extraArgs.etcd-servers: --etcd-servers is set by kign`,
		`:9:39: cluster.components.kubelet.config.staticPodPath: kign sets KubeletConfiguration.staticPodPath`,
		`:10:5: cluster.components.kubeApiserver: unknown field`,
		"nothing written")
}
