// Package accesskey makes and checks the Firehose access keys that identify a
// tenant. Only a key's SHA-256 hash is ever stored.
package accesskey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// MinLength is the shortest key accepted from an operator. Generated keys are
// longer (43 characters, 256 random bits).
const MinLength = 24

// MaxLength is Firehose's own limit on the access key header.
const MaxLength = 4096

// Generate returns a new random key.
func Generate() string {
	b := make([]byte, 32)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Validate reports whether key is acceptable as an operator-chosen key.
func Validate(key string) error {
	if len(key) < MinLength || len(key) > MaxLength {
		return fmt.Errorf("access key must be %d to %d characters, got %d", MinLength, MaxLength, len(key))
	}
	return nil
}

// Hash returns the SHA-256 hash under which key is stored.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// ID returns the public identifier of a key: the first 12 hex digits of its
// hash. It names a key in listings and revocations without revealing it.
func ID(hash []byte) string {
	return hex.EncodeToString(hash)[:12]
}
