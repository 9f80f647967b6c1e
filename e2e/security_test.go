package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Checks of what kign locks down: etcd's users, Secrets encrypted in etcd,
// the audit log.

// assertSecurity waits for etcd-auth.service on every host, then checks
// that etcd refuses every client certificate outside its job, that a
// Secret written through the VIP is encrypted in etcd and readable through
// the API, and that the request is in an apiserver's audit log without
// the Secret's content.
func (r *run) assertSecurity(ctx context.Context) error {
	for _, h := range r.hosts {
		if err := waitActive(ctx, h, "etcd-auth.service", 2*time.Minute); err != nil {
			return err
		}
	}
	if err := r.assertEtcdAuth(ctx); err != nil {
		return err
	}
	if err := r.assertKubeletRenewal(ctx); err != nil {
		return err
	}
	return r.assertSecretAtRest(ctx)
}

func waitActive(ctx context.Context, h *host, unit string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := inContainer(ctx, h, "systemctl", "is-active", unit)
		if err == nil && strings.TrimSpace(out) == "active" {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := inContainer(ctx, h, "journalctl", "--no-pager", "-n", "20", "-u", unit)
			return fmt.Errorf("host %s: %s is %q after %s:\n%s", h.name, unit, strings.TrimSpace(out), timeout, indent(log))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// assertEtcdAuth: flannel's certificate reads flannel's prefix and nothing
// else, the health-check certificate reads no key, a peer certificate (CN
// a host name, no user) is refused, kube-apiserver's reads everything.
func (r *run) assertEtcdAuth(ctx context.Context) error {
	h := r.hosts[0]
	eps := r.endpoints()
	if out, err := etcdctlAs(ctx, h, flannelCert, eps, "get", "/coreos.com/network/config", "--print-value-only"); err != nil || !strings.Contains(out, "Network") {
		return fmt.Errorf("etcd: flannel's certificate cannot read its own config: %v: %s", err, out)
	}
	for _, c := range []struct{ cert, who string }{
		{flannelCert, "flannel's"}, {healthcheckCert, "the health-check"}, {etcdPeerCert, h.name + "'s peer"},
	} {
		out, err := etcdctlAs(ctx, h, c.cert, eps, "get", "--prefix", "--keys-only", "/registry/secrets")
		if err == nil {
			return fmt.Errorf("etcd: %s certificate read /registry/secrets: %s", c.who, tail(out, 5))
		}
		if !strings.Contains(out, "permission denied") && !strings.Contains(out, "user name not found") {
			return fmt.Errorf("etcd: %s certificate: want permission denied, got: %s", c.who, tail(out, 5))
		}
	}
	out, err := etcdctlAs(ctx, h, apiserverEtcdCert, eps, "get", "--prefix", "--keys-only", "/registry/namespaces/")
	if err != nil || !strings.Contains(out, "/registry/namespaces/kube-system") {
		return fmt.Errorf("etcd: kube-apiserver's certificate cannot read /registry: %v: %s", err, tail(out, 5))
	}
	r.logf("check: etcd authentication is on: flannel's certificate reads only %s, the health-check and peer certificates read no key (permission denied on /registry/secrets), kube-apiserver's reads all", "/coreos.com/network/")
	return nil
}

// assertSecretAtRest writes a Secret through the VIP, reads it back, finds
// it encrypted with secretbox in etcd and its create in an audit log.
func (r *run) assertSecretAtRest(ctx context.Context) error {
	name := "kign-e2e-secret"
	plain := fmt.Sprintf("kign-e2e-plaintext-%d", time.Now().UnixNano())
	secrets := r.admin.cs.CoreV1().Secrets("default")
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"token": plain}}
	if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create secret %s: %w", name, err)
	}
	defer secrets.Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{})
	got, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if err != nil || string(got.Data["token"]) != plain {
		return fmt.Errorf("read secret %s back: %v", name, err)
	}
	out, err := etcdctlAs(ctx, r.hosts[0], apiserverEtcdCert, r.endpoints(), "get", "/registry/secrets/default/"+name, "--print-value-only")
	if err != nil {
		return fmt.Errorf("etcd: read /registry/secrets/default/%s: %v", name, err)
	}
	const prefix = "k8s:enc:secretbox:v1:key1:"
	if !strings.HasPrefix(out, prefix) || strings.Contains(out, plain) {
		return fmt.Errorf("etcd: secret %s is stored as %q..., want %s and no plain text", name, tail(out[:min(len(out), 40)], 1), prefix)
	}
	r.logf("check: a Secret written through the VIP is stored in etcd as %s... (secretbox, key1), not as plain text, and reads back through the API", prefix)

	if r.c.auditOff {
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		where, leak, err := r.findAudit(name, plain)
		if err != nil {
			return err
		}
		if leak != "" {
			return fmt.Errorf("audit: %s holds the Secret's plain text", leak)
		}
		if where != "" {
			r.logf("check: the Secret's create is in %s at level Metadata, without its content", where)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("audit: no apiserver logged the create of secret default/%s", name)
		}
		time.Sleep(time.Second)
	}
}

// auditEvent is the part of an audit.k8s.io/v1 Event the check reads.
type auditEvent struct {
	Level     string `json:"level"`
	Verb      string `json:"verb"`
	Stage     string `json:"stage"`
	User      struct{ Username string }
	ObjectRef struct {
		Resource, Namespace, Name string
	} `json:"objectRef"`
	ResponseStatus struct{ Code int } `json:"responseStatus"`
}

// findAudit looks through every host's audit log for the create of secret
// default/name; leak names a log that holds plain.
func (r *run) findAudit(name, plain string) (where, leak string, err error) {
	for _, h := range r.hosts {
		path := filepath.Join(h.root, "var/log/kubernetes/audit/kube-apiserver.log")
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", "", err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Bytes()
			if strings.Contains(string(line), plain) {
				f.Close()
				return "", h.name + ":/var/log/kubernetes/audit/kube-apiserver.log", nil
			}
			var e auditEvent
			if json.Unmarshal(line, &e) != nil {
				continue
			}
			if e.Verb == "create" && e.ObjectRef.Resource == "secrets" && e.ObjectRef.Namespace == "default" && e.ObjectRef.Name == name && e.Stage == "ResponseComplete" {
				if e.Level != "Metadata" {
					f.Close()
					return "", "", fmt.Errorf("audit: %s logged the Secret's create at level %s, want Metadata", h.name, e.Level)
				}
				where = fmt.Sprintf("%s's audit log (user %s, HTTP %d)", h.name, e.User.Username, e.ResponseStatus.Code)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return "", "", err
		}
	}
	return where, "", nil
}
