package render

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

// EncryptedResources are what kube-apiserver encrypts in etcd: Secrets,
// the one kind meant to hold secrets. ConfigMaps are not (the Kubernetes
// documentation points secret data to Secrets), and the controllers and
// kubelets that read them would pay the decryption on every read.
var EncryptedResources = []string{"secrets"}

// EncryptionConfig returns kube-apiserver's --encryption-provider-config:
// secretbox with the bundle's keys (the first encrypts, all decrypt), then
// identity, so that data written before encryption was on stays readable.
// secretbox (XSalsa20-Poly1305) is one of the two strong local providers
// the Kubernetes documentation lists ("Encrypting Confidential Data at
// Rest", providers table); aesgcm would need a rotation every 200k writes
// and aescbc is weak against padding-oracle attacks.
func EncryptionConfig(keys []pki.EncryptionKey) ([]byte, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("the PKI bundle has no encryption key")
	}
	sb := &apiserverv1.SecretboxConfiguration{}
	for _, k := range keys {
		sb.Keys = append(sb.Keys, apiserverv1.Key{Name: k.Name, Secret: k.Secret})
	}
	c := apiserverv1.EncryptionConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiserver.config.k8s.io/v1", Kind: "EncryptionConfiguration"},
		Resources: []apiserverv1.ResourceConfiguration{{
			Resources: EncryptedResources,
			Providers: []apiserverv1.ProviderConfiguration{{Secretbox: sb}, {Identity: &apiserverv1.IdentityConfiguration{}}},
		}},
	}
	return marshalYAML(c)
}

// AuditPolicy returns kube-apiserver's --audit-policy-file: Metadata for
// every request (user, verb, object, answer; never a body, so no Secret's
// content ever reaches the log), except the health checks keepalived and
// the kubelet make every few seconds and the leader-election renewals of
// the controller-manager and the scheduler, which would be most of the log.
// The RequestReceived stage is left out: ResponseComplete says the same
// with the answer.
func AuditPolicy() ([]byte, error) {
	pol := auditv1.Policy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "audit.k8s.io/v1", Kind: "Policy"},
		OmitStages: []auditv1.Stage{auditv1.StageRequestReceived},
		Rules: []auditv1.PolicyRule{
			{Level: auditv1.LevelNone, NonResourceURLs: []string{"/healthz*", "/livez*", "/readyz*"}},
			{Level: auditv1.LevelNone,
				Users:      []string{"system:kube-controller-manager", "system:kube-scheduler"},
				Verbs:      []string{"get", "update"},
				Namespaces: []string{metav1.NamespaceSystem},
				Resources:  []auditv1.GroupResources{{Group: "coordination.k8s.io", Resources: []string{"leases"}}}},
			{Level: auditv1.LevelMetadata},
		},
	}
	return marshalYAML(pol)
}

// AuditLogFile is where kube-apiserver writes its audit log on a master.
const AuditLogFile = AuditLogDir + "/kube-apiserver.log"

// auditFlags are kube-apiserver's audit flags for plan p; none when off.
func auditFlags(p *plan.Plan) cmdFlags {
	if !p.Audit.Enabled {
		return nil
	}
	return cmdFlags{
		{"audit-policy-file", AuditPolicyFile},
		{"audit-log-path", AuditLogFile},
		{"audit-log-maxage", fmt.Sprint(p.Audit.MaxAgeDays)},
		{"audit-log-maxbackup", fmt.Sprint(p.Audit.MaxBackups)},
		{"audit-log-maxsize", fmt.Sprint(p.Audit.MaxSizeMB)},
	}
}

// EtcdUser is one etcd user: a client certificate's CN (etcd takes the
// user name from the CN once authentication is on) and what it may do.
type EtcdUser struct {
	// Name is the user, the CN of the certificate row Cert ("" for root).
	Name string
	Cert string
	// Role is the user's role; "" gives none: the user may only call what
	// needs no permission (endpoint health and status, member list).
	Role string
	// Prefix, for roles other than root, is the one key prefix the role may
	// read and write.
	Prefix string
	Why    string
}

