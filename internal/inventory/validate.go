package inventory

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kign-project/kign/images"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/diag"
	"github.com/kign-project/kign/internal/osvariant"
)

// Validate checks the values of an inventory and how they fit together,
// reporting every problem, sorted. Parse calls it after decoding; call it
// directly for an Inventory built in code, whose Positions may be empty.
//
// A field left out is checked at the value the planner will use instead
// (internal/plan's defaults). An integer field that holds 0 counts as left
// out unless Positions shows it was written, so "port: 0" is refused rather
// than silently replaced by 6443.
func Validate(inv *Inventory) diag.Report {
	rep := validate(inv, nil, false)
	rep.Sort()
	return rep
}

// validator checks one inventory. Each check reads the typed values and
// reports at the field's path; the effective values of the fields other
// checks depend on are kept here, left zero where the field is invalid so
// that no problem is reported twice.
type validator struct {
	inv *Inventory
	// bad holds paths the decoder already reported as unusable.
	bad map[string]bool
	// locking: the caller is `kign artifacts lock`, which is there to fill
	// in the hashes that are missing; that they are missing is no error.
	locking bool
	rep     diag.Report

	version     string // effective Kubernetes version, "" if invalid
	os          string // effective OS, "" if invalid
	serviceCIDR netip.Prefix
	podCIDR     netip.Prefix
	vip         netip.Addr
	mask        int // effective nodeCIDRMaskSize, 0 if invalid
	// For Effective: the PKI's validity periods, the arch, its catalog set
	// and the OS image, each as its check found it.
	caValidity, certValidity time.Duration
	arch                     string
	catalogSet               catalog.Set
	image                    images.Image
}

func validate(inv *Inventory, bad map[string]bool, locking bool) diag.Report {
	v := &validator{inv: inv, bad: bad, locking: locking}
	v.cluster()
	v.network()
	v.hosts()
	v.machine()
	v.pki()
	v.artifacts()
	v.images()
	if u := inv.Delivery.URL; u != "" {
		if p := httpURLProblem(u, true); p != "" {
			v.check("delivery.url", p)
		} else if !strings.HasPrefix(u, "https://") {
			v.errorf("delivery.url", "%q is not an https:// URL: hosts fetch their keys from it, so kign serve only speaks TLS", clip(u))
		}
	}
	for i, o := range inv.Overlays {
		v.check(fmt.Sprintf("overlays[%d]", i), overlayProblem(o))
	}
	for i, a := range inv.Addons {
		v.check(fmt.Sprintf("addons[%d]", i), addonProblem(a))
	}
	if len(inv.Addons) > MaxAddons {
		v.errorf("addons", "lists %d files; kign applies at most %d (put several documents in one file)", len(inv.Addons), MaxAddons)
	}
	inv.Effective = nil
	if !v.rep.HasErrors() && len(bad) == 0 {
		inv.Effective = v.effective()
	}
	return v.rep
}

// at is where the value at path stands, or its nearest enclosing value.
func (v *validator) at(path string) diag.Pos { return v.inv.Positions.Of(v.inv.File, path) }

// set reports whether path was written in the document.
func (v *validator) set(path string) bool {
	_, ok := v.inv.Positions[path]
	return ok
}

// given reports whether an integer field was set: non-zero, or written.
func (v *validator) given(path string, x int) bool { return x != 0 || v.set(path) }

// skip reports whether path, or a field enclosing it, was already reported.
func (v *validator) skip(path string) bool {
	for p := path; p != ""; p = parent(p) {
		if v.bad[p] {
			return true
		}
	}
	return false
}

func (v *validator) errorf(path, format string, args ...any) {
	if !v.skip(path) {
		v.rep.Errorf(v.at(path), path, format, args...)
	}
}

func (v *validator) warnf(path, format string, args ...any) {
	if !v.skip(path) {
		v.rep.Warnf(v.at(path), path, format, args...)
	}
}

// check reports problem at path unless it is "". It returns whether the value is fine.
func (v *validator) check(path, problem string) bool {
	if problem != "" {
		v.errorf(path, "%s", problem)
	}
	return problem == ""
}

// required reports a required string that is empty; true when it is not.
func (v *validator) required(path, s string) bool {
	switch {
	case s != "":
		return true
	case v.set(path):
		v.errorf(path, "must not be empty%s", example(path))
	default:
		v.errorf(path, "missing required field %q%s", path[strings.LastIndexByte(path, '.')+1:], example(path))
	}
	return false
}

// oneOf reports s unless it is one of allowed.
func (v *validator) oneOf(path, s string, allowed ...string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	v.errorf(path, "%q is not one of %s%s", s, strings.Join(allowed, ", "), didYouMean(s, allowed))
	return false
}

