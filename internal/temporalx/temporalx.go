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
	"go.temporal.io/sdk/contrib/envconfig"
	tlog "go.temporal.io/sdk/log"

	"github.com/connectingest/connect-ingest/internal/config"
)

// Options returns the client options for cfg, logging through log. They
// start from Temporal's standard client configuration, read by the SDK's
// own envconfig: the profile of TEMPORAL_CONFIG_FILE (or the default
// temporal.toml) named by TEMPORAL_PROFILE, then TEMPORAL_API_KEY,
// TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
// TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME,
// TEMPORAL_GRPC_META_* and the rest of that set, so the same programs reach
// a self-hosted cluster with mTLS or Temporal Cloud with an API key. Where
// neither sets the address or the namespace, cfg's (TEMPORAL_ADDRESS and
// TEMPORAL_NAMESPACE with their local defaults) apply.
func Options(cfg config.Config, log *slog.Logger) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration: %w", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = cfg.TemporalAddr
	}
	if opts.Namespace == "" {
		opts.Namespace = cfg.Namespace
	}
	opts.Logger = tlog.NewStructuredLogger(log)
	return opts, nil
}

// Dial connects to Temporal and checks that the frontend answers.
func Dial(ctx context.Context, cfg config.Config, log *slog.Logger) (client.Client, error) {
	opts, err := Options(cfg, log)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
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
