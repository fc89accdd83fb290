package work

import "github.com/riverqueue/river/riverdriver/riversqlite"

// pollingSQLiteDriver is River's SQLite driver without its emulated
// LISTEN/NOTIFY. That emulation queries a notification table every 50 ms
// for as long as the client runs, which kept an idle service at a few
// percent of a core. Without a listener River polls for jobs every
// FetchPollInterval and, because the driver says it has no listener,
// wakes this process's own producers at once when it inserts a job, so a
// job this process schedules starts without waiting for the poll (one
// another process inserts is found at the next poll).
type pollingSQLiteDriver struct {
	*riversqlite.Driver
}

func (pollingSQLiteDriver) SupportsListener() bool     { return false }
func (pollingSQLiteDriver) SupportsListenNotify() bool { return false }
