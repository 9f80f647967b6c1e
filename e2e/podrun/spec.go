//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// runSpec is everything the sandbox needs to start one container. The
// kubelet side builds it (with hostPath checks done in the host root) and
// hands it to the sandbox as a JSON file.
type runSpec struct {
	Pod       string      `json:"pod"`
	Container string      `json:"container"`
	Argv      []string    `json:"argv"` // command then args, verbatim
	Env       []string    `json:"env"`
	WorkDir   string      `json:"workDir"`
	Root      string      `json:"root"`   // where the sandbox builds its root
	Images    string      `json:"images"` // folder of binaries put on PATH
	Mounts    []mountSpec `json:"mounts"`
	// Privileged containers get a writable /proc/sys/net (this host's
	// network namespace); the rest of /proc/sys stays read-only here.
	Privileged bool `json:"privileged"`
}

// mountSpec is one hostPath volume mount.
type mountSpec struct {
	Volume   string `json:"volume"`
	Source   string `json:"source"` // path in the host root
	Target   string `json:"target"` // mountPath in the container
	ReadOnly bool   `json:"readOnly"`
	Dir      bool   `json:"dir"`
}

// imagesDir is where the test's binaries appear inside every container.
const imagesDir = "/kign-e2e/images"

// parsePod decodes a static pod manifest as the kubelet's file source does
// (YAML or JSON into a v1 Pod) and refuses what the stand-in cannot run or
// the kubelet would reject.
func parsePod(data []byte) (*corev1.Pod, error) {
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if pod.Kind != "Pod" || pod.APIVersion != "v1" {
		return nil, fmt.Errorf("apiVersion %q kind %q: want v1 Pod", pod.APIVersion, pod.Kind)
	}
	if pod.Name == "" {
		return nil, errors.New("metadata.name is empty")
	}
	if !pod.Spec.HostNetwork {
		return nil, errors.New("spec.hostNetwork is false: the stand-in runs host-network pods only")
	}
	if len(pod.Spec.InitContainers) > 0 {
		return nil, errors.New("init containers are not supported by the stand-in")
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, errors.New("no containers")
	}
	vols := map[string]*corev1.HostPathVolumeSource{}
	for _, v := range pod.Spec.Volumes {
		if _, dup := vols[v.Name]; dup {
			return nil, fmt.Errorf("volume %q is declared twice", v.Name)
		}
		if v.HostPath == nil {
			return nil, fmt.Errorf("volume %q is not a hostPath: not supported by the stand-in", v.Name)
		}
		if !filepath.IsAbs(v.HostPath.Path) {
			return nil, fmt.Errorf("volume %q: hostPath %q is not absolute", v.Name, v.HostPath.Path)
		}
		vols[v.Name] = v.HostPath
	}
	for _, c := range pod.Spec.Containers {
		if len(c.Command) == 0 {
			return nil, fmt.Errorf("container %q has no command: the stand-in cannot use an image's entrypoint", c.Name)
		}
		seen := map[string]bool{}
		for _, m := range c.VolumeMounts {
			if vols[m.Name] == nil {
				return nil, fmt.Errorf("container %q mounts unknown volume %q", c.Name, m.Name)
			}
			if m.SubPath != "" || m.SubPathExpr != "" {
				return nil, fmt.Errorf("container %q: subPath is not supported by the stand-in", c.Name)
			}
			if !filepath.IsAbs(m.MountPath) {
				return nil, fmt.Errorf("container %q: mountPath %q is not absolute", c.Name, m.MountPath)
			}
			if seen[m.MountPath] {
				return nil, fmt.Errorf("container %q: mountPath %q must be unique", c.Name, m.MountPath)
			}
			seen[m.MountPath] = true
		}
		for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
			if p != nil && p.HTTPGet == nil && p.TCPSocket == nil {
				return nil, fmt.Errorf("container %q: only httpGet and tcpSocket probes are supported by the stand-in", c.Name)
			}
		}
	}
	return &pod, nil
}

