package osvariant

import (
	"path"
	"reflect"
	"testing"
)

// Every row is complete: a new OS cannot leave a fact out by accident.
// Fields that may be empty on purpose are listed with the reason.
func TestRowsComplete(t *testing.T) {
	optional := map[string]bool{
		"ContainerdExecStart": true, // the OS's unit already reads /etc/containerd/config.toml
		"SELinux":             true, // false: not enforcing by default
		"ISOEmbed":            true, // false: the live ISO has no embed area
		"RootfsArg":           true, // the initramfs carries /usr itself
		"PlatformArg":         true, // the OS takes no platform argument
		"MultiDayWindows":     true, // false: one weekday or every day
	}
	names := map[string]bool{}
	for _, o := range Table {
		if names[o.Name] {
			t.Errorf("%s: listed twice", o.Name)
		}
		names[o.Name] = true
		v := reflect.ValueOf(o)
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || optional[f.Name] {
				continue
			}
			if v.Field(i).IsZero() {
				t.Errorf("%s: %s is not set", o.Name, f.Name)
			}
		}
		if o.parse == nil {
			t.Errorf("%s: no Ignition parser", o.Name)
		}
		if !o.Executes(o.Bin("kubelet")) {
			t.Errorf("%s: BinDir %s is not among the folders it executes (%v)", o.Name, o.BinDir, o.ExecDirs)
		}
		for _, d := range o.ExecDirs {
			if !path.IsAbs(d) || path.Clean(d) != d {
				t.Errorf("%s: exec folder %q is not a clean absolute path", o.Name, d)
			}
		}
		if got, ok := ByButane(o.ButaneVariant, o.ButaneVersion); !ok || got.Name != o.Name {
			t.Errorf("%s: ByButane(%s, %s) = %s", o.Name, o.ButaneVariant, o.ButaneVersion, got.Name)
		}
		if got, ok := BySpec(o.IgnitionSpec); !ok || got.Name != o.Name {
			t.Errorf("%s: spec %s is shared with %s: Validate could not tell them apart", o.Name, o.IgnitionSpec, got.Name)
		}
	}
	if Table[0].Name != Default {
		t.Errorf("the default OS %s is not the first row", Default)
	}
}

// Each row's parser accepts its own spec and refuses the others'.
func TestParse(t *testing.T) {
	for _, o := range Table {
		if err := o.Parse([]byte(`{"ignition":{"version":"` + o.IgnitionSpec + `"}}`)); err != nil {
			t.Errorf("%s: %v", o.Name, err)
		}
		for _, other := range Table {
			if other.IgnitionSpec == o.IgnitionSpec {
				continue
			}
			if err := o.Parse([]byte(`{"ignition":{"version":"` + other.IgnitionSpec + `"}}`)); err == nil {
				t.Errorf("%s accepts spec %s", o.Name, other.IgnitionSpec)
			}
		}
	}
}

func TestExecutes(t *testing.T) {
	fcos := MustLookup(FCOS)
	for p, want := range map[string]bool{
		"/usr/local/bin/kubelet": true,
		"/usr/bin/tar":           true,
		"/opt/bin/kubelet":       false, // var_t under SELinux
		"/usr/local/bin/x/y":     false,
		"kubelet":                false,
	} {
		if got := fcos.Executes(p); got != want {
			t.Errorf("fcos executes %s = %v, want %v", p, got, want)
		}
	}
	if _, err := Lookup("rhcos"); err == nil {
		t.Error("Lookup(rhcos) succeeded")
	}
}
