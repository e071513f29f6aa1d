package conversation

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// CTRRef names one stored CTR version: the claim check that travels through
// Temporal in place of the CTR.
type CTRRef struct {
	TenantID  string
	ContactID string
	// LastUpdateTimestamp is the version, to the microsecond Postgres keeps.
	LastUpdateTimestamp time.Time
	// SHA256 is the hex SHA-256 of the stored bytes.
	SHA256 string
}

// NewCTRRef returns the reference of a CTR version with content raw. The
// timestamp is cut to the microsecond, as Postgres stores it, so that the
// reference finds its row.
func NewCTRRef(tenantID, contactID string, lastUpdate time.Time, raw []byte) CTRRef {
	h := sha256.Sum256(raw)
	return CTRRef{TenantID: tenantID, ContactID: contactID, LastUpdateTimestamp: lastUpdate.UTC().Truncate(time.Microsecond),
		SHA256: hex.EncodeToString(h[:])}
}
