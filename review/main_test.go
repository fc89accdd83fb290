package review_test

import (
	"io"
	"os"
	"testing"

	"k8s.io/klog/v2"
)

// TestMain quiets the transparency log's klog output.
func TestMain(m *testing.M) {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}