// ref names a field, its value when given, and its line when known, for
// messages that point from one field to another:
// "cluster.serviceCIDR 10.96.0.0/12 (line 3)".
func (v *validator) ref(path, value string) string {
	s := path
	if value != "" {
		s += " " + value
	}
	if pos, ok := v.inv.Positions[path]; ok && pos.Line > 0 {
		s += fmt.Sprintf(" (line %d)", pos.Line)
	}
	return s
}

var kubernetesVersion = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// reservedPorts are ports the control plane already listens on, on every
// host; the API server cannot share them.
var reservedPorts = map[int]string{
	2379:  "etcd's client port",
	2380:  "etcd's peer port",
	10248: "the kubelet's healthz port",
	10249: "kube-proxy's metrics port",
	10250: "the kubelet's API port",
	10256: "kube-proxy's healthz port",
	10257: "kube-controller-manager's secure port",
	10259: "kube-scheduler's secure port",
}

// cluster checks the fields of cluster: that stand on their own.
func (v *validator) cluster() {
	c := v.inv.Cluster
	if v.required("cluster.name", c.Name) {
		v.check("cluster.name", labelProblem(c.Name))
	}

	v.os = DefaultOS
	if c.OS != "" {
		v.os = ""
		if v.oneOf("cluster.os", c.OS, osvariant.Names()...) {
			v.os = c.OS
		}
	}

	v.version = catalog.Default()
	if k := c.KubernetesVersion; k != "" {
		v.version = ""
		switch {
		case !kubernetesVersion.MatchString(k):
			hint := ""
			if kubernetesVersion.MatchString("v" + k) {
				hint = fmt.Sprintf(" (did you mean %q?)", "v"+k)
			}
			v.errorf("cluster.kubernetesVersion", "%q is not a Kubernetes version of the form vX.Y.Z%s", k, hint)
		case !catalog.Supported(k):
			v.errorf("cluster.kubernetesVersion", "Kubernetes %s is not in kign's catalog (supported: %s)", k, strings.Join(catalog.Versions(), ", "))
		default:
			v.version = k
		}
	}

	if d := c.Domain; d != "" && !isDNS1123Subdomain(d) {
		v.errorf("cluster.domain", "%q is not a DNS-1123 subdomain (lowercase labels of letters, digits and '-' joined by '.', e.g. %s)", d, DefaultDomain)
	}
	if c.Interface != "" {
		v.check("cluster.interface", ifnameProblem(c.Interface))
	}

	if p := c.APIServer.Port; v.given("cluster.apiServer.port", p) {
		if p < 1 || p > 65535 {
			v.errorf("cluster.apiServer.port", "port %d is not in 1..65535", p)
		} else if what, ok := reservedPorts[p]; ok {
			v.errorf("cluster.apiServer.port", "port %d is %s on every control-plane host; pick another (the default is 6443)", p, what)
		}
	}
	for i, san := range c.APIServer.ExtraSANs {
		v.extraSAN(fmt.Sprintf("cluster.apiServer.extraSANs[%d]", i), san)
	}
	for i, key := range c.SSHAuthorizedKeys {
		v.check(fmt.Sprintf("cluster.sshAuthorizedKeys[%d]", i), sshKeyProblem(key))
	}

	v.audit()
	v.components()
	v.authentication()

	k := c.Keepalived
	if id := k.VirtualRouterID; v.given("cluster.keepalived.virtualRouterID", id) && (id < 1 || id > 255) {
		v.errorf("cluster.keepalived.virtualRouterID", "%d is not a VRRP virtual router id (1..255)", id)
	}
	if pw := k.Password; len(pw) > 8 {
		v.errorf("cluster.keepalived.password", "is %d characters; VRRP PASS authentication uses at most 8 (keepalived ignores the rest)", len(pw))
	} else if strings.ContainsFunc(pw, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '"' || r == '#' || r == '!' }) {
		v.errorf("cluster.keepalived.password", "must be printable ASCII without whitespace, '\"', '#' or '!' (keepalived.conf would misread it)")
	}
}

// extraSAN checks one extra subject alternative name of the API server
// certificate: an IPv4 address or a DNS name, optionally a "*." wildcard.
func (v *validator) extraSAN(path, san string) {
	if a, err := netip.ParseAddr(san); err == nil {
		if !a.Is4() {
			v.errorf(path, "%s is an IPv6 address; kign supports IPv4 only for now", san)
		}
		return
	}
	name := strings.TrimPrefix(san, "*.")
	// RFC 1123 §2.1: a host name never looks like a dotted number, so
	// "10.0.0.300" is a bad address, not a name.
	last := name[strings.LastIndexByte(name, '.')+1:]
	if !isDNS1123Subdomain(name) || strings.Trim(last, "0123456789") == "" {
		v.errorf(path, "%q is neither an IPv4 address nor a DNS name (lowercase letters, digits, '-' and '.'; a leading \"*.\" is allowed)", san)
	}
}
