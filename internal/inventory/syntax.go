package inventory

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file holds the lexical rules: whether one string is a well-formed
// value of its kind. Each function returns "" when the value is fine, else
// the message to report, so that callers only add the field path.

// dns1123Label is Kubernetes' IsDNS1123Label (k8s.io/apimachinery
// pkg/util/validation): lowercase letters, digits and '-', starting and
// ending with a letter or digit, at most 63 characters. Names that pass it
// contain no '/', '.' or "..", so a host name can safely become a file name.
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func labelProblem(s string) string {
	if dns1123Label.MatchString(s) {
		return ""
	}
	msg := fmt.Sprintf("%q is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)", s)
	if low := strings.ToLower(s); low != s && dns1123Label.MatchString(low) {
		msg += fmt.Sprintf("; did you mean %q?", low)
	}
	return msg
}

// isDNS1123Subdomain is Kubernetes' IsDNS1123Subdomain, with the RFC 1035
// limit of 63 characters per label: DNS-1123 labels joined by '.', at most
// 253 characters.
func isDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !dns1123Label.MatchString(label) {
			return false
		}
	}
	return true
}

// parseIPv4 parses a dotted-quad address. kign builds IPv4 clusters only.
func parseIPv4(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Sprintf("%q is not an IPv4 address", s)
	case !a.Is4():
		return netip.Addr{}, fmt.Sprintf("%s is an IPv6 address; kign supports IPv4 only for now", s)
	}
	return a, ""
}

// unicastProblem refuses addresses no host can own.
func unicastProblem(a netip.Addr) string {
	kind := ""
	switch {
	case a.IsUnspecified():
		kind = "the unspecified address"
	case a.IsLoopback():
		kind = "a loopback address"
	case a.IsMulticast():
		kind = "a multicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		kind = "the broadcast address"
	default:
		return ""
	}
	return fmt.Sprintf("%s is %s; a host needs an address the other hosts can reach", a, kind)
}

// parseCIDR parses an IPv4 network in CIDR notation and refuses host bits,
// which kube-apiserver and flannel would silently drop.
func parseCIDR(s string) (netip.Prefix, string) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil && a.Is4() {
			return netip.Prefix{}, fmt.Sprintf("%q has no prefix length (expected ADDRESS/BITS, e.g. %s/16)", s, s)
		}
		return netip.Prefix{}, fmt.Sprintf("%q is not an IPv4 CIDR (expected ADDRESS/BITS, e.g. 10.96.0.0/12)", s)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Sprintf("%s is an IPv6 network; kign supports IPv4 only for now", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Sprintf("%s has host bits set; did you mean %s?", s, m)
	}
	return p, ""
}

var macAddress = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`)

func macProblem(s string) string {
	if macAddress.MatchString(s) {
		return ""
	}
	return fmt.Sprintf("%q is not a MAC address (expected six colon-separated hex octets, e.g. 52:54:00:12:34:56)", s)
}

// ifnameProblem follows systemd's ifname_valid (src/basic/socket-util.c),
// which is stricter than the kernel's dev_valid_name (net/core/dev.c): at
// most 15 bytes (IFNAMSIZ-1), printable ASCII without whitespace, ':', '/'
// or '%', not "." or "..", not all digits (systemd reads those as an index).
func ifnameProblem(s string) string {
	switch {
	case s == "":
		return "interface name is empty"
	case len(s) > 15:
		return fmt.Sprintf("interface name %q is %d characters; Linux allows at most 15", s, len(s))
	case s == "." || s == "..":
		return fmt.Sprintf("%q is not a valid interface name", s)
	}
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '/' || c == '%' {
			return fmt.Sprintf("interface name %q contains %q; Linux interface names are printable ASCII without whitespace, ':', '/' or '%%'", s, rune(c))
		}
		digits = digits && c >= '0' && c <= '9'
	}
	if digits {
		return fmt.Sprintf("interface name %q is all digits, which systemd reads as an interface index", s)
	}
	return ""
}

// sshKeyTypes are the public key types current OpenSSH accepts in
// authorized_keys (ssh-dss was removed in OpenSSH 10.0).
var sshKeyTypes = []string{
	"ssh-ed25519", "ssh-rsa",
	"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}

// sshKeyProblem checks one authorized_keys entry: "TYPE BASE64 [comment]",
// where the decoded key blob starts with its own type name (RFC 4253 §6.6).
func sshKeyProblem(s string) string {
	const want = "expected an OpenSSH public key such as \"ssh-ed25519 AAAA... user@host\" (the contents of a .pub file)"
	if strings.Contains(s, "PRIVATE KEY") {
		return "this is a private key; give the public key (the .pub file) instead"
	}
	if strings.ContainsAny(s, "\r\n") {
		return "holds more than one line; give one key per list entry"
	}
	f := strings.Fields(s)
	if len(f) < 2 {
		return want
	}
	known := false
	for _, t := range sshKeyTypes {
		known = known || f[0] == t
	}
	if f[0] == "ssh-dss" {
		return "DSA keys (ssh-dss) are no longer accepted by OpenSSH; use an ssh-ed25519 key"
	}
	if !known {
		return fmt.Sprintf("%q is not an OpenSSH public key type (%s); %s", clip(f[0]), strings.Join(sshKeyTypes, ", "), want)
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || len(blob) < 4 {
		return fmt.Sprintf("the key data of this %s key is not valid base64", f[0])
	}
	n := binary.BigEndian.Uint32(blob)
	if uint64(n) > uint64(len(blob)-4) || string(blob[4:4+n]) != f[0] {
		return fmt.Sprintf("the key data does not hold a %s key; was the line cut or edited?", f[0])
	}
	return ""
}

// httpURLProblem checks an http(s) URL. A base URL (a mirror that paths
// are appended to) may have no query or fragment.
func httpURLProblem(s string, base bool) string {
	u, err := url.Parse(s)
	switch {
	case err == nil && strings.ContainsAny(s, " \t\r\n"), err != nil && strings.Contains(s, "://"):
		return fmt.Sprintf("%q is not a URL", s)
	case err != nil || u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q is not an http:// or https:// URL", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host", s)
	case base && (u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#")):
		return fmt.Sprintf("%q has a query or fragment; a mirror is a base URL that file paths are appended to", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q has an invalid port", s)
		}
	}
	return ""
}

// Container image references, after the grammar of
// github.com/distribution/reference (reference.go).
var (
	refPathComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	refTag           = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	refDigest        = regexp.MustCompile(`^[a-z0-9]+([+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$`)
	refDomain        = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?$`)
)

