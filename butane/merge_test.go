package butane

import (
	"strings"
	"testing"
)

const base = `variant: fcos
version: 1.6.0
storage:
  files:
    - path: /etc/hostname
      contents:
        inline: master0
systemd:
  units:
    - name: kubelet.service
      enabled: true
      contents: |
        [Service]
        ExecStart=/opt/bin/kubelet
        [Install]
        WantedBy=multi-user.target
passwd:
  users:
    - name: core
      ssh_authorized_keys: [ssh-ed25519 AAAA one]
`

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		overlay string
		wantErr string   // substring of the error, "" for success
		want    []string // substrings of the merged document
	}{
		{
			name: "new file and a drop-in on an existing unit",
			overlay: `variant: fcos
version: 1.6.0
storage:
  files:
    - path: /etc/chrony.conf
      contents:
        inline: server ntp.example
systemd:
  units:
    - name: kubelet.service
      dropins:
        - name: 20-proxy.conf
          contents: "[Service]\nEnvironment=HTTPS_PROXY=http://p:3128\n"
`,
			want: []string{"/etc/chrony.conf", "20-proxy.conf", "ExecStart=/opt/bin/kubelet"},
		},
		{
			name: "SSH keys are appended to an existing user",
			overlay: `variant: fcos
version: 1.6.0
passwd:
  users:
    - name: core
      ssh_authorized_keys: [ssh-ed25519 AAAA two]
`,
			want: []string{"AAAA one", "AAAA two"},
		},
		{
			name: "same path from two sources",
			overlay: `variant: fcos
version: 1.6.0
storage:
  files:
    - path: /etc/hostname
      contents:
        inline: evil
`,
			wantErr: "overlay.bu:5:7: storage.files[path=/etc/hostname]: written by two sources, also set at skeleton:5:7",
		},
		{
			name: "same unit, different contents",
			overlay: `variant: fcos
version: 1.6.0
systemd:
  units:
    - name: kubelet.service
      contents: "[Service]\nExecStart=/bin/false\n"
`,
			wantErr: "overlay.bu:6:17: systemd.units[name=kubelet.service].contents",
		},
		{
			name:    "other variant",
			overlay: "variant: flatcar\nversion: 1.1.0\n",
			wantErr: `overlay.bu: variant is "flatcar", but kign generates variant "fcos"`,
		},
		{
			name:    "not a mapping",
			overlay: "- a\n- b\n",
			wantErr: "overlay.bu: a Butane document must be a mapping",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Merge([]Source{{Name: "skeleton", Data: []byte(base)}, {Name: "overlay.bu", Data: []byte(tc.overlay)}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("merged document lacks %q:\n%s", w, out)
				}
			}
			if _, err := Translate("merged", out); err != nil {
				t.Errorf("merged document does not translate: %v", err)
			}
		})
	}
}

func TestTranslateStrict(t *testing.T) {
	// Errors and warnings alike fail: an unknown key, a mode that is not a
	// permission, a relative path, a local file without a files folder, and
	// (a Butane warning) an enabled unit without an [Install] section.
	for name, doc := range map[string]string{
		"unknown key":   "variant: fcos\nversion: 1.6.0\nstorage:\n  filez: []\n",
		"bad mode":      "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/x\n      mode: 0999\n",
		"relative path": "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: etc/x\n",
		"local file":    "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/x\n      contents:\n        local: x\n",
		"warning only":  "variant: fcos\nversion: 1.6.0\nsystemd:\n  units:\n    - name: a.service\n      enabled: true\n      contents: \"[Service]\\nExecStart=/bin/true\\n\"\n",
	} {
		if _, err := Translate(name, []byte(doc)); err == nil {
			t.Errorf("%s: translated without error", name)
		}
	}
	ign, err := Translate("ok", []byte("variant: flatcar\nversion: 1.1.0\n"))
	if err != nil || !strings.Contains(string(ign), `"version":"3.4.0"`) {
		t.Errorf("flatcar 1.1.0 → %s, %v; want Ignition 3.4.0", ign, err)
	}
}

func TestExecLine(t *testing.T) {
	got, err := ExecLine("/opt/bin/kubelet", "--a=1", "--b=2")
	if err != nil || got != "/opt/bin/kubelet \\\n  --a=1 \\\n  --b=2" {
		t.Errorf("ExecLine = %q, %v", got, err)
	}
	for _, bad := range []string{"a b", "x\ny", "%h", `a"b`, ""} {
		if _, err := ExecLine("/bin/x", bad); err == nil {
			t.Errorf("ExecLine accepted %q", bad)
		}
	}
}
