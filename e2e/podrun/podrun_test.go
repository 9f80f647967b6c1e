//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPrepareHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	for _, tc := range []struct {
		name    string
		path    string
		kind    corev1.HostPathType
		wantDir bool
		wantErr string
	}{
		{"file exists", file, corev1.HostPathFile, false, ""},
		{"file missing", filepath.Join(dir, "missing"), corev1.HostPathFile, false, "is not a file"},
		{"file is a folder", dir, corev1.HostPathFile, false, "is not a file"},
		{"folder missing", filepath.Join(dir, "nodir"), corev1.HostPathDirectory, false, "is not a directory"},
		{"folder created", filepath.Join(dir, "new/sub"), corev1.HostPathDirectoryOrCreate, true, ""},
		{"file created", filepath.Join(dir, "created"), corev1.HostPathFileOrCreate, false, ""},
		{"file not created without its folder", filepath.Join(dir, "no/such"), corev1.HostPathFileOrCreate, false, "no such file"},
		{"unset type on a missing path makes a folder", filepath.Join(dir, "unset"), corev1.HostPathUnset, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isDir, err := prepareHostPath(tc.path, tc.kind)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || isDir != tc.wantDir {
				t.Fatalf("= %v, %v; want %v, nil", isDir, err, tc.wantDir)
			}
			if _, err := os.Stat(tc.path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResolveIn(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/lib/modules"), 0o755)
	os.Symlink("usr/lib", filepath.Join(root, "lib"))
	os.Symlink("/usr/lib", filepath.Join(root, "abs"))
	for in, want := range map[string]string{
		"/lib/modules":  "usr/lib/modules",
		"/abs/modules":  "usr/lib/modules",
		"/etc/x/../y":   "etc/y",
		"/../../escape": "escape",
	} {
		got, err := resolveIn(root, in)
		if err != nil || got != filepath.Join(root, want) {
			t.Errorf("resolveIn(%s) = %s, %v; want %s", in, got, err, filepath.Join(root, want))
		}
	}
}

func TestParsePodRefuses(t *testing.T) {
	base := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
	for name, tc := range map[string]struct{ spec, want string }{
		"pod network":      {"  containers:\n  - name: c\n    command: [x]\n", "hostNetwork"},
		"no command":       {"  hostNetwork: true\n  containers:\n  - name: c\n    image: x\n", "no command"},
		"unknown volume":   {"  hostNetwork: true\n  containers:\n  - name: c\n    command: [x]\n    volumeMounts:\n    - name: v\n      mountPath: /v\n", "unknown volume"},
		"emptyDir":         {"  hostNetwork: true\n  volumes:\n  - name: v\n    emptyDir: {}\n  containers:\n  - name: c\n    command: [x]\n", "not a hostPath"},
		"exec probe":       {"  hostNetwork: true\n  containers:\n  - name: c\n    command: [x]\n    livenessProbe:\n      exec:\n        command: [\"true\"]\n", "probes"},
		"duplicate mounts": {"  hostNetwork: true\n  volumes:\n  - name: v\n    hostPath:\n      path: /v\n  containers:\n  - name: c\n    command: [x]\n    volumeMounts:\n    - {name: v, mountPath: /v}\n    - {name: v, mountPath: /v}\n", "unique"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parsePod([]byte(base + tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := parsePod([]byte(base + "  hostNetwork: true\n  containers:\n  - name: c\n    command: [x]\n")); err != nil {
		t.Fatalf("a valid pod was refused: %v", err)
	}
}
