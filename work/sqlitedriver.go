package work

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// localSQLiteDriver is River's SQLite driver with LISTEN/NOTIFY carried
// in this process instead of through the database.
//
// River's own SQLite driver emulates notifications with a table that its
// listener queries every 50 ms for as long as the client runs; without any
// listener (poll-only mode) each queue instead polls its settings and
// cancellations every 2 s and its jobs every FetchPollInterval. Either kept
// an idle service busy. Here a notification goes to the listeners of every
// client in this process on the same database, at once when sent outside
// a transaction and when the transaction commits otherwise (a rollback
// drops it), as PostgreSQL's NOTIFY does. River then hears of new jobs,
// due scheduled jobs and retries, pauses, cancellations and leadership
// changes without polling, and its polls become a once-a-minute fallback.
//
// River sends at most one insert notification per queue per fetch
// cooldown, and makes a retry or snooze due within seconds available at
// once for a later time, leaving it to the poll; so the driver also
// notifies for every job insert it executes (two jobs inserted in quick
// succession are both picked up at once) and for every job made
// available, when it falls due. Another process using the same database
// file is not notified and finds its jobs at its next poll (clearance
// serve locks its job database, so no other process uses it).
type localSQLiteDriver struct {
	*riversqlite.Driver
	hub *notifyHub
}

// insertTopic is River's notification topic for new jobs (notifier's
// NotificationTopicInsert) and insertPayload the payload its producers read.
const insertTopic = "river_insert"

func insertPayload(queue string) string { return fmt.Sprintf("{\"queue\": %q}", queue) }

// newLocalSQLiteDriver returns the driver for db and a function that
// releases its hub; call it once the client is stopped. Drivers with the
// same key (the database file's absolute path, or the handle when the
// caller opened it) share notifications.
func newLocalSQLiteDriver(db *sql.DB, key string) (*localSQLiteDriver, func()) {
	h := hubFor(key)
	return &localSQLiteDriver{Driver: riversqlite.New(db), hub: h}, func() { h.release(key) }
}

func (d *localSQLiteDriver) GetExecutor() riverdriver.Executor {
	return newLocalExecutor(d.Driver.GetExecutor(), d.hub)
}

func (d *localSQLiteDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &localListener{hub: d.hub, schema: params.Schema, wake: make(chan struct{}, 1)}
}

// UnwrapExecutor wraps a caller's transaction: its notifications are sent
// at once, since the driver does not see that transaction commit.
func (d *localSQLiteDriver) UnwrapExecutor(tx *sql.Tx) riverdriver.ExecutorTx {
	return newLocalTx(d.Driver.UnwrapExecutor(tx), d.hub, nil, true)
}

func (d *localSQLiteDriver) UnwrapTx(execTx riverdriver.ExecutorTx) *sql.Tx {
	if l, ok := execTx.(*localTx); ok {
		execTx = l.tx
	}
	return d.Driver.UnwrapTx(execTx)
}

// notifyHub carries notifications between the clients of one database in
// this process.
type notifyHub struct {
	mu        sync.Mutex
	listeners map[*localListener]struct{}
	// wakers hear of every job inserted or falling due, listening or
	// not (a dozing queue's client has no listener).
	wakers map[chan struct{}]struct{}
	refs   int // guarded by hubsMu
}

// onInsert makes every insert notification signal ch (without blocking)
// until the returned function is called.
func (h *notifyHub) onInsert(ch chan struct{}) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wakers == nil {
		h.wakers = map[chan struct{}]struct{}{}
	}
	h.wakers[ch] = struct{}{}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.wakers, ch)
	}
}

var (
	hubsMu sync.Mutex
	// hubs holds the hub of each database some driver uses, by key.
	hubs = map[string]*notifyHub{}
)

// hubFor returns the hub of a database, so that every client opened on it
// in this process (an insert-only queue beside a working one) hears the
// others.
func hubFor(key string) *notifyHub {
	hubsMu.Lock()
	defer hubsMu.Unlock()
	h := hubs[key]
	if h == nil {
		h = &notifyHub{listeners: map[*localListener]struct{}{}}
		hubs[key] = h
	}
	h.refs++
	return h
}

func (h *notifyHub) release(key string) {
	hubsMu.Lock()
	defer hubsMu.Unlock()
	if h.refs--; h.refs == 0 {
		delete(hubs, key)
	}
}

