package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultKeyFile is the key file's name in the data folder, used when no
// keys are configured.
const DefaultKeyFile = "secret-keys"

// LoadOrCreateFile reads the key list in the file at path, creating the
// file (mode 0600) with one new key when it does not exist. created tells
// whether it did. Two processes starting at once agree on one file: it is
// written aside and linked into place, which fails if the other won.
func LoadOrCreateFile(path string) (k *Keyring, created bool, err error) {
	if k, err := readFile(path); !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	line, err := NewKey("k" + time.Now().UTC().Format("20060102T150405"))
	if err != nil {
		return nil, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".secret-keys-*")
	if err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600.
	_, err = tmp.WriteString("# cairn secret keys: id:base64, one per line; the last one seals. Keep this file secret and backed up.\n" + line + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("secrets: write %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, err := readFile(path)
			return k, false, err
		}
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	k, err = readFile(path)
	return k, err == nil, err
}

// ReadFile reads a key list from a file (see Parse).
func ReadFile(path string) (*Keyring, error) { return readFile(path) }

func readFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(string(b))
}
