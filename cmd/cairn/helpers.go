package main

import (
	"log/slog"
	"slices"

	"github.com/cairn-fit/cairn"
)

// slogWarn keeps the administrative commands quiet (their output is JSON
// on stdout) unless a lower level was asked for.
func slogWarn(c Config) slog.Level { return max(c.LogLevel, slog.LevelWarn) }

func contains(xs []cairn.Scope, x cairn.Scope) bool { return slices.Contains(xs, x) }

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
