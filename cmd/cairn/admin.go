package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/telemetry"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	var c Config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	c.storageFlags(fs)
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	s, err := openStore(ctx, &c, telemetry.NewLogger(e.stderr, c.LogLevel))
	if err != nil {
		return err
	}
	s.Close()
	return nil
}

func cmdUserCreate(ctx context.Context, e env, args []string) error {
	var c Config
	var email, name, role string
	var passwordStdin bool
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	c.storageFlags(fs)
	fs.StringVar(&email, "email", "", "the user's email (required)")
	fs.StringVar(&name, "name", "", "the user's name")
	fs.StringVar(&role, "role", cairn.RoleUser, "user, support or admin")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read a password from the first line of standard input")
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	if !strings.Contains(email, "@") {
		return errors.New("--email must be an email address")
	}
	if role != cairn.RoleUser && role != cairn.RoleAdmin && role != cairn.RoleSupport {
		return errors.New("--role must be user, support or admin")
	}
	u := &cairn.User{Email: email, Name: name, Roles: []string{role}}
	if passwordStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return errors.New("no password on standard input")
		} else if err != nil && line == "" {
			return err
		}
		if u.PasswordHash, err = argon2id.Hash(line, argon2id.OWASP); err != nil {
			return err
		}
	}
	s, err := openStore(ctx, &c, telemetry.NewLogger(e.stderr, slogWarn(c)))
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CreateUser(cairn.SystemContext(ctx), u); err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(u)
}

func cmdTokenCreate(ctx context.Context, e env, args []string) error {
	var c Config
	var email, scopes, name string
	var expires time.Duration
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	c.storageFlags(fs)
	fs.StringVar(&email, "user", "", "the email of the token's user (required)")
	fs.StringVar(&scopes, "scopes", "", `space-separated scopes, e.g. "profile:read activity:read"`)
	fs.StringVar(&name, "name", "cli", "a label for the token")
	fs.DurationVar(&expires, "expires", 90*24*time.Hour, "lifetime; 0 for a token that never expires")
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	sc, err := cairn.ParseScopes(scopes)
	if err != nil {
		return errors.New("--scopes: " + strings.Join(mapValues(cairn.ErrorFields(err)), "; "))
	}
	if expires < 0 {
		return errors.New("--expires must not be negative")
	}
	s, err := openStore(ctx, &c, telemetry.NewLogger(e.stderr, slogWarn(c)))
	if err != nil {
		return err
	}
	defer s.Close()
	sys := cairn.SystemContext(ctx)
	u, err := s.FindUserByEmail(sys, email)
	if err != nil {
		return errors.New("no user with email " + email)
	}
	if len(sc) > 0 && contains(sc, cairn.ScopeAdmin) && !u.Staff() {
		return errors.New("the admin scope is only for users with the admin or support role")
	}
	secret, hash := cairn.NewTokenSecret()
	t := &cairn.PersonalAccessToken{UserID: u.ID, Name: name, Hash: hash, Scopes: sc}
	if expires > 0 {
		exp := time.Now().Add(expires).UTC().Truncate(time.Second)
		t.ExpiresAt = &exp
	}
	if err := s.CreateToken(sys, t); err != nil {
		return err
	}
	details, _ := json.Marshal(map[string]any{"token_id": t.ID, "name": t.Name, "scopes": t.Scopes, "via": "cli"})
	if err := s.RecordAudit(sys, &cairn.AuditEntry{UserID: u.ID, Action: cairn.AuditTokenIssue, Details: details}); err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(map[string]any{
		"id": t.ID, "token": secret, "user_id": u.ID, "scopes": t.Scopes, "expires_at": t.ExpiresAt,
	})
}
