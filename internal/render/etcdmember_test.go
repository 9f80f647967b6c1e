package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kign-project/kign/internal/plan"
)

// fakeEtcdctl answers like etcdctl 3.6 from the files of $FAKE: "members"
// is `member list`'s simple output, "healthy" the client URLs whose
// `endpoint health` succeeds; every call is appended to "calls".
const fakeEtcdctl = `#!/bin/sh
eps=""; args=""
for a in "$@"; do
  case $a in
  --endpoints=*) eps=${a#--endpoints=} ;;
  --*) ;;
  *) args="$args $a" ;;
  esac
done
echo "$eps$args" >>"$FAKE/calls"
set -- $args
case "$1 $2" in
"endpoint health") grep -qx "$eps" "$FAKE/healthy" ;;
"member list") cat "$FAKE/members" ;;
"member remove") echo "Member $3 removed from cluster  c0ffee" ;;
"member add") echo "Member  fee1900d added as learner to cluster  c0ffee"; echo; echo 'ETCD_NAME="x"'
  [ -f "$FAKE/added" ] && echo "ETCD_INITIAL_CLUSTER=\"$(cat "$FAKE/added")\"" ;;
"member promote") echo "Member $3 promoted in cluster  c0ffee" ;;
*) echo "fake etcdctl: $*" >&2; exit 2 ;;
esac
`

// fakeCurl exits as the file $FAKE/reach-HOST says (0 serving, 7 refused,
// 28 silent) for https://HOST:2379/health.
const fakeCurl = `#!/bin/sh
for a in "$@"; do url=$a; done
h=${url#https://}; h=${h%%:*}
exit $(cat "$FAKE/reach-$h" 2>/dev/null || echo 7)
`

type memberCase struct {
	dir, fake, manifest, marker, script string
}

