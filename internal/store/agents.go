package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/ctr"
)

// Agent is an Amazon Connect user of a tenant, kept in sync by the agent
// sync. Agents are never deleted: a leaver becomes inactive, because old
// conversations reference it.
type Agent struct {
	TenantID           string            `json:"tenantId"`
	UserID             string            `json:"userId"`
	Username           string            `json:"username"`
	FirstName          string            `json:"firstName"`
	LastName           string            `json:"lastName"`
	Email              string            `json:"email"`
	RoutingProfileID   string            `json:"routingProfileId"`
	SecurityProfileIDs []string          `json:"securityProfileIds"`
	HierarchyGroupID   string            `json:"hierarchyGroupId"`
	Tags               map[string]string `json:"tags"`
	LastModified       *time.Time        `json:"lastModified"`
	SyncedAt           *time.Time        `json:"syncedAt"`
	Active             bool              `json:"active"`
	// LastLoginAt, LastLogoutAt and the status are what the agent events
	// on the tenant's stream last said; empty without agent events.
	LastLoginAt  *time.Time `json:"lastLoginAt"`
	LastLogoutAt *time.Time `json:"lastLogoutAt"`
	Status       string     `json:"status"`
	StatusType   string     `json:"statusType"`
	StatusAt     *time.Time `json:"statusAt"`
	// SeenSync is the agent sync that last saw the user.
	SeenSync string `json:"-"`
	// EmailUnknown marks a user read without an e-mail address (from
	// SearchUsers, whose summaries carry none): Upsert keeps the address
	// stored, as it does a LastModified it is not given.
	EmailUnknown bool `json:"-"`
}

// Agents reads and writes the synced agents.
type Agents struct {
	pool *pgxpool.Pool
}

// NewAgents returns an Agents over pool.
func NewAgents(pool *pgxpool.Pool) *Agents {
	return &Agents{pool: pool}
}

// Upsert stores a user as an active agent, keyed by tenant and Connect user
// ID, and stamps when it was synced.
func (s *Agents) Upsert(ctx context.Context, a Agent) error {
	tags, err := json.Marshal(nonNil(a.Tags))
	if err != nil {
		return fmt.Errorf("encode tags of agent %s: %w", a.UserID, err)
	}
	profiles := a.SecurityProfileIDs
	if profiles == nil {
		profiles = []string{}
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO agents (tenant_id, user_id, username, first_name, last_name, email, routing_profile_id,
			security_profile_ids, hierarchy_group_id, tags, last_modified, synced_at, active, last_seen_sync)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), true, $12)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET
			username = EXCLUDED.username, first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
			email = CASE WHEN $13 THEN agents.email ELSE EXCLUDED.email END, routing_profile_id = EXCLUDED.routing_profile_id,
			security_profile_ids = EXCLUDED.security_profile_ids, hierarchy_group_id = EXCLUDED.hierarchy_group_id,
			tags = EXCLUDED.tags, last_modified = coalesce(EXCLUDED.last_modified, agents.last_modified), synced_at = now(),
			active = true, last_seen_sync = EXCLUDED.last_seen_sync, updated_at = now()`,
		a.TenantID, a.UserID, a.Username, a.FirstName, a.LastName, a.Email, a.RoutingProfileID,
		profiles, a.HierarchyGroupID, tags, a.LastModified, a.SeenSync, a.EmailUnknown)
	if err != nil {
		return fmt.Errorf("upsert agent %s/%s: %w", a.TenantID, a.UserID, err)
	}
	return nil
}

// Known returns those of userIDs that are active agents of the tenant, by
// user ID, with the LastModifiedTime last synced: a user whose time is
// unchanged needs no DescribeUser call. The sync asks page by page, so one
// query reads one page's agents, never the whole tenant.
func (s *Agents) Known(ctx context.Context, tenantID string, userIDs []string) (map[string]Agent, error) {
	list, err := s.query(ctx, `WHERE tenant_id = $1 AND active AND last_modified IS NOT NULL AND user_id = ANY($2)`, tenantID, userIDs)
	if err != nil {
		return nil, err
	}
	known := make(map[string]Agent, len(list))
	for _, a := range list {
		known[a.UserID] = a
	}
	return known, nil
}

// MarkSeen records that sync saw these unchanged users.
func (s *Agents) MarkSeen(ctx context.Context, tenantID, sync string, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE agents SET last_seen_sync = $3, synced_at = now()
		WHERE tenant_id = $1 AND user_id = ANY($2)`, tenantID, userIDs, sync)
	if err != nil {
		return fmt.Errorf("mark agents of %s seen: %w", tenantID, err)
	}
	return nil
}

