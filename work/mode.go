package work

import (
	"errors"
	"io/fs"
	"os"
)

// privateFile creates the SQLite database at path empty with mode 0600
// when missing (SQLite gives the -wal and -shm files it creates the
// database file's mode), and sets 0600 on an existing one and its -wal
// and -shm files, made by an older version.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
