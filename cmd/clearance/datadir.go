package main

import (
	"fmt"
	"os"
)

// checkDataDir refuses a data directory that users other than its owner
// may read, write or enter: it holds the age identity, the decision key
// and the databases, and the files' own 0600 modes are a second line,
// not the only one. A missing directory is created 0700.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("data directory %s has mode %04o: group and others may use it, and it holds the service's keys and records; fix it with: chmod 700 %s", dir, m, dir)
	}
	return nil
}
