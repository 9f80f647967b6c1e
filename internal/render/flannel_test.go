package render

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// decodeStrict decodes JSON into v, refusing unknown fields and trailing data.
func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	if d.More() {
		t.Fatalf("trailing data in\n%s", data)
	}
}

func TestFlannelNetConf(t *testing.T) {
	tests := []struct {
		name    string
		podCIDR string
		mask    int
		wantErr bool
	}{
		{"default", "10.244.0.0/16", 24, false},
		{"small nodes", "10.20.0.0/16", 27, false},
		{"mask not inside", "10.244.0.0/16", 16, true},
		{"mask too long", "10.244.0.0/16", 31, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan(t, 3)
			p.PodCIDR = netip.MustParsePrefix(tt.podCIDR)
			p.NodeCIDRMaskSize = tt.mask
			data, err := FlannelNetConf(p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var got FlannelNetwork
			decodeStrict(t, data, &got)
			want := FlannelNetwork{Network: tt.podCIDR, SubnetLen: tt.mask, Backend: FlannelBackend{Type: "vxlan"}}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestCNIConfList compares with cni-conf.json of upstream's kube-flannel.yml,
// whose only difference is the older cniVersion.
func TestCNIConfList(t *testing.T) {
	data, err := CNIConfList(testPlan(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	var typed CNINetworkList
	decodeStrict(t, data, &typed)
	const upstream = `{
  "name": "cbr0",
  "cniVersion": "1.0.0",
  "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}`
	var got, want any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(upstream), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CNIConfList =\n%s\nwant\n%s", data, upstream)
	}
}

func TestFlanneldArgs(t *testing.T) {
	p := testPlan(t, 3)
	got := FlanneldArgs(p, p.Hosts[1])
	want := []string{
		"--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
		"--etcd-certfile=/etc/kubernetes/pki/etcd/flannel-client.crt",
		"--etcd-keyfile=/etc/kubernetes/pki/etcd/flannel-client.key",
		"--etcd-prefix=/coreos.com/network",
		"--iface=10.0.0.12",
		"--ip-masq=true",
		"--public-ip=10.0.0.12",
	}
	if !slices.Equal(got, want) {
		t.Errorf("FlanneldArgs =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range got {
		if strings.Contains(a, "kube-subnet-mgr") || strings.Contains(a, p.VIP.String()) {
			t.Errorf("unexpected %q", a)
		}
	}
}
