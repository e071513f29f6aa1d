// Package logging builds the structured logger every program uses.
package logging

import (
	"io"
	"log/slog"
)

// New returns a JSON slog logger at level ("debug", "info", "warn" or
// "error"; config.Load has already validated it).
func New(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	// UnmarshalText accepts exactly the levels config allows.
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
