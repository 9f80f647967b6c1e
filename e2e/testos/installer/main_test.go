package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadConfigs(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "0000-kign.yaml"), []byte("dest-device: /dev/vda\nignition-file: /etc/coreos/dest.ign\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "0001-site.yaml"), []byte("dest-device: /dev/vdb\ncopy-network: true\n"), 0o600)
	cfg, files, err := readConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := (config{DestDevice: "/dev/vdb", IgnitionFile: "/etc/coreos/dest.ign", CopyNetwork: true}); cfg != want || len(files) != 2 {
		t.Fatalf("got %+v from %v, want %+v", cfg, files, want)
	}
	os.WriteFile(filepath.Join(dir, "0002-typo.yaml"), []byte("dest-devce: /dev/sda\n"), 0o600)
	if _, _, err := readConfigs(dir); err == nil {
		t.Fatal("an unknown key was accepted")
	}
	if _, _, err := readConfigs(t.TempDir()); err == nil {
		t.Fatal("an empty folder was accepted")
	}
}
