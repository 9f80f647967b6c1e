package render

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/pki"
)

func TestEncryptionConfig(t *testing.T) {
	keys := []pki.EncryptionKey{{Name: "key2", Secret: "bmV3"}, {Name: "key1", Secret: "b2xk"}}
	data, err := EncryptionConfig(keys)
	if err != nil {
		t.Fatal(err)
	}
	var c apiserverv1.EncryptionConfiguration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	if c.APIVersion != "apiserver.config.k8s.io/v1" || c.Kind != "EncryptionConfiguration" || len(c.Resources) != 1 {
		t.Fatalf("wrong config:\n%s", data)
	}
	r := c.Resources[0]
	if !slices.Equal(r.Resources, []string{"secrets"}) || len(r.Providers) != 2 ||
		r.Providers[0].Secretbox == nil || r.Providers[1].Identity == nil {
		t.Fatalf("want secrets through secretbox then identity:\n%s", data)
	}
	var names []string
	for _, k := range r.Providers[0].Secretbox.Keys {
		names = append(names, k.Name)
	}
	if !slices.Equal(names, []string{"key2", "key1"}) {
		t.Errorf("keys %v, want the bundle's order (the first encrypts)", names)
	}
	if _, err := EncryptionConfig(nil); err == nil {
		t.Error("a config without keys was written")
	}
}

// The audit policy never logs a body: no rule above Metadata.
func TestAuditPolicy(t *testing.T) {
	data, err := AuditPolicy()
	if err != nil {
		t.Fatal(err)
	}
	var pol auditv1.Policy
	if err := yaml.UnmarshalStrict(data, &pol); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	if pol.APIVersion != "audit.k8s.io/v1" || pol.Kind != "Policy" || len(pol.Rules) == 0 {
		t.Fatalf("wrong policy:\n%s", data)
	}
	for i, r := range pol.Rules {
		if r.Level != auditv1.LevelNone && r.Level != auditv1.LevelMetadata {
			t.Errorf("rule %d logs at %s: bodies (Secrets') would reach the log", i, r.Level)
		}
	}
	last := pol.Rules[len(pol.Rules)-1]
	if last.Level != auditv1.LevelMetadata || len(last.Users)+len(last.Verbs)+len(last.Resources)+len(last.NonResourceURLs)+len(last.Namespaces) != 0 {
		t.Errorf("the last rule is %+v, want Metadata for everything", last)
	}
}

func TestAuditFlags(t *testing.T) {
	p := testPlan(t, 3)
	p.Audit = inventory.ResolveAudit(inventory.Audit{MaxSizeMB: 50})
	pod, err := apiserverPod(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Join(pod.Spec.Containers[0].Command, " ")
	for _, want := range []string{"--audit-policy-file=/etc/kubernetes/audit-policy.yaml", "--audit-log-path=/var/log/kubernetes/audit/kube-apiserver.log",
		"--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=50", "--encryption-provider-config=/etc/kubernetes/encryption-config.yaml"} {
		if !strings.Contains(f, want) {
			t.Errorf("kube-apiserver lacks %s", want)
		}
	}
	p.Audit = inventory.ResolveAudit(inventory.Audit{Policy: inventory.AuditOff})
	pod, err = apiserverPod(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	f = strings.Join(pod.Spec.Containers[0].Command, " ")
	if strings.Contains(f, "--audit") {
		t.Errorf("policy off, yet: %s", f)
	}
	for _, v := range pod.Spec.Volumes {
		if strings.Contains(v.HostPath.Path, "audit") {
			t.Errorf("policy off, yet volume %s", v.HostPath.Path)
		}
	}
}

// Every client certificate of the etcd CA has its etcd user, and only the
// apiserver's and the maintenance user's (membership and snapshots, which
// etcd allows root only) have the root role; servers' and peers' have none.
func TestEtcdUsers(t *testing.T) {
	users := EtcdUsers()
	byCert := map[string]EtcdUser{}
	for _, u := range users {
		if u.Cert != "" {
			byCert[u.Cert] = u
		}
		if u.Role == "root" && u.Cert != "" && u.Cert != pki.APIServerEtcdClient && u.Cert != pki.EtcdMaintenanceClient {
			t.Errorf("%s has the root role", u.Name)
		}
		if u.Role != "" && u.Role != "root" && !strings.HasSuffix(u.Prefix, "/") {
			t.Errorf("role %s: prefix %q must end in / (else it also covers %sX)", u.Role, u.Prefix, u.Prefix)
		}
	}
	for _, s := range pki.Table {
		if s.CA != pki.EtcdCA {
			continue
		}
		u, ok := byCert[s.Name]
		switch {
		case s.PerHost:
			if ok {
				t.Errorf("per-host %s has an etcd user", s.Name)
			}
		case !ok:
			t.Errorf("etcd client %s has no etcd user", s.Name)
		case u.Name != s.CN:
			t.Errorf("user %s for %s, whose CN is %s", u.Name, s.Name, s.CN)
		}
	}
}

// The script is valid sh, makes roles before the users that take them,
// and turns authentication on last.
func TestEtcdAuthScript(t *testing.T) {
	p := testPlan(t, 3)
	data, err := EtcdAuthScript(p)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-n")
	cmd.Stdin = strings.NewReader(string(data))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v: %s\n%s", err, out, data)
	}
	var steps []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "step ") {
			steps = append(steps, strings.TrimPrefix(l, "step "))
		}
	}
	if len(steps) == 0 || steps[len(steps)-1] != "auth enable" {
		t.Fatalf("steps %q: want auth enable last", steps)
	}
	made := map[string]bool{}
	for _, s := range steps {
		f := strings.Fields(s)
		switch {
		case f[0] == "role" && f[1] == "add":
			made[f[2]] = true
		case f[0] == "user" && f[1] == "grant-role" && !made[f[3]]:
			t.Errorf("%q before role add %s", s, f[3])
		}
	}
	for _, u := range EtcdUsers() {
		if !slices.Contains(steps, "user add "+u.Name+" --no-password") {
			t.Errorf("user %s is not made", u.Name)
		}
	}
	if !strings.Contains(string(data), "--cert="+APIServerEtcdClientCert) || !strings.Contains(string(data), "/usr/local/bin/etcdctl") {
		t.Errorf("the script does not act as kube-apiserver's etcd user with the OS's etcdctl:\n%s", data)
	}
}
