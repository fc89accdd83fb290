package main

import "testing"

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // -1: refused
	}{
		{"0", 0}, {"1048576", 1 << 20}, {"500MiB", 500 << 20}, {"1GiB", 1 << 30}, {"2GB", 2e9},
		{"10KB", 10e3}, {"7B", 7}, {"64 KiB", 64 << 10},
		{"", -1}, {"-1", -1}, {"1TB", -1}, {"1.5GB", -1}, {"lots", -1}, {"9999999999GiB", -1},
	}
	for _, tc := range tests {
		var b byteSize
		err := b.Set(tc.in)
		switch {
		case tc.want < 0 && err == nil:
			t.Errorf("Set(%q) = %d, want an error", tc.in, b)
		case tc.want >= 0 && (err != nil || int64(b) != tc.want):
			t.Errorf("Set(%q) = %d, %v; want %d", tc.in, b, err, tc.want)
		}
	}
}
