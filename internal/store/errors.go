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
