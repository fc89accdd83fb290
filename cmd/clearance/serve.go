package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/postgres"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/web"
)

// serviceFlags select where the review service keeps its state.
type serviceFlags struct {
	data     string
	database string
}

func (sf *serviceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.data, "data", "clearance-data", "data directory: SQLite database (unless --database), age key, transparency log")
	fs.StringVar(&sf.database, "database", "", "PostgreSQL URL (postgres://…) for the scale-out store; default: SQLite in --data")
}

// openStore opens (and migrates) the store the flags name.
func (sf *serviceFlags) openStore(ctx context.Context) (review.Store, func(), error) {
	if err := os.MkdirAll(sf.data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	if sf.database != "" {
		if !strings.HasPrefix(sf.database, "postgres://") && !strings.HasPrefix(sf.database, "postgresql://") {
			return nil, nil, usageError("--database must be a postgres:// URL")
		}
		db, err := postgres.Open(ctx, sf.database)
		if err != nil {
			return nil, nil, err
		}
		return db, db.Close, nil
	}
	db, err := sqlite.Open(ctx, filepath.Join(sf.data, "clearance.db"))
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

// sealer returns the age identity that encrypts submitted endpoint
// credentials, creating DATA/age.key (mode 0600) on first use.
func (sf *serviceFlags) sealer() (*review.AgeSealer, error) {
	p := filepath.Join(sf.data, "age.key")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		b = []byte(id.String() + "\n")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, fmt.Errorf("write age key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read age key: %w", err)
	}
	return review.NewAgeSealer(string(b))
}

// service builds the review service over the store.
func (sf *serviceFlags) service(e *env, st review.Store) (*review.Service, error) {
	sealer, err := sf.sealer()
	if err != nil {
		return nil, err
	}
	return review.New(review.Config{Store: st, Sealer: sealer, Evidence: policyEvidence{now: e.now}, Now: e.now, Logger: e.log})
}

// policyEvidence tells the review service which evidence a case's profiles
// still require: every evaluation, artifact or safeguard criterion that is
// missing or too small under an applicable profile. A decision without it
// needs a recorded override.
type policyEvidence struct{ now func() time.Time }

func (p policyEvidence) MissingEvidence(ctx context.Context, c review.Case) ([]string, error) {
	ev, err := policy.LoadEvidence("case "+c.ID+" dossier", c.Dossier)
	if err != nil {
		return nil, err
	}
	if ev.AsOf.IsZero() {
		ev.AsOf = p.now().UTC()
	}
	profs, err := loadProfiles(c.Profiles)
	if err != nil {
		return nil, err
	}
	d, err := policy.Decide(ev, profs...)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, r := range d.Results {
		if !r.Applicable {
			continue
		}
		for _, cr := range r.FailedCriteria {
			if cr.Status == "missing" || cr.Status == "insufficient" {
				missing = append(missing, r.Profile+"/"+cr.ID)
			}
		}
	}
	return missing, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve [--addr 127.0.0.1:PORT] [--data DIR] [--database postgres://…]")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	var sf serviceFlags
	sf.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	st, closeStore, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := sf.service(e, st)
	if err != nil {
		return err
	}
	logDir := filepath.Join(sf.data, "log")
	if _, err := os.Stat(filepath.Join(logDir, "log.pub")); err != nil {
		if _, err := tlog.Init(ctx, logDir, "clearance/"+filepath.Base(sf.data)); err != nil {
			return err
		}
	}
	lh, err := tlog.NewHandler(logDir)
	if err != nil {
		return err
	}
	defer lh.Close()
	ws, err := web.New(web.Config{Service: svc, Logger: e.log, LogHandler: lh, Now: e.now})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: ws.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	store := "SQLite " + filepath.Join(sf.data, "clearance.db")
	if sf.database != "" {
		store = "PostgreSQL"
	}
	fmt.Fprintf(e.stdout, "clearance serving http://%s (API /api/v1, log /log/, health /healthz) on %s\n", ln.Addr(), store)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "migrate [--data DIR] [--database postgres://…]")
	var sf serviceFlags
	sf.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	_, closeStore, err := sf.openStore(ctx) // Open applies the embedded migrations
	if err != nil {
		return err
	}
	closeStore()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func runAdmin(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "bootstrap" {
		return usageError("usage: clearance admin bootstrap --org NAME --user NAME [--email E] [--data DIR|--database URL]")
	}
	fs := newFlagSet(e, "admin bootstrap", "admin bootstrap --org NAME --user NAME [--email E] [--data DIR|--database URL]")
	org := fs.String("org", "", "name of the first (agency) organisation")
	user := fs.String("user", "", "name of the first admin user")
	email := fs.String("email", "", "the admin's email")
	var sf serviceFlags
	sf.register(fs)
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *org == "" || *user == "" {
		return usageError("--org and --user are required")
	}
	st, closeStore, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := sf.service(e, st)
	if err != nil {
		return err
	}
	a, token, err := svc.Bootstrap(ctx, *org, *user, *email)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "admin %s of %s created; API token (shown once):\n%s\n", a.User.Name, a.Org.Name, token)
	return nil
}