// registryProblem checks a registry with an optional repository prefix,
// such as registry.example:5000/k8s: what replaces the registry of every
// image reference.
func registryProblem(s string) string {
	if strings.Contains(s, "://") {
		return fmt.Sprintf("%q has a scheme; give the registry as HOST[:PORT][/PATH], e.g. registry.example:5000/k8s", s)
	}
	domain, path, _ := strings.Cut(strings.TrimRight(s, "/"), "/")
	if !refDomain.MatchString(domain) {
		return fmt.Sprintf("%q does not start with a registry host (HOST[:PORT][/PATH], e.g. registry.example:5000/k8s)", s)
	}
	if path != "" {
		for _, c := range strings.Split(path, "/") {
			if !refPathComponent.MatchString(c) {
				return fmt.Sprintf("%q has an invalid repository path component %q (lowercase letters, digits and . _ -)", s, c)
			}
		}
	}
	return ""
}

// registryCAProblem checks artifacts.imageRegistryCA: one or more PEM
// CERTIFICATE blocks, each a CA certificate, and nothing else.
func registryCAProblem(s string) string {
	rest := []byte(strings.TrimSpace(s))
	n := 0
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return "is not PEM: give the registry CA's certificate(s) as -----BEGIN CERTIFICATE----- blocks"
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Sprintf("holds a PEM %q block; only CERTIFICATE blocks belong here (never a key)", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return fmt.Sprintf("certificate %d: %v", n+1, err)
		}
		if !c.IsCA {
			return fmt.Sprintf("certificate %d (%s) is not a CA certificate: give the CA that signed the registry's certificate", n+1, c.Subject)
		}
		n++
		rest = []byte(strings.TrimSpace(string(rest)))
	}
	return ""
}

// imageProblem checks a full image reference: [HOST[:PORT]/]PATH[:TAG][@DIGEST].
func imageProblem(s string) string {
	bad := func(why string) string {
		return fmt.Sprintf("%q is not a container image reference (%s; e.g. registry.example/k8s/pause:3.10)", s, why)
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, " \t\r\n") {
		return bad("no scheme or whitespace allowed")
	}
	name, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest && !refDigest.MatchString(digest) {
		return bad("invalid digest")
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		if !refTag.MatchString(name[i+1:]) {
			return bad("invalid tag")
		}
		name = name[:i]
	}
	parts := strings.Split(name, "/")
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		if !refDomain.MatchString(parts[0]) {
			return bad("invalid registry host")
		}
		parts = parts[1:]
	}
	for _, c := range parts {
		if !refPathComponent.MatchString(c) {
			return bad("invalid repository name")
		}
	}
	return ""
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// overlayProblem checks a Butane overlay path. Whether the file exists is
// checked when it is read, not here.
func overlayProblem(s string) string {
	return localFileProblem(s, "overlay", "overlays are local Butane files", "a Butane file", ".bu")
}

// MaxAddons is how many add-on files an inventory may list: they are
// applied as 500-... to 999-... in name order.
const MaxAddons = 500

// addonProblem checks an add-on path: a local YAML file whose name can go
// into the hosts' shell loop unquoted.
func addonProblem(s string) string {
	if p := localFileProblem(s, "add-on", "add-ons are local manifest files", "a YAML manifest", ".yaml", ".yml"); p != "" {
		return p
	}
	if base := s[strings.LastIndex(s, "/")+1:]; strings.ContainsAny(base, " \t\"'$`\\") {
		return fmt.Sprintf("%q: the file name goes into a shell loop on the hosts; use letters, digits, '.', '-' and '_'", s)
	}
	return ""
}

// localFileProblem checks the path of a local file (what) that must end in
// one of exts, relative to hosts.yaml or absolute.
func localFileProblem(s, what, local, kind string, exts ...string) string {
	base := s[strings.LastIndex(s, "/")+1:]
	switch {
	case s == "":
		return what + " path is empty"
	case strings.Contains(s, "://"):
		return fmt.Sprintf("%q is a URL; %s, relative to hosts.yaml or absolute", s, local)
	case strings.ContainsAny(s, "\x00\r\n"):
		return fmt.Sprintf("%q is not a file path", s)
	case !slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(base, e) && base != e }):
		return fmt.Sprintf("%q does not name %s (expected a path ending in %s)", s, kind, strings.Join(exts, " or "))
	}
	return ""
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
