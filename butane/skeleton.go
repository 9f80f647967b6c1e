package butane

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/kign-project/kign/internal/osvariant"
)

//go:embed controlplane.bu.tmpl
var controlPlaneSkeleton string

// SkeletonName is how errors name the skeleton.
const SkeletonName = "butane/controlplane.bu.tmpl"

var skeleton = template.Must(template.New(SkeletonName).Option("missingkey=error").Funcs(template.FuncMap{
	// indent n s indents every line of s after the first by n spaces, so a
	// continued ExecStart stays inside its YAML block scalar.
	"indent": func(n int, s string) string { return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n)) },
}).Parse(controlPlaneSkeleton))

// SkeletonData is every value the skeleton places. All of it is computed
// by the caller; commands are given as argument lists and joined here into
// systemd's continued-line form.
type SkeletonData struct {
	OS       osvariant.OS
	Hostname string

	// ContainerdExecStart, when set, replaces containerd's ExecStart
	// (Flatcar), so that it reads kign's config file.
	ContainerdExecStart string

	BinDir             string
	CNIBinDir          string
	CNIPluginsTarball  string
	EtcdTarball        string
	ManifestsDir       string
	FlannelNetConfFile string
	FlannelRunDir      string
	FlanneldEnvFile    string
	EtcdAuthScript     string
	EtcdMemberScript   string
	EtcdSnapshotScript string
	// EtcdSnapshotTimer is etcd-snapshot.timer's OnCalendar= value.
	EtcdSnapshotTimer string
	EtcdLearnerMarker string
	// KubeletClientLink links to KubeletClientPair (render.KubeletClientCurrent).
	KubeletClientLink, KubeletClientPair string
	AddonsScript                         string
	AddonsMarker                         string

	KubeletExec        string
	FlanneldExec       string
	FlannelNetConfExec string
}

// ExecLine joins a command and its arguments into one ExecStart= value,
// continued over lines as systemd allows. Arguments must not contain
// whitespace, quotes, backslashes or newlines: they never do, since every
// value kign passes is validated (names, addresses, paths, URLs).
func ExecLine(argv ...string) (string, error) {
	for _, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\%$") {
			return "", fmt.Errorf("argument %q cannot go into a unit file unquoted", a)
		}
	}
	return strings.Join(argv, " \\\n  "), nil
}

// Skeleton renders the control-plane skeleton for one host.
func Skeleton(d SkeletonData) ([]byte, error) {
	var buf bytes.Buffer
	if err := skeleton.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