// DeactivateUnseen marks inactive every active agent of the tenant that sync
// did not see: users gone from Connect or no longer matching the tenant's
// filter. Agents are never deleted. It returns how many it deactivated.
func (s *Agents) DeactivateUnseen(ctx context.Context, tenantID, sync string) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE agents SET active = false, updated_at = now()
		WHERE tenant_id = $1 AND active AND last_seen_sync <> $2`, tenantID, sync)
	if err != nil {
		return 0, fmt.Errorf("deactivate agents of %s: %w", tenantID, err)
	}
	return int(tag.RowsAffected()), nil
}

// List returns the tenant's agents, active and inactive, by username.
func (s *Agents) List(ctx context.Context, tenantID string) ([]Agent, error) {
	return s.query(ctx, `WHERE tenant_id = $1 ORDER BY username, user_id`, tenantID)
}

func (s *Agents) query(ctx context.Context, where string, args ...any) ([]Agent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT tenant_id, user_id, username, first_name, last_name, email, routing_profile_id, security_profile_ids,
			hierarchy_group_id, tags, last_modified, synced_at, active, last_login_at, last_logout_at, status, status_type, status_at
		FROM agents `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query agents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Agent, error) {
		var a Agent
		var tags []byte
		if err := row.Scan(&a.TenantID, &a.UserID, &a.Username, &a.FirstName, &a.LastName, &a.Email, &a.RoutingProfileID,
			&a.SecurityProfileIDs, &a.HierarchyGroupID, &tags, &a.LastModified, &a.SyncedAt, &a.Active,
			&a.LastLoginAt, &a.LastLogoutAt, &a.Status, &a.StatusType, &a.StatusAt); err != nil {
			return Agent{}, err
		}
		return a, json.Unmarshal(tags, &a.Tags)
	})
	if err != nil {
		return nil, fmt.Errorf("query agents: %w", err)
	}
	return out, nil
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

// RecordEvents keeps, for each synced agent, the latest login, logout and
// status the events tell, in one statement: an event older than what is
// stored changes nothing, so a redelivered or reordered batch is harmless.
// Events of users the sync has not stored are dropped.
func (s *Agents) RecordEvents(ctx context.Context, tenantID string, events []ctr.AgentEvent) error {
	type latest struct {
		login, logout, statusAt *time.Time
		status, statusType      string
	}
	byUser := map[string]*latest{}
	for _, ev := range events {
		l := byUser[ev.UserID]
		if l == nil {
			l = &latest{}
			byUser[ev.UserID] = l
		}
		at := ev.Timestamp
		switch {
		case ev.EventType == ctr.AgentLogin && (l.login == nil || at.After(*l.login)):
			l.login = &at
		case ev.EventType == ctr.AgentLogout && (l.logout == nil || at.After(*l.logout)):
			l.logout = &at
		}
		if ev.Status != "" && (l.statusAt == nil || at.After(*l.statusAt)) {
			l.statusAt, l.status, l.statusType = &at, ev.Status, ev.StatusType
		}
	}
	var users, statuses, types []string
	var logins, logouts, statusAts []*time.Time
	for user, l := range byUser {
		users, logins, logouts = append(users, user), append(logins, l.login), append(logouts, l.logout)
		statuses, types, statusAts = append(statuses, l.status), append(types, l.statusType), append(statusAts, l.statusAt)
	}
	_, err := s.pool.Exec(ctx, `
		UPDATE agents a SET
			last_login_at = GREATEST(a.last_login_at, u.login_at),
			last_logout_at = GREATEST(a.last_logout_at, u.logout_at),
			status = CASE WHEN u.status_at > a.status_at OR a.status_at IS NULL AND u.status_at IS NOT NULL THEN u.status ELSE a.status END,
			status_type = CASE WHEN u.status_at > a.status_at OR a.status_at IS NULL AND u.status_at IS NOT NULL THEN u.status_type ELSE a.status_type END,
			status_at = GREATEST(a.status_at, u.status_at)
		FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::timestamptz[])
			AS u(user_id, login_at, logout_at, status, status_type, status_at)
		WHERE a.tenant_id = $1 AND a.user_id = u.user_id`,
		tenantID, users, logins, logouts, statuses, types, statusAts)
	if err != nil {
		return fmt.Errorf("record agent events of %s: %w", tenantID, err)
	}
	return nil
}
