package pki

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"

	"sigs.k8s.io/yaml"
)

// EncryptionKeysName names the encryption keys in events and errors.
const EncryptionKeysName = "encryption-keys"

// EncryptionKeysFile is where the bundle keeps the keys kube-apiserver
// encrypts Secrets in etcd with (render.EncryptionConfig).
var EncryptionKeysFile = filepath.Join("encryption", "keys.yaml")

// encryptionKeySize is secretbox's key: 32 bytes (XSalsa20-Poly1305).
const encryptionKeySize = 32

// EncryptionKey is one secretbox key: Name as EncryptionConfiguration lists
// it, Secret the base64 of 32 random bytes.
type EncryptionKey struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// encryptionKeys is the file's schema. The first key encrypts every write;
// every key decrypts. kign makes the file once and never changes it: a
// rotation is an edit by the operator (README "Encryption at rest").
type encryptionKeys struct {
	Keys []EncryptionKey `json:"keys"`
}

const encryptionKeysHeader = `# kign: the keys kube-apiserver encrypts Secrets in etcd with (secretbox).
# The first key encrypts every write; every listed key decrypts. kign made
# this file once and never changes it; to rotate, follow README.md
# "Encryption at rest". Losing it loses every Secret stored in etcd.
`

var keyName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,62})$`)

// EncryptionKeys returns the keys in order (the first encrypts); nil until
// Complete made them or Load read them.
func (b *Bundle) EncryptionKeys() []EncryptionKey { return b.encKeys }

// parseEncryptionKeys reads the keys file strictly: known fields only, at
// least one key, unique names the apiserver accepts, 32-byte secrets.
func parseEncryptionKeys(path string, data []byte) ([]EncryptionKey, error) {
	var f encryptionKeys
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Keys) == 0 {
		return nil, fmt.Errorf("%s: keys: lists no key; the first key encrypts Secrets", path)
	}
	seen := map[string]bool{}
	for i, k := range f.Keys {
		if !keyName.MatchString(k.Name) {
			return nil, fmt.Errorf("%s: keys[%d].name %q: want lower-case letters, digits and '-', at most 63", path, i, k.Name)
		}
		if seen[k.Name] {
			return nil, fmt.Errorf("%s: keys[%d].name %q: listed twice", path, i, k.Name)
		}
		seen[k.Name] = true
		raw, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil || len(raw) != encryptionKeySize {
			return nil, fmt.Errorf("%s: keys[%d] (%s).secret: want the base64 of %d bytes (head -c %d /dev/urandom | base64)", path, i, k.Name, encryptionKeySize, encryptionKeySize)
		}
	}
	return f.Keys, nil
}

func marshalEncryptionKeys(keys []EncryptionKey) ([]byte, error) {
	body, err := yaml.Marshal(encryptionKeys{Keys: keys})
	if err != nil {
		return nil, err
	}
	return append([]byte(encryptionKeysHeader), body...), nil
}

// completeEncryptionKeys makes the first key once; existing keys are kept
// as they are.
func (b *Bundle) completeEncryptionKeys() (Event, error) {
	ev := Event{Spec: EncryptionKeysName}
	if len(b.encKeys) > 0 {
		ev.Action = ActionUsing
		return ev, nil
	}
	secret := make([]byte, encryptionKeySize)
	if _, err := rand.Read(secret); err != nil {
		return ev, err
	}
	b.encKeys = []EncryptionKey{{Name: "key1", Secret: base64.StdEncoding.EncodeToString(secret)}}
	data, err := marshalEncryptionKeys(b.encKeys)
	if err != nil {
		return ev, err
	}
	b.encKeysFile = data
	ev.Action = ActionIssued
	return ev, nil
}

// encryptionKeysToSave returns the file to write, nil when the disk has it.
func (b *Bundle) encryptionKeysToSave(dir string) ([]byte, error) {
	if b.encKeysFile == nil || bytes.Equal(b.encKeysFile, b.onDiskEncKeysFile) {
		return nil, nil
	}
	if b.onDiskEncKeysFile != nil {
		return nil, fmt.Errorf("%s: refusing to replace the encryption keys", filepath.Join(dir, EncryptionKeysFile))
	}
	return b.encKeysFile, nil
}
