package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsDataError reports whether Postgres refused err's statement for its data
// (an invalid value, an out-of-range number, a constraint violation, a
// value too large to index): an error retrying cannot fix.
func IsDataError(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || len(pg.Code) < 2 {
		return false
	}
	switch pg.Code[:2] {
	case "22", // data exception: invalid text, NUL in text or jsonb, numeric out of range
		"23", // integrity constraint violation
		"54": // program limit exceeded: a row or index entry too large
		return true
	}
	return false
}

// ErrErased is returned for a write refused because its contact has a
// tombstone: the contact was erased, or its erasure has begun.
var ErrErased = errors.New("contact erased")

// erasedCode is the SQLSTATE with which Postgres refuses a write of an
// erased contact (migration 00015's refuse_erased trigger).
const erasedCode = "CI409"

// IsErased reports whether err is a write refused because its contact was
// erased, by the store's own check or by Postgres's.
func IsErased(err error) bool {
	var pg *pgconn.PgError
	return errors.Is(err, ErrErased) || errors.As(err, &pg) && pg.Code == erasedCode
}
