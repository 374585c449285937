// Command cairn is the whole platform in one binary: the server, its
// migrations and the administrative commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `cairn: a self-hosted fitness and health data platform

Usage:
  cairn serve          run the HTTP server (and background jobs)
  cairn migrate        apply database migrations and exit
  cairn user create    create a user: --email E --name N [--role user|admin] [--password-stdin]
  cairn token create   create a personal access token: --user EMAIL --scopes "…" [--expires 720h]
  cairn oauth-client create   register an OAuth2 client: --name N --grant-types "…" --scopes "…" [--redirect-uri U] [--public]
  cairn oauth-client rotate   new secret for a client (the old one stays valid --oauth-secret-grace): --client-id ID
  cairn keys generate  print a new key entry (id:base64) for --secret-keys: [--id ID]
  cairn keys rotate    re-seal every stored secret under the newest key: [--batch N]
  cairn import         import FIT, GPX and TCX files or folders: --user EMAIL [--json] PATH...
  cairn sim            run the Strava/Garmin/weather/geocoding simulator: --addr HOST:PORT --seed N [--fault-rate F]

Every command takes --data-dir and --database-url (or CAIRN_DATA_DIR,
CAIRN_DATABASE_URL); run "cairn COMMAND -h" for its flags.
`

// env is what a command reads from outside: arguments, environment,
// standard streams. Tests run commands in-process with their own.
type env struct {
	args   []string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{args: os.Args[1:], getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(ctx, e))
}

// run dispatches to a command and returns the exit status.
func run(ctx context.Context, e env) int {
	if len(e.args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	cmd, rest := e.args[0], e.args[1:]
	if (cmd == "user" || cmd == "token") && len(rest) > 0 && rest[0] == "create" {
		cmd, rest = cmd+" create", rest[1:]
	}
	if cmd == "oauth-client" && len(rest) > 0 && (rest[0] == "create" || rest[0] == "rotate") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if cmd == "keys" && len(rest) > 0 && (rest[0] == "generate" || rest[0] == "rotate") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	commands := map[string]func(context.Context, env, []string) error{
		"serve":               cmdServe,
		"migrate":             cmdMigrate,
		"user create":         cmdUserCreate,
		"token create":        cmdTokenCreate,
		"oauth-client create": cmdOAuthClientCreate,
		"oauth-client rotate": cmdOAuthClientRotate,
		"keys generate":       cmdKeysGenerate,
		"keys rotate":         cmdKeysRotate,
		"import":              cmdImport,
		"sim":                 cmdSim,
	}
	fn, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(e.stderr, "cairn: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err := fn(ctx, e, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if errors.Is(err, errSomeFailed) {
			return 1
		}
		fmt.Fprintf(e.stderr, "cairn %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
