package render

import (
	"encoding/pem"
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Kubeconfig returns a kubeconfig with one cluster, one user and one
// context "<user>@<cluster>" (kubeadm's naming), with the CA, certificate
// and key embedded so the file stands alone. clientcmd.Write converts the
// maps to lists sorted by name, so the output is deterministic.
func Kubeconfig(cluster, server string, caPEM []byte, user string, certPEM, keyPEM []byte) ([]byte, error) {
	for _, b := range []struct {
		what  string
		data  []byte
		types []string
	}{
		{"CA certificate", caPEM, []string{"CERTIFICATE"}},
		{"client certificate", certPEM, []string{"CERTIFICATE"}},
		{"client key", keyPEM, []string{"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}},
	} {
		if err := checkPEM(b.data, b.types); err != nil {
			return nil, fmt.Errorf("kubeconfig for %q: %s: %w", user, b.what, err)
		}
	}
	return writeKubeconfig(cluster, server, caPEM, user, &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}, nil)
}

// KubeconfigFiles is Kubeconfig with the client certificate and key read
// from files (certPath, keyPath may be the same file): the kubelet's, whose
// certificate manager rotates the file under it.
func KubeconfigFiles(cluster, server string, caPEM []byte, user, certPath, keyPath string) ([]byte, error) {
	if err := checkPEM(caPEM, []string{"CERTIFICATE"}); err != nil {
		return nil, fmt.Errorf("kubeconfig for %q: CA certificate: %w", user, err)
	}
	if certPath == "" || keyPath == "" {
		return nil, fmt.Errorf("kubeconfig for %q: empty certificate or key path", user)
	}
	// The files are on the host, not here: everything but them is validated.
	return writeKubeconfig(cluster, server, caPEM, user, &clientcmdapi.AuthInfo{ClientCertificate: certPath, ClientKey: keyPath}, &clientcmdapi.AuthInfo{})
}

// writeKubeconfig builds the one-cluster, one-user kubeconfig, validates it with
// clientcmd (with checked in place of auth, when set) and writes it.
func writeKubeconfig(cluster, server string, caPEM []byte, user string, auth, checked *clientcmdapi.AuthInfo) ([]byte, error) {
	for _, f := range []struct{ what, val string }{{"cluster", cluster}, {"server", server}, {"user", user}} {
		if f.val == "" {
			return nil, fmt.Errorf("kubeconfig: empty %s", f.what)
		}
	}
	context := user + "@" + cluster
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{cluster: {Server: server, CertificateAuthorityData: caPEM}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{user: auth},
		Contexts:       map[string]*clientcmdapi.Context{context: {Cluster: cluster, AuthInfo: user}},
		CurrentContext: context,
	}
	check := cfg
	if checked != nil {
		check.AuthInfos = map[string]*clientcmdapi.AuthInfo{user: checked}
	}
	if err := clientcmd.Validate(check); err != nil {
		return nil, fmt.Errorf("kubeconfig for %q: %w", user, err)
	}
	return clientcmd.Write(cfg)
}

// checkPEM reports whether data starts with a PEM block of one of types.
func checkPEM(data []byte, types []string) error {
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("not PEM")
	}
	for _, t := range types {
		if block.Type == t {
			return nil
		}
	}
	return fmt.Errorf("PEM block %q, want %v", block.Type, types)
}
