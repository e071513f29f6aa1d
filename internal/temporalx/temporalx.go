// Package temporalx connects to Temporal the same way in every program and
// registers the namespace's custom search attributes.
package temporalx

import (
	"context"
	"fmt"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/connectingest/connect-ingest/internal/config"
)

// Options returns the client options for cfg, logging through log.
func Options(cfg config.Config, log *slog.Logger) client.Options {
	return client.Options{
		HostPort:  cfg.TemporalAddr,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(log),
	}
}

// Dial connects to Temporal and checks that the frontend answers.
func Dial(ctx context.Context, cfg config.Config, log *slog.Logger) (client.Client, error) {
	c, err := client.DialContext(ctx, Options(cfg, log))
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddr, err)
	}
	return c, nil
}

// EnsureSearchAttributes registers every attribute in want that the namespace
// lacks. Existing attributes are left alone, so it is safe to run again.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enumspb.IndexedValueType) (added []string, err error) {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		if !ok {
			missing[name] = typ
			continue
		}
		if got != typ {
			return nil, fmt.Errorf("search attribute %s is %s, want %s", name, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return nil, fmt.Errorf("add search attributes: %w", err)
	}
	for name := range missing {
		added = append(added, name)
	}
	return added, nil
}
