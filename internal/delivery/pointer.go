package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"

	t35 "github.com/coreos/ignition/v2/config/v3_5/types"

	"github.com/kign-project/kign/internal/osvariant"
)

// MaxUserData is AWS EC2's user-data limit, 16 KiB before base64
// (EC2 user guide, "Instance user data"); other clouds allow as much or more.
const MaxUserData = 16 << 10

// PointerName is the file name of a host's pointer config.
func PointerName(host string) string { return host + ".pointer.ign" }

// ConfigURL is where `kign serve` at base (the inventory's delivery.url)
// serves host's full config.
func ConfigURL(base, host string) string {
	return strings.TrimRight(base, "/") + "/ignition/" + url.PathEscape(host) + ".ign"
}

// HostToken is host's bearer token for `kign serve`: the hex HMAC-SHA256 of
// the host name under the cluster's delivery secret. Tokens are derived, not
// stored, so re-running kign gives the same tokens while the secret stays;
// rotating the secret revokes every token. The secret must be random (32
// bytes or more) and used for nothing else.
func HostToken(secret []byte, host string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(host))
	return hex.EncodeToString(m.Sum(nil))
}

// Pointer builds host's pointer config, for cloud user-data: a config that
// makes Ignition replace itself with the full config fetched from
// fullConfigURL over HTTPS, sending "Authorization: Bearer token",
// trusting caPEM (kign's CA, embedded as a data URL) for the server
// certificate, and accepting the fetched config only if its sha512 is that
// of fullConfig. The pattern is openshift-install's pointer configs
// (pkg/asset/ignition/machine/node.go), with a per-host header added.
//
// The config has the Ignition spec of the OS o, is validated with that
// spec's parser and is refused if it is not below MaxUserData.
//
// Ignition does not retry a 4xx answer: a wrong or reused token fails the
// boot at once, with "GET result: Forbidden" (or "Gone") in its log. It
// retries connection errors and 5xx for as long as the host waits.
func Pointer(o osvariant.OS, fullConfigURL string, fullConfig []byte, caPEM []byte, token string) ([]byte, error) {
	u, err := url.Parse(fullConfigURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("delivery: pointer: full config URL %q must be an https:// URL", fullConfigURL)
	}
	if len(fullConfig) == 0 {
		return nil, fmt.Errorf("delivery: pointer: empty full config")
	}
	if token == "" || strings.ContainsAny(token, "\r\n") {
		return nil, fmt.Errorf("delivery: pointer: the token must be one non-empty line")
	}
	if err := checkCAPEM(caPEM); err != nil {
		return nil, fmt.Errorf("delivery: pointer: %w", err)
	}
	sum := sha512.Sum512(fullConfig)
	hash := "sha512-" + hex.EncodeToString(sum[:])
	ca := "data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(caPEM)
	header, bearer := "Authorization", "Bearer "+token

	// The spec 3.5 types are a superset of 3.4's, and every field set here
	// exists in both: the config is written as the OS's spec and checked by
	// that spec's own parser.
	cfg := t35.Config{Ignition: t35.Ignition{
		Version: o.IgnitionSpec,
		Config: t35.IgnitionConfig{Replace: t35.Resource{
			Source:       &fullConfigURL,
			HTTPHeaders:  t35.HTTPHeaders{{Name: header, Value: &bearer}},
			Verification: t35.Verification{Hash: &hash},
		}},
		Security: t35.Security{TLS: t35.TLS{CertificateAuthorities: []t35.Resource{{Source: &ca}}}},
	}}
	out, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := o.Parse(out); err != nil {
		return nil, fmt.Errorf("delivery: pointer: %w", err)
	}
	out = append(out, '\n')
	if len(out) >= MaxUserData {
		return nil, fmt.Errorf("delivery: pointer config is %d bytes, AWS user-data allows less than %d: use a smaller CA bundle", len(out), MaxUserData)
	}
	return out, nil
}

// checkCAPEM accepts one or more PEM certificates and nothing else, as
// Ignition's parseCABundle does.
func checkCAPEM(caPEM []byte) error {
	rest := caPEM
	n := 0
	for len(strings.TrimSpace(string(rest))) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			return fmt.Errorf("CA bundle is not a list of PEM certificates")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("CA bundle: %w", err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("empty CA bundle")
	}
	return nil
}
