package pki

import (
	"crypto/x509"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestTableRules checks the rules every row of Table must obey.
func TestTableRules(t *testing.T) {
	index := map[string]int{}
	for i, s := range Table {
		index[s.Name] = i
	}
	rules := []struct {
		name string
		ok   func(i int, s Spec) string // "" when the row obeys the rule
	}{
		{"names are unique", func(i int, s Spec) string {
			if index[s.Name] != i {
				return "duplicate name"
			}
			return ""
		}},
		{"every CA comes before what it signs", func(i int, s Spec) string {
			if s.Kind != KindLeaf {
				return ""
			}
			ca, ok := index[s.CA]
			switch {
			case !ok:
				return "unknown CA " + s.CA
			case Table[ca].Kind != KindCA:
				return s.CA + " is not a CA"
			case ca >= i:
				return "signed by " + s.CA + " which comes later"
			}
			return ""
		}},
		{"CAs and the key pair have no CA, usages, SANs or host", func(_ int, s Spec) string {
			if s.Kind != KindLeaf && (s.CA != "" || s.Usages != nil || s.SANs != nil || s.PerHost || len(s.Orgs) > 0) {
				return "has leaf fields"
			}
			return ""
		}},
		{"only CAs have an adopt alias", func(_ int, s Spec) string {
			if (s.Alias != "") != (s.Kind == KindCA) {
				return "alias mismatch"
			}
			return ""
		}},
		{"leaves have usages", func(_ int, s Spec) string {
			if s.Kind == KindLeaf && len(s.Usages) == 0 {
				return "no usages"
			}
			return ""
		}},
		{"server certificates have SANs, clients have none", func(_ int, s Spec) string {
			serves := slices.Contains(s.Usages, x509.ExtKeyUsageServerAuth)
			if serves != (s.SANs != nil) {
				return "server auth and SAN rule disagree"
			}
			return ""
		}},
		{"usages are only server and client auth", func(_ int, s Spec) string {
			for _, u := range s.Usages {
				if u != x509.ExtKeyUsageServerAuth && u != x509.ExtKeyUsageClientAuth {
					return "unexpected usage"
				}
			}
			return ""
		}},
		{"only per-host rows name the host", func(_ int, s Spec) string {
			if strings.Contains(s.CN, HostPlaceholder) && !s.PerHost {
				return "cluster-wide CN names a host"
			}
			return ""
		}},
		{"etcd certificates are signed by the etcd CA", func(_ int, s Spec) string {
			if strings.HasPrefix(s.HostPath(), "/etc/kubernetes/pki/etcd/") && s.Kind == KindLeaf && s.CA != EtcdCA {
				return "etcd file signed by " + s.CA
			}
			return ""
		}},
		{"host paths are kubeadm's folders", func(_ int, s Spec) string {
			for _, p := range []string{s.HostPath(), s.HostKeyPath()} {
				if p != "" && !strings.HasPrefix(p, "/etc/kubernetes/pki/") && !strings.HasPrefix(p, "/var/lib/kubelet/pki/") {
					return "host path " + p
				}
			}
			return ""
		}},
		{"a key goes to hosts only with its certificate", func(_ int, s Spec) string {
			if s.HostKeyPath() != "" && s.HostPath() == "" {
				return "key without certificate"
			}
			return ""
		}},
		{"of the CA keys only the kubernetes CA key goes to hosts", func(_ int, s Spec) string {
			if s.Kind == KindCA && (s.HostKeyPath() != "") != (s.Name == CA) {
				return "CA key placement"
			}
			return ""
		}},
		{"no system:masters certificate is a file on the hosts", func(_ int, s Spec) string {
			if slices.Contains(s.Orgs, "system:masters") && s.HostPath() != "" {
				return "system:masters credential on hosts"
			}
			return ""
		}},
		{"every row has a purpose", func(_ int, s Spec) string {
			if s.Purpose == "" || s.File == "" {
				return "missing purpose or file"
			}
			return ""
		}},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			for i, s := range Table {
				if msg := r.ok(i, s); msg != "" {
					t.Errorf("%s: %s", s.Name, msg)
				}
			}
		})
	}
	t.Run("paths are unique", func(t *testing.T) {
		seen := map[string]string{}
		for _, s := range Table {
			c, k := s.BundlePaths("h")
			for _, p := range []string{c, k, s.HostPath(), s.HostKeyPath()} {
				if p == "" {
					continue
				}
				if o, dup := seen[p]; dup {
					t.Errorf("%s and %s both use %s", o, s.Name, p)
				}
				seen[p] = s.Name
			}
		}
	})
}

