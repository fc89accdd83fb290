package sqlite

import (
	"errors"
	"io/fs"
	"os"
)

// FileMode is the mode of the database file and of its -wal and -shm
// files: they hold the review service's records, readable by the
// service's user only.
const FileMode fs.FileMode = 0o600

// privateFiles makes the database at path private before the driver
// opens it. A new database is created empty with FileMode (an empty file
// is an empty SQLite database), and SQLite gives the -wal and -shm files
// it creates the database file's mode; the files of an existing database
// made by an older version are changed to FileMode.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, FileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
