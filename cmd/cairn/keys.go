package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/telemetry"
)

// loadKeys returns the keyring sealing secrets at rest: the configured
// keys, else the key file in the data folder. With create, a missing key
// file is created with a new key (cairn serve's first start) and logged.
func loadKeys(c *Config, log *slog.Logger, create bool) (*secrets.Keyring, error) {
	if c.SecretKeys != "" {
		return secrets.Parse(c.SecretKeys)
	}
	path := filepath.Join(c.DataDir, secrets.DefaultKeyFile)
	if !create {
		k, err := secrets.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no secret keys: set --secret-keys (CAIRN_SECRET_KEYS or CAIRN_SECRET_KEYS_FILE), or start cairn serve once to create %s", path)
		}
		return k, err
	}
	k, created, err := secrets.LoadOrCreateFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("no secret keys configured: created a key file for secrets at rest; back it up with the database, or set CAIRN_SECRET_KEYS",
			"path", path, "key_id", k.Current())
		if c.DatabaseURL != "" {
			log.Warn("every cairn process on this PostgreSQL database needs the same keys: copy the key file or set CAIRN_SECRET_KEYS on each")
		}
	}
	return k, nil
}

func cmdKeysGenerate(_ context.Context, e env, args []string) error {
	var id string
	fs := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	fs.StringVar(&id, "id", "k"+time.Now().UTC().Format("20060102T150405"), "the new key's id")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stderr)
			fs.PrintDefaults()
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	line, err := secrets.NewKey(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, line)
	return err
}

func cmdKeysRotate(ctx context.Context, e env, args []string) error {
	var c Config
	var batch int
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	c.storageFlags(fs)
	c.keyFlags(fs)
	fs.IntVar(&batch, "batch", 500, "rows re-sealed per transaction")
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	if batch < 1 {
		return errors.New("--batch must be positive")
	}
	log := telemetry.NewLogger(e.stderr, slogWarn(c))
	keys, err := loadKeys(&c, log, false)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, &c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	sys := cairn.SystemContext(ctx)
	stats, err := s.ResealSecrets(sys, batch, func(col sqldb.EncryptedColumn, place string, sealed []byte) ([]byte, error) {
		out, changed, err := keys.Reseal(sealed, secrets.AD(col.Table, col.Column, place))
		if !changed {
			return nil, err
		}
		return out, err
	})
	if err != nil {
		return err
	}
	out := map[string]any{"key_id": keys.Current(), "columns": stats}
	details, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := s.RecordAudit(sys, &cairn.AuditEntry{Action: cairn.AuditKeysRotate, Details: details}); err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(out)
}
