package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/blobs"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/schollz/progressbar/v3"
)

// importLine is one file's outcome in --json mode.
type importLine struct {
	File        string   `json:"file"`
	Status      string   `json:"status"`
	Kind        string   `json:"kind,omitempty"`
	ActivityIDs []string `json:"activity_ids"`
	WorkoutIDs  []string `json:"workout_ids,omitempty"`
	Partial     bool     `json:"partial"`
	Warnings    []string `json:"warnings,omitempty"`
	Error       *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errSomeFailed makes the command exit 1 after importing everything else.
var errSomeFailed = errors.New("some files failed to import")

func cmdImport(ctx context.Context, e env, args []string) error {
	var c Config
	var email string
	var asJSON bool
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	c.storageFlags(fs)
	fs.StringVar(&email, "user", "", "the email of the user who owns the files (required)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per file")
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("name at least one file or folder")
	}
	files, err := collect(fs.Args())
	if err != nil {
		return err
	}
	log := telemetry.NewLogger(e.stderr, slogWarn(c))
	s, err := openStore(ctx, &c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	bucket, err := blobs.Open(ctx, c.BlobURL, c.DataDir)
	if err != nil {
		return err
	}
	defer bucket.Close()
	u, err := s.FindUserByEmail(cairn.SystemContext(ctx), email)
	if err != nil {
		return fmt.Errorf("no user with email %s", email)
	}
	svc := &ingest.Service{DB: s.DB, Bucket: bucket, Log: log}
	uctx := cairn.WithActor(ctx, cairn.Actor{UserID: u.ID})
	return importFiles(uctx, e, svc, u.ID, files, asJSON)
}

func importFiles(ctx context.Context, e env, svc *ingest.Service, userID string, files []string, asJSON bool) error {
	var bar *progressbar.ProgressBar
	if !asJSON && isTerminal(e.stderr) {
		bar = progressbar.NewOptions(len(files), progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("importing"), progressbar.OptionShowCount())
	}
	enc := json.NewEncoder(e.stdout)
	counts := map[string]int{}
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := importOne(ctx, svc, userID, f)
		counts[line.Status]++
		switch {
		case asJSON:
			if err := enc.Encode(line); err != nil {
				return err
			}
		case line.Error != nil:
			if bar != nil {
				_ = bar.Clear() // the message goes on its own line, above the bar
			}
			fmt.Fprintf(e.stderr, "%s: %s: %s\n", f, line.Error.Code, line.Error.Message)
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(e.stderr)
	}
	if !asJSON {
		fmt.Fprintf(e.stdout, "%d created, %d duplicate, %d failed\n", counts[ingest.Created], counts[ingest.Duplicate], counts[ingest.Failed])
	}
	if counts[ingest.Failed] > 0 {
		return errSomeFailed
	}
	return nil
}

func importOne(ctx context.Context, svc *ingest.Service, userID, path string) importLine {
	line := importLine{File: path, ActivityIDs: []string{}}
	res, err := func() (*ingest.Result, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, cairn.Errorf(cairn.EINVALIDFILE, "cannot open the file: %v", errors.Unwrap(err))
		}
		defer f.Close()
		return svc.Import(ctx, userID, ingest.Allowed{Activity: true, Health: true}, io.Reader(f))
	}()
	if err != nil {
		line.Status = ingest.Failed
		line.Error = &struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}{cairn.ErrorCode(err), cairn.ErrorMessage(err)}
		return line
	}
	line.Status, line.Kind, line.Partial, line.Warnings = res.Status, res.Kind, res.Partial, res.Warnings
	line.ActivityIDs = append(line.ActivityIDs, res.ActivityIDs...)
	line.WorkoutIDs = res.WorkoutIDs
	return line
}

// importable are the extensions a folder walk picks up; files named on the
// command line are tried whatever their name.
var importable = []string{".fit", ".gpx", ".tcx"}

func collect(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && isImportable(path) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func isImportable(path string) bool {
	name := strings.TrimSuffix(strings.ToLower(path), ".gz")
	for _, ext := range importable {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
