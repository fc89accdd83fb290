package stats

import (
	"math"
	"testing"
)

func TestDiffNewcombe(t *testing.T) {
	// Method 10 values for the examples in Newcombe (1998), Statistics in
	// Medicine 17:873–890, quoted from memory and consistent with a hand
	// computation for the first.
	tests := []struct {
		k1, n1, k2, n2 int
		low, high      float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{5, 56, 0, 29, -0.0381, 0.1926},
		{0, 10, 0, 20, -0.1611, 0.2775},
		{0, 10, 0, 10, -0.2775, 0.2775},
		{10, 10, 0, 20, 0.6791, 1.0000},
		{10, 10, 0, 10, 0.6075, 1.0000},
	}
	for _, tt := range tests {
		got := Diff(tt.k1, tt.n1, tt.k2, tt.n2, 0.95)
		if math.Abs(got.CI.Low-tt.low) > 5e-5 || math.Abs(got.CI.High-tt.high) > 5e-5 || got.CI.Method != "newcombe" {
			t.Errorf("Diff(%d/%d, %d/%d).CI = %+v, want [%v, %v]", tt.k1, tt.n1, tt.k2, tt.n2, got.CI, tt.low, tt.high)
		}
		// Swapping A and B mirrors the interval.
		sw := Diff(tt.k2, tt.n2, tt.k1, tt.n1, 0.95)
		if !close(sw.CI.Low, -got.CI.High, 1e-12) || !close(sw.CI.High, -got.CI.Low, 1e-12) || sw.PValue != got.PValue {
			t.Errorf("Diff swapped = %+v, want mirror of %+v", sw.CI, got.CI)
		}
	}
}

func TestDiffTest(t *testing.T) {
	tests := []struct {
		k1, n1, k2, n2 int
		z, p           float64
		significant    bool
	}{
		// z = 0.2 / sqrt(104/150 · 46/150 · (1/70 + 1/80))
		{56, 70, 48, 80, 0.2 / math.Sqrt(104.0/150*46/150*(1.0/70+1.0/80)), 0, true},
		{50, 100, 45, 100, 0.05 / math.Sqrt(0.475*0.525*0.02), 0, false},
		{0, 10, 0, 20, 0, 1, false}, // pooled rate 0: no test
		{3, 0, 1, 5, 0, 1, false},   // invalid: k > n
		{1, 5, 1, 0, 0, 1, false},   // no trials in B
	}
	for _, tt := range tests {
		got := Diff(tt.k1, tt.n1, tt.k2, tt.n2, 0.95)
		wantP := tt.p
		if tt.z != 0 {
			wantP = math.Erfc(math.Abs(tt.z) / math.Sqrt2)
		}
		if !close(got.Z, tt.z, 1e-12) || !close(got.PValue, wantP, 1e-12) || got.Significant != tt.significant {
			t.Errorf("Diff(%d/%d, %d/%d) = z %v p %v sig %v, want %v %v %v", tt.k1, tt.n1, tt.k2, tt.n2, got.Z, got.PValue, got.Significant, tt.z, wantP, tt.significant)
		}
		if tt.n1 == 0 || tt.n2 == 0 || tt.k1 > tt.n1 {
			if got.CI.Low != -1 || got.CI.High != 1 {
				t.Errorf("Diff(%d/%d, %d/%d).CI = %+v, want vacuous [-1,1]", tt.k1, tt.n1, tt.k2, tt.n2, got.CI)
			}
		}
	}
}
