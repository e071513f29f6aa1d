package config_test

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/connectingest/connect-ingest/internal/config"
)

// TestREADMETable holds the README's configuration table to the variables
// Load reads: same names, same order, same defaults.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\| `([^`]*)` \\| (.+) \\|$")
	rows := row.FindAllStringSubmatch(string(readme), -1)
	vars := config.Vars()
	if len(rows) != len(vars) {
		t.Fatalf("README lists %d variables, config declares %d", len(rows), len(vars))
	}
	for i, v := range vars {
		if rows[i][1] != v.Name || rows[i][2] != v.Default {
			t.Errorf("README row %d is %s=%q, config declares %s=%q", i, rows[i][1], rows[i][2], v.Name, v.Default)
		}
	}
}

type compose struct {
	Services map[string]struct {
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Expose      []string          `yaml:"expose"`
	} `yaml:"services"`
}

// TestDockerCompose checks that docker-compose.yml deploys the services the
// system needs, sets only variables that config declares, and publishes or
// exposes the ports the programs listen on; the worker publishes none to
// the host, so that it scales (docker compose up --scale worker=N).
func TestDockerCompose(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("parse docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "rabbitmq", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui",
		"minio", "setup", "gateway", "worker", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("docker-compose.yml has no %s service", name)
		}
	}
	declared := map[string]string{}
	for _, v := range config.Vars() {
		declared[v.Name] = v.Default
	}
	for _, svc := range []string{"gateway", "worker", "setup"} {
		for name := range c.Services[svc].Environment {
			if _, ok := declared[name]; !ok {
				t.Errorf("%s sets %s, which config does not declare", svc, name)
			}
		}
	}
	if ports := c.Services["worker"].Ports; len(ports) > 0 {
		t.Errorf("the worker publishes %v to the host: a second worker (--scale worker=2) could not start", ports)
	}
	listeners := map[string][]string{
		"gateway": {"GATEWAY_LISTEN_ADDR", "GATEWAY_ADMIN_ADDR"},
		"worker":  {"WORKER_HEALTH_ADDR"},
	}
	for svc, vars := range listeners {
		published := map[string]bool{}
		for _, p := range append(c.Services[svc].Ports, c.Services[svc].Expose...) {
			parts := strings.Split(p, ":")
			published[parts[len(parts)-1]] = true
		}
		for _, v := range vars {
			addr, ok := c.Services[svc].Environment[v]
			if !ok {
				addr = declared[v]
			}
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("%s %s=%q: %v", svc, v, addr, err)
			}
			if !published[port] {
				t.Errorf("%s listens on %s (%s) but neither publishes nor exposes that port", svc, port, v)
			}
			if strings.HasPrefix(addr, "127.0.0.1") {
				t.Errorf("%s %s=%s binds loopback inside its container: unreachable through the published port", svc, v, addr)
			}
		}
	}
}
