package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Agent is an Amazon Connect user of a tenant, kept in sync by the agent sync.
type Agent struct {
	TenantID string
	UserID   string
	Username string
	Active   bool
}

// Agents reads the synced agents.
type Agents struct {
	pool *pgxpool.Pool
}

// NewAgents returns an Agents over pool.
func NewAgents(pool *pgxpool.Pool) *Agents {
	return &Agents{pool: pool}
}

// Get returns the agent with this Connect user ID.
func (s *Agents) Get(ctx context.Context, tenantID, userID string) (Agent, error) {
	a := Agent{TenantID: tenantID, UserID: userID}
	err := s.pool.QueryRow(ctx, `SELECT username, active FROM agents WHERE tenant_id = $1 AND user_id = $2`,
		tenantID, userID).Scan(&a.Username, &a.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return Agent{}, fmt.Errorf("agent %s/%s: %w", tenantID, userID, ErrNotFound)
	}
	if err != nil {
		return Agent{}, fmt.Errorf("get agent %s/%s: %w", tenantID, userID, err)
	}
	return a, nil
}
