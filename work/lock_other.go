//go:build !unix

package work

import "errors"

// lockFile has no flock to use: Open then leaves jobs left running to
// River's rescuer, as for a shared database.
func lockFile(string) (func() error, error) { return nil, errors.ErrUnsupported }