// buildSpec checks and prepares container c's hostPath volumes in the host
// root, as the kubelet's hostPath plugin does before starting it, and
// returns its run spec.
func buildSpec(pod *corev1.Pod, c corev1.Container, images, sandboxRoot string) (*runSpec, error) {
	vols := map[string]*corev1.HostPathVolumeSource{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v.HostPath
	}
	s := &runSpec{
		Pod: pod.Name, Container: c.Name,
		Argv:    append(append([]string{}, c.Command...), c.Args...),
		WorkDir: c.WorkingDir,
		Root:    sandboxRoot,
		Images:  images,
	}
	if sc := c.SecurityContext; sc != nil && sc.Privileged != nil {
		s.Privileged = *sc.Privileged
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			return nil, fmt.Errorf("env %s: valueFrom is not supported by the stand-in", e.Name)
		}
		s.Env = append(s.Env, e.Name+"="+e.Value)
	}
	for _, m := range c.VolumeMounts {
		hp := vols[m.Name]
		kind := corev1.HostPathUnset
		if hp.Type != nil {
			kind = *hp.Type
		}
		dir, err := prepareHostPath(hp.Path, kind)
		if err != nil {
			return nil, fmt.Errorf("MountVolume.SetUp failed for volume %q: %w", m.Name, err)
		}
		s.Mounts = append(s.Mounts, mountSpec{Volume: m.Name, Source: hp.Path, Target: m.MountPath, ReadOnly: m.ReadOnly, Dir: dir})
	}
	sort.SliceStable(s.Mounts, func(i, j int) bool { return s.Mounts[i].Target < s.Mounts[j].Target })
	return s, nil
}

// prepareHostPath applies the hostPath type rules of the kubelet
// (pkg/volume/hostpath/host_path.go) and reports whether path is a folder.
// An unset type is not checked; like containerd's CRI, a missing source is
// then created as a folder.
func prepareHostPath(path string, kind corev1.HostPathType) (bool, error) {
	fi, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	fail := func(what string) (bool, error) {
		return false, fmt.Errorf("hostPath type check failed: %s is not a %s", path, what)
	}
	switch kind {
	case corev1.HostPathUnset:
		if !exists {
			return true, os.MkdirAll(path, 0o755)
		}
		return fi.IsDir(), nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return false, err
			}
			return true, nil
		}
		if !fi.IsDir() {
			return fail("directory")
		}
		return true, nil
	case corev1.HostPathDirectory:
		if !exists || !fi.IsDir() {
			return fail("directory")
		}
		return true, nil
	case corev1.HostPathFileOrCreate:
		if !exists {
			// The kubelet creates the file, not its parent folders.
			f, err := os.OpenFile(path, os.O_CREATE, 0o644)
			if err != nil {
				return false, fmt.Errorf("hostPath type check failed: %w", err)
			}
			return false, f.Close()
		}
		if fi.IsDir() {
			return fail("file")
		}
		return false, nil
	case corev1.HostPathFile:
		if !exists || fi.IsDir() {
			return fail("file")
		}
		return false, nil
	case corev1.HostPathSocket:
		if !exists || fi.Mode()&fs.ModeSocket == 0 {
			return fail("socket file")
		}
		return false, nil
	case corev1.HostPathCharDev:
		if !exists || fi.Mode()&fs.ModeCharDevice == 0 {
			return fail("character device")
		}
		return false, nil
	case corev1.HostPathBlockDev:
		if !exists || fi.Mode()&fs.ModeDevice == 0 || fi.Mode()&fs.ModeCharDevice != 0 {
			return fail("block device")
		}
		return false, nil
	}
	return false, fmt.Errorf("unknown hostPath type %q", kind)
}

// safeName turns a pod and container name into one file name.
func safeName(parts ...string) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(strings.Join(parts, "."))
}