// notification is one message; at, when set, is when to send it.
type notification struct {
	topic, payload string
	at             time.Time
}

// dueMargin is how long after a job's scheduled time its wake-up is sent,
// so that the fetch it causes finds the job due.
const dueMargin = 20 * time.Millisecond

func (h *notifyHub) send(ns []notification) {
	now := time.Now()
	var due []notification
	for _, n := range ns {
		if wait := n.at.Sub(now); wait > 0 {
			n.at = time.Time{}
			time.AfterFunc(wait+dueMargin, func() { h.send([]notification{n}) })
			continue
		}
		due = append(due, n)
	}
	if len(due) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		l.deliver(due)
	}
	if len(h.wakers) > 0 && slices.ContainsFunc(due, func(n notification) bool { return n.topic == insertTopic }) {
		for ch := range h.wakers {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// notifying wraps an executor's methods that make notifications: River's
// own (NotifyMany) and the driver's (job inserts, jobs made available).
// emit sends them at once (an executor) or holds them until the
// transaction commits (localTx.add).
type notifying struct {
	riverdriver.Executor
	emit func([]notification)
}

func (n notifying) NotifyMany(_ context.Context, p *riverdriver.NotifyManyParams) error {
	n.emit(notifications(p))
	return nil
}

func (n notifying) JobInsertFastMany(ctx context.Context, p *riverdriver.JobInsertFastManyParams) ([]*riverdriver.JobInsertFastResult, error) {
	res, err := n.Executor.JobInsertFastMany(ctx, p)
	if err == nil {
		n.emit(fastInserted(p))
	}
	return res, err
}

func (n notifying) JobInsertFastManyNoReturning(ctx context.Context, p *riverdriver.JobInsertFastManyParams) (int, error) {
	c, err := n.Executor.JobInsertFastManyNoReturning(ctx, p)
	if err == nil {
		n.emit(fastInserted(p))
	}
	return c, err
}

func (n notifying) JobInsertFullMany(ctx context.Context, p *riverdriver.JobInsertFullManyParams) ([]*rivertype.JobRow, error) {
	res, err := n.Executor.JobInsertFullMany(ctx, p)
	if err == nil {
		n.emit(fullInserted(p.Jobs))
	}
	return res, err
}

func (n notifying) JobInsertFull(ctx context.Context, p *riverdriver.JobInsertFullParams) (*rivertype.JobRow, error) {
	res, err := n.Executor.JobInsertFull(ctx, p)
	if err == nil {
		n.emit(fullInserted([]*riverdriver.JobInsertFullParams{p}))
	}
	return res, err
}

// JobSetStateIfRunningMany wakes the queue of a job made available for a
// later time: River makes a retry or snooze due within its scheduler's
// interval available at once, with a scheduled time, and counts on the
// next poll to find it then.
func (n notifying) JobSetStateIfRunningMany(ctx context.Context, p *riverdriver.JobSetStateIfRunningManyParams) ([]*rivertype.JobRow, error) {
	rows, err := n.Executor.JobSetStateIfRunningMany(ctx, p)
	if err == nil {
		n.emit(madeAvailable(rows))
	}
	return rows, err
}

// localExecutor sends notifications through the hub instead of the
// database.
type localExecutor struct {
	notifying
	hub *notifyHub
}

func newLocalExecutor(e riverdriver.Executor, hub *notifyHub) *localExecutor {
	return &localExecutor{notifying: notifying{Executor: e, emit: hub.send}, hub: hub}
}

func (e *localExecutor) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := e.Executor.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return newLocalTx(tx, e.hub, nil, false), nil
}

// localTx holds a transaction's notifications until it commits. A nested
// transaction (a savepoint) hands them to its parent on commit.
type localTx struct {
	notifying
	tx     riverdriver.ExecutorTx
	hub    *notifyHub
	parent *localTx
	// direct sends at once: the transaction is the caller's.
	direct bool

	mu      sync.Mutex
	pending []notification
}

func newLocalTx(tx riverdriver.ExecutorTx, hub *notifyHub, parent *localTx, direct bool) *localTx {
	t := &localTx{tx: tx, hub: hub, parent: parent, direct: direct}
	t.notifying = notifying{Executor: tx, emit: t.add}
	return t
}

func (t *localTx) add(ns []notification) {
	if t.direct {
		t.hub.send(ns)
		return
	}
	t.mu.Lock()
	t.pending = append(t.pending, ns...)
	t.mu.Unlock()
}

func (t *localTx) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := t.tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return newLocalTx(tx, t.hub, t, t.direct), nil
}

