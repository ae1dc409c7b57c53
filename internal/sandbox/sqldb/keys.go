package sqldb

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// sandboxNamespace roots the deterministic GUIDs the stores derive.
var sandboxNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/seed-1be1de96/terraform-provider-outsystems/sandbox"))

// DerivedKey returns a stable GUID for the given name parts.
func DerivedKey(parts ...string) string {
	return uuid.NewSHA1(sandboxNamespace, []byte(strings.Join(parts, "/"))).String()
}

// HashOf returns a stable hex digest, used for the hashes LifeTime exposes.
func HashOf(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:])
}
