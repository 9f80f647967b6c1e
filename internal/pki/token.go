package pki

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
)

// TokenSecretName names the delivery token secret in events and errors.
const TokenSecretName = "delivery-token-secret"

// TokenSecretFile is the secret's path in the bundle directory.
var TokenSecretFile = filepath.Join("delivery", "token.secret")

// tokenSecretSize is 32 random bytes: the HMAC-SHA256 key every host's
// `kign serve` bearer token derives from (delivery.HostToken).
const tokenSecretSize = 32

// DeliveryTokenSecret returns the per-cluster secret the hosts' delivery
// tokens derive from; nil until Complete made or Load read one. Deleting
// its file and re-running kign gen revokes every token and pointer config.
func (b *Bundle) DeliveryTokenSecret() []byte { return b.tokenSecret }

// completeTokenSecret makes the secret once; it is never replaced.
func (b *Bundle) completeTokenSecret() (Event, error) {
	ev := Event{Spec: TokenSecretName}
	switch {
	case len(b.tokenSecret) == tokenSecretSize:
		ev.Action = ActionUsing
		return ev, nil
	case len(b.tokenSecret) != 0:
		return ev, fmt.Errorf("%s holds %d bytes, want %d: remove it to make a new one (this revokes every host token)", TokenSecretFile, len(b.tokenSecret), tokenSecretSize)
	}
	secret := make([]byte, tokenSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return ev, err
	}
	b.tokenSecret = secret
	ev.Action = ActionIssued
	return ev, nil
}