// TestRequiredSet checks the set issue 3 asks for, with subjects and roles.
func TestRequiredSet(t *testing.T) {
	srv, cli, both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name, ca, cn string
		orgs         []string
		usages       []x509.ExtKeyUsage
		perHost      bool
	}{
		{CA, "", "kubernetes", nil, nil, false},
		{EtcdCA, "", "etcd-ca", nil, nil, false},
		{FrontProxyCA, "", "front-proxy-ca", nil, nil, false},
		{ServiceAccountKey, "", "", nil, nil, false},
		{EtcdServer, EtcdCA, "{host}", nil, both, true},
		{EtcdPeer, EtcdCA, "{host}", nil, both, true},
		{APIServer, CA, "kube-apiserver", nil, srv, true},
		{KubeletClient, CA, "system:node:{host}", []string{"system:nodes"}, cli, true},
		{KubeletServing, CA, "system:node:{host}", []string{"system:nodes"}, srv, true},
		{APIServerEtcdClient, EtcdCA, "kube-apiserver-etcd-client", nil, cli, false},
		{APIServerKubeletClient, CA, "kube-apiserver-kubelet-client", nil, cli, false},
		{FrontProxyClient, FrontProxyCA, "front-proxy-client", nil, cli, false},
		{EtcdHealthcheckClient, EtcdCA, "kube-etcd-healthcheck-client", nil, cli, false},
		{Admin, CA, "kubernetes-admin", []string{"kign:cluster-admins"}, cli, false},
		{SuperAdmin, CA, "kubernetes-super-admin", []string{"system:masters"}, cli, false},
		{AddonManager, CA, "kign:addon-manager", nil, cli, false},
		{Bootstrap, CA, "kign:bootstrap", []string{"system:masters"}, cli, false},
		{ControllerManager, CA, "system:kube-controller-manager", nil, cli, false},
		{Scheduler, CA, "system:kube-scheduler", nil, cli, false},
		{KubeProxy, CA, "system:kube-proxy", nil, cli, false},
		{FlannelEtcdClient, EtcdCA, "flannel", nil, cli, false},
		{EtcdMaintenanceClient, EtcdCA, "kign:etcd-maintenance", nil, cli, false},
		{DeliveryServing, CA, "kign-serve", nil, srv, false},
	}
	if len(tests) != len(Table) {
		t.Errorf("Table has %d rows, the test knows %d", len(Table), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := Lookup(tt.name)
			if !ok {
				t.Fatal("missing")
			}
			if s.CA != tt.ca || s.CN != tt.cn || !slices.Equal(s.Orgs, tt.orgs) || !slices.Equal(s.Usages, tt.usages) || s.PerHost != tt.perHost {
				t.Errorf("got CA %q CN %q O %v usages %v perHost %v", s.CA, s.CN, s.Orgs, s.Usages, s.PerHost)
			}
		})
	}
}

// TestSANRules checks every SAN rule for master1 of the seed plan with extraSANs.
func TestSANRules(t *testing.T) {
	p := seedPlan(RSA)
	p.ExtraSANDNS = []string{"API.example.com."}
	p.ExtraSANIPs = []netip.Addr{netip.MustParseAddr("192.0.2.7")}
	h := p.Hosts[1]
	tests := []struct {
		spec string
		dns  []string
		ips  []string
	}{
		{APIServer,
			[]string{"api.example.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "master1"},
			[]string{"10.22.108.79", "10.22.108.250", "10.99.66.1", "127.0.0.1", "192.0.2.7"}},
		{EtcdServer, []string{"localhost", "master1"}, []string{"10.22.108.79", "127.0.0.1"}},
		{EtcdPeer, []string{"localhost", "master1"}, []string{"10.22.108.79", "127.0.0.1"}},
		{KubeletServing, []string{"master1"}, []string{"10.22.108.79"}},
		{Admin, nil, nil},
		{KubeletClient, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, _ := Lookup(tt.spec)
			dns, ips := s.WantSANs(p, h)
			var got []string
			for _, a := range ips {
				got = append(got, a.String())
			}
			if !slices.Equal(dns, tt.dns) || !slices.Equal(got, tt.ips) {
				t.Errorf("got %v %v, want %v %v", dns, got, tt.dns, tt.ips)
			}
		})
	}
}

// TestEventString checks the tagged progress lines.
func TestEventString(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Action: ActionUsing, Spec: EtcdCA}, "[pki] using existing etcd-ca"},
		{Event{Action: ActionIssued, Spec: EtcdPeer, Host: "master3"}, "[pki] issued etcd-peer for master3"},
		{Event{Action: ActionReissued, Spec: APIServer, Host: "master0", Reason: "SANs changed: +10.0.0.9"},
			"[pki] re-issued apiserver for master0 (SANs changed: +10.0.0.9)"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
