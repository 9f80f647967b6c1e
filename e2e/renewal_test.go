package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeletClientLink is where kubelet.conf points for the kubelet's client
// pair: a link, as the kubelet's certificate manager keeps it.
const kubeletClientLink = "/var/lib/kubelet/pki/kubelet-client-current.pem"

// assertKubeletRenewal makes, with the first host's kubelet credential
// (through the link kubelet.conf names), the CSR the kubelet's
// certificate manager makes to renew it, and checks that the
// controller-manager approves and signs it by itself: the renewal path
// works with kign's RBAC and signing keys, without waiting the 70-90% of
// the certificate's life after which the kubelet's manager renews it.
func (r *run) assertKubeletRenewal(ctx context.Context) error {
	h := r.hosts[0]
	link := filepath.Join(h.root, kubeletClientLink)
	target, err := os.Readlink(link)
	if err != nil {
		return fmt.Errorf("host %s: %s: %w (the kubelet's certificate manager needs a link there)", h.name, kubeletClientLink, err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(kubeletClientLink), target)
	}
	pair, err := os.ReadFile(filepath.Join(h.root, target))
	if err != nil {
		return err
	}
	kc, err := clientcmd.LoadFromFile(filepath.Join(r.out, "admin.kubeconfig"))
	if err != nil {
		return err
	}
	var caPEM []byte
	for _, c := range kc.Clusters {
		caPEM = c.CertificateAuthorityData
	}
	cfg := &rest.Config{Host: r.admin.host, Dial: dialerIn(nsPath(r.net.hub)), Timeout: 10 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{CertData: pair, KeyData: pair, CAData: caPEM}}
	node, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:" + h.name, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		return err
	}
	csr := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "kign-e2e-renewal-"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		},
	}
	made, err := node.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("host %s: the kubelet's credential may not create its renewal CSR: %w", h.name, err)
	}
	defer r.admin.cs.CertificatesV1().CertificateSigningRequests().Delete(context.WithoutCancel(ctx), made.Name, metav1.DeleteOptions{})
	t0 := time.Now()
	for {
		got, err := node.CertificatesV1().CertificateSigningRequests().Get(ctx, made.Name, metav1.GetOptions{})
		if err == nil && len(got.Status.Certificate) > 0 {
			block, _ := pem.Decode(got.Status.Certificate)
			if block == nil {
				return fmt.Errorf("CSR %s: certificate is not PEM", made.Name)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return err
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: r.ca, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				return fmt.Errorf("CSR %s: renewed certificate: %w", made.Name, err)
			}
			if cert.Subject.CommonName != "system:node:"+h.name {
				return fmt.Errorf("CSR %s: renewed certificate for %s", made.Name, cert.Subject)
			}
			r.logf("check: %s's kubelet credential (the link %s) renewed itself: its CSR was approved and signed by the cluster CA in %.1f s, valid until %s", h.name, kubeletClientLink, time.Since(t0).Seconds(), cert.NotAfter.UTC().Format(time.DateOnly))
			return nil
		}
		if time.Since(t0) > 60*time.Second {
			return fmt.Errorf("host %s: the kubelet's renewal CSR %s is not approved and signed after 60 s (%v): %+v", h.name, made.Name, err, got.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
