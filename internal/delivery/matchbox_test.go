package delivery

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/plan"
)

func TestMatchbox(t *testing.T) {
	tests := []struct {
		name         string
		os           string
		spec         string
		wantWarnings int
		wantArgs     []string
	}{
		{"fcos spec 3.5 warns twice", "fcos", "3.5.0", 1 + 2,
			[]string{"initrd=main", "coreos.live.rootfs_url=", "ignition.firstboot", "ignition.platform.id=metal", "ignition.config.url=http://matchbox.example:8080/ignition?mac=${mac:hexhyp}"}},
		{"flatcar spec 3.4 warns once", "flatcar", "3.4.0", 1,
			[]string{"initrd=main", "flatcar.first_boot=1", "ignition.config.url=http://matchbox.example:8080/ignition?mac=${mac:hexhyp}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan(tc.os)
			img := testImage(t, tc.os)
			ign := map[string][]byte{}
			for _, h := range p.Hosts {
				ign[h.Name] = []byte(`{"ignition":{"version":"` + tc.spec + `"}}`)
			}
			set, warnings, err := Matchbox(p, img, ign, MatchboxConfig{HTTPEndpoint: "http://matchbox.example:8080/"})
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != tc.wantWarnings || warnings[0] != MatchboxWarning {
				t.Errorf("warnings %q", warnings)
			}
			if !strings.Contains(MatchboxWarning, "without authentication") {
				t.Errorf("the warning must say matchbox does not authenticate")
			}
			var paths []string
			for _, f := range set {
				paths = append(paths, f.Path)
				if strings.HasSuffix(f.Path, ".ign") && f.Mode != 0o600 {
					t.Errorf("%s mode %o", f.Path, f.Mode)
				}
			}
			want := "profiles/seed-master0.json groups/seed-master0.json ignition/seed-master0.ign " +
				"profiles/seed-master1.json groups/seed-master1.json ignition/seed-master1.ign"
			if strings.Join(paths, " ") != want {
				t.Errorf("paths %v", paths)
			}

			var prof matchboxProfile
			if err := json.Unmarshal(set[0].Data, &prof); err != nil {
				t.Fatal(err)
			}
			if prof.ID != "seed-master0" || prof.IgnitionID != "seed-master0.ign" || prof.Boot.Kernel != img.Kernel.URL {
				t.Errorf("profile %+v", prof)
			}
			if len(prof.Boot.Initrd) != 1 || prof.Boot.Initrd[0] != "--name main "+img.Initramfs.URL {
				t.Errorf("initrd %v", prof.Boot.Initrd)
			}
			args := strings.Join(prof.Boot.Args, " ")
			for _, a := range tc.wantArgs {
				if !strings.Contains(args, a) {
					t.Errorf("args %q miss %q", args, a)
				}
			}
			var grp matchboxGroup
			if err := json.Unmarshal(set[1].Data, &grp); err != nil {
				t.Fatal(err)
			}
			if grp.Profile != "seed-master0" || grp.Selector["mac"] != "52:54:00:00:00:01" || len(grp.Selector) != 1 {
				t.Errorf("group %+v", grp)
			}
		})
	}
}

func TestMatchboxRefuses(t *testing.T) {
	ok := map[string][]byte{"master0": []byte(`{"ignition":{"version":"3.4.0"}}`), "master1": []byte(`{"ignition":{"version":"3.4.0"}}`)}
	tests := []struct {
		name     string
		edit     func(p *plan.Plan, ign map[string][]byte)
		endpoint string
		want     string
	}{
		{"host without MAC would match every machine", func(p *plan.Plan, _ map[string][]byte) { p.Hosts[1].MAC = "" }, "http://m:8080", "hosts[].mac for master1"},
		{"missing config", func(_ *plan.Plan, ign map[string][]byte) { delete(ign, "master0") }, "http://m:8080", `no Ignition config for host "master0"`},
		{"bad endpoint", func(*plan.Plan, map[string][]byte) {}, "m:8080", "http(s)://"},
		{"not a config", func(_ *plan.Plan, ign map[string][]byte) { ign["master1"] = []byte("nope") }, "http://m:8080", "not an Ignition config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan("flatcar")
			ign := map[string][]byte{}
			for k, v := range ok {
				ign[k] = v
			}
			tc.edit(p, ign)
			_, _, err := Matchbox(p, testImage(t, "flatcar"), ign, MatchboxConfig{HTTPEndpoint: tc.endpoint})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
