package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/plan"
)

// StateFile, in the PKI bundle folder (which lives as long as the cluster),
// records what kign gen last generated configs for, so that a later run
// can hold the cluster to Kubernetes' version skew policy: masters are
// upgraded one minor version at a time, and never downgraded by a minor
// (kubeadm refuses the same).
const StateFile = "kign-state.yaml"

// genState is StateFile's content.
type genState struct {
	KubernetesVersion string `json:"kubernetesVersion"`
}

func readState(pkiDir string) (genState, bool, error) {
	var st genState
	path := filepath.Join(pkiDir, StateFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := yaml.UnmarshalStrict(data, &st); err != nil {
		return st, false, fmt.Errorf("%s: %w", path, err)
	}
	if _, _, err := minorOf(st.KubernetesVersion); err != nil {
		return st, false, fmt.Errorf("%s: kubernetesVersion: %w", path, err)
	}
	return st, true, nil
}

// writeState records p's version in pkiDir.
func writeState(pkiDir string, p *plan.Plan) error {
	data, err := yaml.Marshal(genState{KubernetesVersion: p.KubernetesVersion})
	if err != nil {
		return err
	}
	data = append([]byte("# Written by kign gen: the Kubernetes version the last configs were\n# generated for. kign gen refuses a version that skips a minor from it.\n"), data...)
	_, err = output.WriteFileAtomic(filepath.Join(pkiDir, StateFile), data, 0o600)
	return err
}

// minorOf returns vX.Y.Z's major and minor.
func minorOf(v string) (int, int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) != 3 || !strings.HasPrefix(v, "v") {
		return 0, 0, fmt.Errorf("%q is not vX.Y.Z", v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not vX.Y.Z", v)
	}
	return major, minor, nil
}

// checkSkew refuses a plan whose Kubernetes version is more than one minor
// after, or any minor before, the version the bundle's cluster was last
// generated for.
func checkSkew(inv *inventory.Inventory, p *plan.Plan, pkiDir string) error {
	st, ok, err := readState(pkiDir)
	if err != nil || !ok {
		return err
	}
	oMaj, oMin, _ := minorOf(st.KubernetesVersion)
	nMaj, nMin, err := minorOf(p.KubernetesVersion)
	if err != nil {
		return err
	}
	where := "(no line: kign's default version)"
	if pos, ok := inv.Positions["cluster.kubernetesVersion"]; ok && pos.Line > 0 {
		where = pos.String() + ": cluster.kubernetesVersion"
	}
	from := filepath.Join(pkiDir, StateFile)
	switch {
	case nMaj != oMaj:
		return fmt.Errorf("%s: %s is another major version than %s, which %s says the configs were last generated for", where, p.KubernetesVersion, st.KubernetesVersion, from)
	case nMin > oMin+1:
		return fmt.Errorf("%s: %s skips a minor version: the configs were last generated for %s (%s); upgrade one minor at a time (%d.%d, then %d.%d), reprovisioning every master at each step, as Kubernetes' version skew policy asks", where, p.KubernetesVersion, st.KubernetesVersion, from, oMaj, oMin+1, oMaj, oMin+2)
	case nMin < oMin:
		return fmt.Errorf("%s: %s is a minor version older than %s, which the configs were last generated for (%s): Kubernetes does not support downgrading a control plane by a minor version", where, p.KubernetesVersion, st.KubernetesVersion, from)
	}
	return nil
}