// EtcdUsers is every etcd user kign sets up. Any certificate of the etcd
// CA not listed here (the servers' and peers', whose CN is a host name)
// has no user, so etcd refuses its requests.
func EtcdUsers() []EtcdUser {
	cn := func(row string) string {
		s, ok := pki.Lookup(row)
		if !ok {
			panic("no certificate row " + row)
		}
		return s.CN
	}
	return []EtcdUser{
		// etcd refuses `auth enable` without a user root of role root. It
		// has no password and no certificate has CN root, so nobody can
		// log in as it.
		{Name: "root", Role: "root", Why: "required by etcd to turn authentication on; no credential"},
		{Name: cn(pki.APIServerEtcdClient), Cert: pki.APIServerEtcdClient, Role: "root", Why: "kube-apiserver: every key"},
		{Name: cn(pki.FlannelEtcdClient), Cert: pki.FlannelEtcdClient, Role: "flannel", Prefix: FlannelEtcdPrefix + "/", Why: "flanneld: its network config and subnet leases only"},
		{Name: cn(pki.EtcdMaintenanceClient), Cert: pki.EtcdMaintenanceClient, Role: "root", Why: "etcd-member and etcd-snapshot: member add, remove and promote, snapshots (etcd allows them to root only)"},
		{Name: cn(pki.EtcdHealthcheckClient), Cert: pki.EtcdHealthcheckClient, Why: "health checks: endpoint health and status, member list; no key"},
	}
}

var etcdAuthTemplate = template.Must(template.New("etcd-auth").Parse(`#!/bin/sh
# Generated by kign: turns etcd's authentication on, with one user per
# client certificate (README.md "Credentials"). Every master runs it at
# every boot. Each step is idempotent, and racing masters are safe: a step
# another master did first is accepted, and authentication is turned on
# last, once every user exists. Before that any certificate of the etcd CA
# may do anything; after it, this script acts as kube-apiserver's user,
# which has the root role.
set -eu
ctl() {
  {{.Etcdctl}} --endpoints={{.Endpoint}} --cacert={{.CACert}} --cert={{.Cert}} --key={{.Key}} "$@"
}
# step runs etcdctl and accepts "already exists" from a step done before.
step() {
  if out=$(ctl "$@" 2>&1); then
    echo "etcd-auth: $*: $out"
    return 0
  fi
  case $out in
  *"already exists"*) echo "etcd-auth: $*: already done" ;;
  *) echo "etcd-auth: $*: $out" >&2; return 1 ;;
  esac
}
{{range .Roles}}step role add {{.Role}}
{{if .Prefix}}step role grant-permission --prefix=true {{.Role}} readwrite {{.Prefix}}
{{end}}{{end}}{{range .Users}}step user add {{.Name}} --no-password
{{if .Role}}step user grant-role {{.Name}} {{.Role}}
{{end}}{{end}}step auth enable
`))

// EtcdAuthScript returns the script etcd-auth.service runs on every master.
func EtcdAuthScript(p *plan.Plan) ([]byte, error) {
	users := EtcdUsers()
	var roles []EtcdUser
	seen := map[string]bool{}
	for _, u := range users {
		if u.Role != "" && !seen[u.Role] {
			seen[u.Role] = true
			roles = append(roles, u)
		}
	}
	var b bytes.Buffer
	err := etcdAuthTemplate.Execute(&b, map[string]any{
		"Etcdctl":  EtcdctlBin(p.OS),
		"Endpoint": fmt.Sprintf("https://127.0.0.1:%d", EtcdClientPort),
		"CACert":   EtcdCACert,
		"Cert":     APIServerEtcdClientCert,
		"Key":      APIServerEtcdClientKey,
		"Roles":    roles,
		"Users":    users,
	})
	if err != nil {
		return nil, err
	}
	if strings.Contains(b.String(), "<no value>") {
		return nil, fmt.Errorf("etcd-auth script: a value is missing")
	}
	return b.Bytes(), nil
}
