package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Role is what an operator may do through the admin API.
type Role string

// The roles: read lists and shows calls; operate also retries and cancels.
const (
	RoleRead    Role = "read"
	RoleOperate Role = "operate"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleRead || r == RoleOperate }

// Operator is a named holder of an admin token.
type Operator struct {
	Name      string
	Role      Role
	CreatedAt time.Time
	RevokedAt *time.Time
}

// ErrInvalidOperator wraps the errors of a malformed operator name or role.
var ErrInvalidOperator = errors.New("invalid operator")

// operatorName is what an operator may be called: it appears in the audit
// log and in logs.
var operatorName = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// Operators stores operators and their hashed tokens.
type Operators struct {
	pool *pgxpool.Pool
}

// NewOperators returns Operators over pool.
func NewOperators(pool *pgxpool.Pool) *Operators {
	return &Operators{pool: pool}
}

// Create adds an operator and returns its token, which is shown this once:
// only its SHA-256 is stored.
func (s *Operators) Create(ctx context.Context, name string, role Role) (string, error) {
	if !operatorName.MatchString(name) {
		return "", fmt.Errorf("%w: name %.80q: want 1-64 of a-z 0-9 . _ @ -, starting with a letter or digit", ErrInvalidOperator, name)
	}
	if !role.Valid() {
		return "", fmt.Errorf("%w: role %.40q: want read or operate", ErrInvalidOperator, role)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a token: %w", err)
	}
	token := "cio_" + base64.RawURLEncoding.EncodeToString(b)
	_, err := s.pool.Exec(ctx, `INSERT INTO operators (name, role, token_sha256) VALUES ($1, $2, $3)`, name, role, tokenHash(token))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return "", fmt.Errorf("operator %s: %w", name, ErrExists)
	}
	if err != nil {
		return "", fmt.Errorf("create operator %s: %w", name, err)
	}
	return token, nil
}

// Verify returns the operator whose token this is; ErrNotFound for an
// unknown or revoked token.
func (s *Operators) Verify(ctx context.Context, token string) (Operator, error) {
	var o Operator
	err := s.pool.QueryRow(ctx, `SELECT name, role, created_at FROM operators WHERE token_sha256 = $1 AND revoked_at IS NULL`,
		tokenHash(token)).Scan(&o.Name, &o.Role, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Operator{}, ErrNotFound
	}
	if err != nil {
		return Operator{}, fmt.Errorf("verify an operator token: %w", err)
	}
	return o, nil
}

// Revoke refuses the operator's token from now on.
func (s *Operators) Revoke(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE operators SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`, name)
	if err != nil {
		return fmt.Errorf("revoke operator %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("operator %s (or not revoked yet): %w", name, ErrNotFound)
	}
	return nil
}

// List returns every operator, revoked ones included, by name.
func (s *Operators) List(ctx context.Context) ([]Operator, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, role, created_at, revoked_at FROM operators ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	ops, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Operator, error) {
		var o Operator
		err := row.Scan(&o.Name, &o.Role, &o.CreatedAt, &o.RevokedAt)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	return ops, nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
