package tlog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clearance-dev/clearance/tlog"
)

// Create a log, append an entry and verify its receipt offline.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "log")

	vkey, err := tlog.Init(ctx, dir, "clearance.example/decisions")
	if err != nil {
		fmt.Println(err)
		return
	}
	l, _ := tlog.Open(ctx, dir, tlog.Options{})
	entry := []byte("a decision bundle")
	receipt, err := l.Append(ctx, entry)
	l.Close(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Later, anywhere, with nothing but the entry, the receipt and log.pub:
	cp, err := tlog.VerifyReceipt(entry, receipt, vkey)
	fmt.Println("included:", err == nil, "index", receipt.Index, "of", cp.Size)
	_, err = tlog.VerifyReceipt([]byte("another bundle"), receipt, vkey)
	fmt.Println("other entry rejected:", err != nil)

	src, _ := tlog.OpenSource(dir, nil)
	rep, err := tlog.Monitor(ctx, src, vkey, tlog.MonitorOptions{})
	fmt.Println("monitor:", err == nil, rep.Checkpoint.Size, "entries")
	// Output:
	// included: true index 0 of 1
	// other entry rejected: true
	// monitor: true 1 entries
}
