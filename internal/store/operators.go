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
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/tenant"
)

// Role is one kind of act an operator may take through the admin API.
// Every role implies read.
type Role string

// The roles. They are separate so that the people who keep calls moving
// cannot erase them, and reading a CTR's raw bytes (phone numbers,
// attributes) is granted on its own.
const (
	// RoleRead lists and shows calls: metadata only.
	RoleRead Role = "read"
	// RoleOperate retries and cancels calls.
	RoleOperate Role = "operate"
	// RoleErase erases calls.
	RoleErase Role = "erase"
	// RoleRaw reads the raw bytes of quarantined records and dead letters.
	RoleRaw Role = "raw"
)

// Roles lists every role.
func Roles() []Role { return []Role{RoleRead, RoleOperate, RoleErase, RoleRaw} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// BootstrapOperator is the name WORKER_ADMIN_TOKEN acts under in the audit
// log; no operator can be created under it.
const BootstrapOperator = "bootstrap"

// Operator is a named holder of an admin token.
type Operator struct {
	Name  string
	Roles []Role
	// Tenants limits the operator to these tenants' calls; empty means
	// every tenant.
	Tenants   []string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Can reports whether the operator holds role; every role implies read.
func (o Operator) Can(role Role) bool {
	return role == RoleRead && len(o.Roles) > 0 || slices.Contains(o.Roles, role)
}

// Covers reports whether the operator may act on tenantID's calls.
func (o Operator) Covers(tenantID string) bool {
	return len(o.Tenants) == 0 || slices.Contains(o.Tenants, tenantID)
}

// Scoped reports whether the operator is limited to some tenants.
func (o Operator) Scoped() bool { return len(o.Tenants) > 0 }

// ErrInvalidOperator wraps the errors of a malformed operator name or role.
var ErrInvalidOperator = errors.New("invalid operator")

// operatorName is what an operator may be called: it appears in the audit
// log and in logs.
var operatorName = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// maxOperatorTenants bounds the tenants one operator is limited to.
const maxOperatorTenants = 100

// NewOperator is an operator to create.
type NewOperator struct {
	Name    string
	Roles   []Role
	Tenants []string
}

// Validate names what is wrong with the operator to create.
func (n NewOperator) Validate() error {
	switch {
	case !operatorName.MatchString(n.Name):
		return fmt.Errorf("%w: name %.80q: want 1-64 of a-z 0-9 . _ @ -, starting with a letter or digit", ErrInvalidOperator, n.Name)
	case n.Name == BootstrapOperator:
		return fmt.Errorf("%w: %q is the bootstrap token's name", ErrInvalidOperator, n.Name)
	case len(n.Roles) == 0:
		return fmt.Errorf("%w: give at least one role (%s)", ErrInvalidOperator, roleList())
	case len(n.Tenants) > maxOperatorTenants:
		return fmt.Errorf("%w: at most %d tenants", ErrInvalidOperator, maxOperatorTenants)
	}
	for _, r := range n.Roles {
		if !r.Valid() {
			return fmt.Errorf("%w: role %.40q: want %s", ErrInvalidOperator, r, roleList())
		}
	}
	for _, t := range n.Tenants {
		if !tenant.ValidID(t) {
			return fmt.Errorf("%w: %.80q is not a tenant ID", ErrInvalidOperator, t)
		}
	}
	return nil
}

func roleList() string {
	names := make([]string, 0, len(Roles()))
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

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
func (s *Operators) Create(ctx context.Context, n NewOperator) (string, error) {
	if err := n.Validate(); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a token: %w", err)
	}
	token := "cio_" + base64.RawURLEncoding.EncodeToString(b)
	roles := slices.Compact(slices.Sorted(slices.Values(n.Roles)))
	tenants := slices.Compact(slices.Sorted(slices.Values(n.Tenants)))
	// The column role is what the previous release reads.
	legacy := RoleRead
	if slices.Contains(roles, RoleOperate) {
		legacy = RoleOperate
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO operators (name, role, roles, tenants, token_sha256) VALUES ($1, $2, $3, $4, $5)`,
		n.Name, legacy, roles, nonNilStrings(tenants), tokenHash(token))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return "", fmt.Errorf("operator %s: %w", n.Name, ErrExists)
	}
	if err != nil {
		return "", fmt.Errorf("create operator %s: %w", n.Name, err)
	}
	return token, nil
}

// Verify returns the operator whose token this is; ErrNotFound for an
// unknown or revoked token.
func (s *Operators) Verify(ctx context.Context, token string) (Operator, error) {
	rows, err := s.pool.Query(ctx, selectOperators+` WHERE token_sha256 = $1 AND revoked_at IS NULL`, tokenHash(token))
	if err != nil {
		return Operator{}, fmt.Errorf("verify an operator token: %w", err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOperator)
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
	rows, err := s.pool.Query(ctx, selectOperators+` ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	ops, err := pgx.CollectRows(rows, scanOperator)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	return ops, nil
}

const selectOperators = `SELECT name, roles, tenants, created_at, revoked_at FROM operators`

func scanOperator(row pgx.CollectableRow) (Operator, error) {
	var o Operator
	var roles []string
	err := row.Scan(&o.Name, &roles, &o.Tenants, &o.CreatedAt, &o.RevokedAt)
	for _, r := range roles {
		o.Roles = append(o.Roles, Role(r))
	}
	return o, err
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