func (t *localTx) Commit(ctx context.Context) error {
	if err := t.tx.Commit(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	ns := t.pending
	t.pending = nil
	t.mu.Unlock()
	if t.parent != nil {
		t.parent.add(ns)
	} else {
		t.hub.send(ns)
	}
	return nil
}

func (t *localTx) Rollback(ctx context.Context) error {
	t.mu.Lock()
	t.pending = nil
	t.mu.Unlock()
	return t.tx.Rollback(ctx)
}

// madeAvailable gives an insert notification for each available job, sent
// when it falls due.
func madeAvailable(rows []*rivertype.JobRow) []notification {
	var ns []notification
	for _, r := range rows {
		if r != nil && r.State == rivertype.JobStateAvailable {
			ns = append(ns, notification{topic: insertTopic, payload: insertPayload(r.Queue), at: r.ScheduledAt})
		}
	}
	return ns
}

func notifications(p *riverdriver.NotifyManyParams) []notification {
	ns := make([]notification, len(p.Payload))
	for i, payload := range p.Payload {
		ns[i] = notification{topic: p.Topic, payload: payload}
	}
	return ns
}

// fastInserted and fullInserted give one insert notification per queue
// that received a job.
func fastInserted(p *riverdriver.JobInsertFastManyParams) []notification {
	queues := make([]string, 0, 1)
	for _, j := range p.Jobs {
		queues = append(queues, j.Queue)
	}
	return insertNotifications(queues)
}

func fullInserted(jobs []*riverdriver.JobInsertFullParams) []notification {
	queues := make([]string, 0, 1)
	for _, j := range jobs {
		queues = append(queues, j.Queue)
	}
	return insertNotifications(queues)
}

func insertNotifications(queues []string) []notification {
	var ns []notification
	seen := map[string]bool{}
	for _, q := range queues {
		if !seen[q] {
			seen[q] = true
			ns = append(ns, notification{topic: insertTopic, payload: insertPayload(q)})
		}
	}
	return ns
}

// localListener receives the hub's notifications on the topics it
// listens to.
type localListener struct {
	hub    *notifyHub
	schema string
	wake   chan struct{} // capacity 1: a notification is queued

	mu        sync.Mutex
	connected bool
	topics    map[string]bool
	queue     []notification
}

var errNotConnected = errors.New("listener is not connected")

func (l *localListener) deliver(ns []notification) {
	l.mu.Lock()
	n := len(l.queue)
	for _, x := range ns {
		if l.topics[x.topic] {
			l.queue = append(l.queue, x)
		}
	}
	queued := len(l.queue) > n
	l.mu.Unlock()
	if queued {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func (l *localListener) Connect(context.Context) error {
	l.mu.Lock()
	if l.connected {
		l.mu.Unlock()
		return errors.New("listener already connected")
	}
	l.connected, l.topics, l.queue = true, map[string]bool{}, nil
	l.mu.Unlock()
	l.hub.mu.Lock()
	l.hub.listeners[l] = struct{}{}
	l.hub.mu.Unlock()
	return nil
}

func (l *localListener) Close(context.Context) error {
	l.hub.mu.Lock()
	delete(l.hub.listeners, l)
	l.hub.mu.Unlock()
	l.mu.Lock()
	l.connected, l.topics, l.queue = false, nil, nil
	l.mu.Unlock()
	return nil
}

func (l *localListener) Listen(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	l.topics[topic] = true
	return nil
}

func (l *localListener) Unlisten(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	delete(l.topics, topic)
	return nil
}

func (l *localListener) Ping(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	return nil
}

func (l *localListener) Schema() string { return l.schema }

// SetAfterConnectExec is for River's own tests of SQL listeners; there is
// no connection to run it on.
func (l *localListener) SetAfterConnectExec(string) {}

func (l *localListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		l.mu.Lock()
		if !l.connected {
			l.mu.Unlock()
			return nil, errNotConnected
		}
		if len(l.queue) > 0 {
			n := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			return &riverdriver.Notification{Topic: n.topic, Payload: n.payload}, nil
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.wake:
		}
	}
}
