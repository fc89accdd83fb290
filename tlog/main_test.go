package tlog

import (
	"io"
	"os"
	"testing"

	"k8s.io/klog/v2"
)

// TestMain quiets Tessera's klog output so that test and benchmark results
// stay readable.
func TestMain(m *testing.M) {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}
