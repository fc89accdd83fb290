package sandbox

import (
	"context"
	"testing"
)

// BenchmarkStartExecClose measures one minimal episode per backend: start
// an empty box, run `true`, close it.
func BenchmarkStartExecClose(b *testing.B) {
	for _, name := range []string{Bubblewrap, GVisor} {
		b.Run(name, func(b *testing.B) {
			r := newRunner(b, name)
			ctx := context.Background()
			for b.Loop() {
				box, err := r.Start(ctx, Spec{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := box.Exec(ctx, "true", 0); err != nil {
					b.Fatal(err)
				}
				if err := box.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExec measures one command in a running box.
func BenchmarkExec(b *testing.B) {
	for _, name := range []string{Bubblewrap, GVisor} {
		b.Run(name, func(b *testing.B) {
			r := newRunner(b, name)
			ctx := context.Background()
			box, err := r.Start(ctx, Spec{})
			if err != nil {
				b.Fatal(err)
			}
			defer box.Close()
			for b.Loop() {
				if _, err := box.Exec(ctx, "true", 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