// newMemberCase renders master0's etcd-member.sh of a 3-master plan with
// its etcdctl, curl, data folder, manifest and marker in a test folder.
func newMemberCase(t *testing.T) (*memberCase, *plan.Plan) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	saved := EtcdMemberTimeouts
	EtcdMemberTimeouts.RoundSeconds, EtcdMemberTimeouts.ProbeSeconds, EtcdMemberTimeouts.RetrySeconds = 0, 5, 1
	t.Cleanup(func() { EtcdMemberTimeouts = saved })
	p := testPlan(t, 3)
	data, err := EtcdMemberScript(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &memberCase{dir: dir, fake: filepath.Join(dir, "fake"), manifest: filepath.Join(dir, "manifests/etcd.yaml"),
		marker: filepath.Join(dir, "kign/etcd-learner"), script: filepath.Join(dir, "etcd-member.sh")}
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{c.fake, bin, filepath.Dir(c.manifest), filepath.Join(dir, "etcd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(bin, "etcdctl"), fakeEtcdctl, 0o755)
	write(t, filepath.Join(bin, "curl"), fakeCurl, 0o755)
	pod, err := etcdPod(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := MarshalPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	write(t, c.manifest, string(manifest), 0o600)
	s := strings.NewReplacer(
		EtcdctlBin(p.OS)+" ", filepath.Join(bin, "etcdctl")+" ",
		"data="+EtcdDataDir, "data="+filepath.Join(dir, "etcd"),
		"manifest="+ManifestsDir+"/etcd.yaml", "manifest="+c.manifest,
		"marker="+EtcdLearnerMarker, "marker="+c.marker,
	).Replace(string(data))
	write(t, c.script, s, 0o755)
	write(t, filepath.Join(c.fake, "calls"), "", 0o644)
	return c, p
}

func write(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// run runs the script (with arg) for at most d and returns its output
// and every etcdctl call.
func (c *memberCase) run(t *testing.T, d time.Duration, arg ...string) (out string, calls []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{c.script}, arg...)...)
	cmd.Env = []string{"PATH=" + filepath.Join(c.dir, "bin") + ":/usr/bin:/bin", "FAKE=" + c.fake}
	b, _ := cmd.CombinedOutput()
	raw, err := os.ReadFile(filepath.Join(c.fake, "calls"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if l != "" {
			calls = append(calls, l)
		}
	}
	return string(b), calls
}

func (c *memberCase) set(t *testing.T, name, data string) {
	write(t, filepath.Join(c.fake, name), data, 0o644)
}

// answering makes hs serve and answer health checks; the others refuse.
func (c *memberCase) answering(t *testing.T, hs ...plan.Host) {
	var healthy string
	for _, h := range hs {
		c.set(t, "reach-"+h.IP.String(), "0")
		healthy += client(h) + "\n"
	}
	c.set(t, "healthy", healthy)
}

func peer(h plan.Host) string   { return "https://" + h.IP.String() + ":2380" }
func client(h plan.Host) string { return "https://" + h.IP.String() + ":2379" }

func changes(calls []string) []string {
	var out []string
	for _, c := range calls {
		if strings.Contains(c, " member add") || strings.Contains(c, " member remove") || strings.Contains(c, " member promote") {
			out = append(out, c)
		}
	}
	return out
}

func TestEtcdMemberScriptSyntax(t *testing.T) {
	p := testPlan(t, 3)
	for _, h := range p.Hosts {
		for name, fn := range map[string]func() ([]byte, error){
			"etcd-member":   func() ([]byte, error) { return EtcdMemberScript(p, h) },
			"etcd-snapshot": func() ([]byte, error) { return EtcdSnapshotScript(p) },
			"etcd-restore":  func() ([]byte, error) { return EtcdRestoreScript(p, h) },
		} {
			data, err := fn()
			if err != nil {
				t.Fatalf("%s %s: %v", name, h.Name, err)
			}
			cmd := exec.Command("sh", "-n")
			cmd.Stdin = strings.NewReader(string(data))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s %s: sh -n: %v: %s", name, h.Name, err, out)
			}
		}
	}
}

// A master with etcd data restarts as its member and asks nobody.
func TestEtcdMemberRestart(t *testing.T) {
	c, _ := newMemberCase(t)
	if err := os.MkdirAll(filepath.Join(c.dir, "etcd/member/wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(c.dir, "etcd/member/wal/0000000000000000-0000000000000000.wal"), "", 0o600)
	out, calls := c.run(t, 10*time.Second)
	if !strings.Contains(out, "restarts as that member") || len(calls) != 0 {
		t.Fatalf("output %q, etcdctl calls %q", out, calls)
	}
}

// A member folder without a WAL (etcd made it, then refused to start) is
// no member: the script decides again, here to bootstrap.
func TestEtcdMemberFailedStart(t *testing.T) {
	c, _ := newMemberCase(t)
	if err := os.MkdirAll(filepath.Join(c.dir, "etcd/member/snap"), 0o700); err != nil {
		t.Fatal(err)
	}
	out, _ := c.run(t, 20*time.Second)
	if !strings.Contains(out, "has no WAL") || !strings.Contains(out, "bootstrapping a new cluster") {
		t.Fatalf("output %q", out)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "etcd/member")); !os.IsNotExist(err) {
		t.Fatalf("the failed start's member folder is left: %v", err)
	}
}

// Masters booting together find nothing listening and bootstrap; the
// manifest stays as kign wrote it.
func TestEtcdMemberBootstrap(t *testing.T) {
	c, _ := newMemberCase(t)
	before, _ := os.ReadFile(c.manifest)
	out, calls := c.run(t, 20*time.Second)
	after, _ := os.ReadFile(c.manifest)
	if !strings.Contains(out, "bootstrapping a new cluster") || len(changes(calls)) != 0 || string(before) != string(after) {
		t.Fatalf("output %q, changes %q, manifest changed %v", out, changes(calls), string(before) != string(after))
	}
}

// A wiped master whose stale member is in a healthy cluster removes that
// member (its own, by ID), adds itself as a learner, and points the
// manifest at the running cluster; promote then promotes that learner.
func TestEtcdMemberRejoin(t *testing.T) {
	c, p := newMemberCase(t)
	h0, h1, h2 := p.Hosts[0], p.Hosts[1], p.Hosts[2]
	c.answering(t, h1, h2)
	c.set(t, "members", strings.Join([]string{
		"aaaa, started, " + h0.Name + ", " + peer(h0) + ", " + client(h0) + ", false",
		"bbbb, started, " + h1.Name + ", " + peer(h1) + ", " + client(h1) + ", false",
		"cccc, started, " + h2.Name + ", " + peer(h2) + ", " + client(h2) + ", false",
	}, "\n")+"\n")
	// The member list as of the add, in etcd's order: the manifest takes it.
	c.set(t, "added", h0.Name+"="+peer(h0)+","+h2.Name+"="+peer(h2)+","+h1.Name+"="+peer(h1))
	out, calls := c.run(t, 20*time.Second)
	eps := client(h1) + "," + client(h2)
	want := []string{eps + " member remove aaaa", eps + " member add " + h0.Name}
	if got := changes(calls); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("membership changes %q, want %q\n%s", got, want, out)
	}
	m, _ := os.ReadFile(c.manifest)
	cluster := h2.Name + "=" + peer(h2) + "," + h1.Name + "=" + peer(h1) + "," + h0.Name + "=" + peer(h0)
	if !strings.Contains(string(m), "- --initial-cluster="+cluster+"\n") || !strings.Contains(string(m), "- --initial-cluster-state=existing\n") {
		t.Fatalf("manifest not pointed at the running cluster %s:\n%s\n%s", cluster, m, out)
	}
	if id, _ := os.ReadFile(c.marker); strings.TrimSpace(string(id)) != "fee1900d" {
		t.Fatalf("learner marker %q, want fee1900d", id)
	}
	out, calls = c.run(t, 20*time.Second, "promote")
	if got := changes(calls); len(got) != 3 || got[2] != eps+" member promote fee1900d" {
		t.Fatalf("promote: changes %q\n%s", got, out)
	}
	if _, err := os.Stat(c.marker); !os.IsNotExist(err) {
		t.Fatalf("marker left after the promotion: %v", err)
	}
}

// A master the others bootstrapped without (it booted late) finds itself
// unstarted in the list and starts as that member: no add, no remove.
func TestEtcdMemberLateBootstrap(t *testing.T) {
	c, p := newMemberCase(t)
	h0, h1, h2 := p.Hosts[0], p.Hosts[1], p.Hosts[2]
	c.answering(t, h1, h2)
	c.set(t, "members", strings.Join([]string{
		// A member of the initial cluster keeps its name; it has no
		// client URLs until it has started.
		"aaaa, started, " + h0.Name + ", " + peer(h0) + ", , false",
		"bbbb, started, " + h1.Name + ", " + peer(h1) + ", " + client(h1) + ", false",
		"cccc, started, " + h2.Name + ", " + peer(h2) + ", " + client(h2) + ", false",
	}, "\n")+"\n")
	out, calls := c.run(t, 20*time.Second)
	m, _ := os.ReadFile(c.manifest)
	if len(changes(calls)) != 0 || !strings.Contains(out, "has never started") || !strings.Contains(string(m), "- --initial-cluster-state=existing\n") {
		t.Fatalf("changes %q, manifest existing %v\n%s", changes(calls), strings.Contains(string(m), "=existing"), out)
	}
	if _, err := os.Stat(c.marker); !os.IsNotExist(err) {
		t.Fatal("a voting member was marked as a learner")
	}
}

// Without quorum among the others, or with another master's member on its
// peer URL, the script changes nothing and keeps etcd stopped.
func TestEtcdMemberRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		healthy int
		peerOf0 string // the name listed on master0's peer URL
		want    string
	}{
		{"no quorum", 1, "", "not changing the membership: 1 healthy voting members besides"},
		{"foreign member", 2, "intruder", "has this master's peer URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newMemberCase(t)
			h0, h1, h2, h3 := p.Hosts[0], p.Hosts[1], p.Hosts[2], plan.Host{Name: "outsider", IP: p.Hosts[2].IP.Next()}
			name0 := h0.Name
			if tc.peerOf0 != "" {
				name0 = tc.peerOf0
			}
			if tc.healthy == 2 {
				c.answering(t, h1, h2)
			} else {
				c.answering(t, h1)
				c.set(t, "reach-"+h2.IP.String(), "0")
			}
			// Four voters (one outside the plan) for "no quorum": quorum needs 3.
			rows := []string{
				"aaaa, started, " + name0 + ", " + peer(h0) + ", " + client(h0) + ", false",
				"bbbb, started, " + h1.Name + ", " + peer(h1) + ", " + client(h1) + ", false",
				"cccc, started, " + h2.Name + ", " + peer(h2) + ", " + client(h2) + ", false",
			}
			if tc.healthy == 1 {
				rows = append(rows, "dddd, started, "+h3.Name+", "+peer(h3)+", "+client(h3)+", false")
			}
			c.set(t, "members", strings.Join(rows, "\n")+"\n")
			before, _ := os.ReadFile(c.manifest)
			out, calls := c.run(t, 3*time.Second)
			after, _ := os.ReadFile(c.manifest)
			if len(changes(calls)) != 0 || string(before) != string(after) || !strings.Contains(out, tc.want) || !strings.Contains(out, "etcd stays stopped") {
				t.Fatalf("changes %q, manifest changed %v, output:\n%s", changes(calls), string(before) != string(after), out)
			}
		})
	}
}

// A learner an earlier try added, which never started, is started as and
// marked for promotion; nothing is added or removed.
func TestEtcdMemberEarlierLearner(t *testing.T) {
	c, p := newMemberCase(t)
	h0, h1, h2 := p.Hosts[0], p.Hosts[1], p.Hosts[2]
	c.answering(t, h1, h2)
	c.set(t, "members", strings.Join([]string{
		"bbbb, started, " + h1.Name + ", " + peer(h1) + ", " + client(h1) + ", false",
		"cccc, started, " + h2.Name + ", " + peer(h2) + ", " + client(h2) + ", false",
		"dddd, unstarted, , " + peer(h0) + ", , true",
	}, "\n")+"\n")
	out, calls := c.run(t, 20*time.Second)
	if len(changes(calls)) != 0 || !strings.Contains(out, "has never started") {
		t.Fatalf("changes %q\n%s", changes(calls), out)
	}
	if id, _ := os.ReadFile(c.marker); strings.TrimSpace(string(id)) != "dddd" {
		t.Fatalf("learner marker %q, want dddd", id)
	}
}
