package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"runtime"
	"sync"

	"github.com/cloudflare/cfssl/helpers"
)

// Key algorithms of pki.keyAlgorithm.
const (
	// RSA is RSA-2048, as the seed guide and kubeadm.
	RSA = "rsa"
	// ECDSA is ECDSA on P-256.
	ECDSA = "ecdsa"
)

// RSABits is the modulus size of RSA keys.
const RSABits = 2048

// GenerateKey makes one private key of algorithm alg (RSA or ECDSA).
func GenerateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case RSA, "":
		return rsa.GenerateKey(rand.Reader, RSABits)
	case ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("unknown key algorithm %q (want %s or %s)", alg, RSA, ECDSA)
	}
}

// parallel calls f(0..n-1) on at most workers goroutines (0: GOMAXPROCS) and waits.
func parallel(n, workers int, f func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > n {
		workers = n
	}
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	wg.Wait()
}

// keyAlgorithm names the algorithm of a public key the way pki.keyAlgorithm
// does, with the size when it is not the one kign makes: "rsa", "rsa-4096",
// "ecdsa", "ecdsa-P384", "ed25519".
func keyAlgorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() == RSABits {
			return RSA
		}
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return ECDSA
		}
		return "ecdsa-" + k.Curve.Params().Name
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// marshalKey encodes a private key the way kubeadm and cfssl write it:
// PKCS#1 for RSA, SEC 1 for ECDSA.
func marshalKey(k crypto.Signer) ([]byte, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	default:
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
}

// marshalPublic encodes a public key as PKIX "PUBLIC KEY" (sa.pub).
func marshalPublic(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// parseKey reads a PEM private key in any form cfssl accepts (PKCS#1, PKCS#8, SEC 1).
func parseKey(keyPEM []byte) (crypto.Signer, error) {
	return helpers.ParsePrivateKeyPEM(keyPEM)
}

// parseCert reads exactly one PEM certificate.
func parseCert(certPEM []byte) (*x509.Certificate, error) {
	return helpers.ParseCertificatePEM(certPEM)
}

// keyMatches reports whether priv is the private half of pub.
func keyMatches(priv crypto.Signer, pub crypto.PublicKey) bool {
	k, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

// parsePublic reads a PEM "PUBLIC KEY" (PKIX).
func parsePublic(pubPEM []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(pubPEM)
	if block == nil {
		return nil, fmt.Errorf("no PEM data")
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}
