package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Config is every setting of cairn, parsed once from flags, CAIRN_*
// environment variables and, for secrets, CAIRN_*_FILE files; flags win
// over variables, variables over defaults.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	BlobURL         string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
}

// secretFlags may also be given as a file (CAIRN_X_FILE), for container
// secrets.
var secretFlags = map[string]bool{"database-url": true, "blob-url": true}

// storageFlags registers the settings every command that touches data takes.
func (c *Config) storageFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./data", "folder for the SQLite database and local blobs")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "empty: SQLite in the data folder; postgres://…: PostgreSQL")
	fs.StringVar(&c.BlobURL, "blob-url", "", "empty: files under the data folder; s3://…, gs://…, file://… buckets")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
}

// serveFlags registers the server's settings.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.storageFlags(fs)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to drain requests and jobs on SIGTERM")
}

// parse reads args, then fills every flag not given on the command line
// from the environment, then validates.
func (c *Config) parse(fs *flag.FlagSet, args []string, env func(string) string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
		}
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := "CAIRN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := env(name)
		if path := env(name + "_FILE"); v == "" && path != "" && secretFlags[f.Name] {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return
			}
			v = strings.TrimSpace(string(b))
		}
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.validate()
}

func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("--database-url must be empty (SQLite) or a postgres:// URL"))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("--shutdown-timeout must not be negative"))
	}
	return errors.Join(errs...)
}
