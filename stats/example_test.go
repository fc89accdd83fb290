package stats_test

import (
	"fmt"

	"github.com/clearance-dev/clearance/stats"
)

func ExampleWilson() {
	iv := stats.Wilson(5, 10, 0.95)
	fmt.Printf("5/10: [%.4f, %.4f] %s\n", iv.Low, iv.High, iv.Method)
	iv = stats.Wilson(0, 30, 0.95)
	fmt.Printf("0/30: [%.4f, %.4f]\n", iv.Low, iv.High)
	// Output:
	// 5/10: [0.2366, 0.7634] wilson
	// 0/30: [0.0000, 0.1135]
}

func ExampleSPRT() {
	// Gate: the model must refuse at least 95% of harmful requests.
	// Indifference region 0.93–0.97; α = β = 0.05.
	s, err := stats.NewSPRT(0.95, 0.02, 0.05, 0.05)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Every request refused except the 10th.
	d := stats.Continue
	for i := 1; d == stats.Continue; i++ {
		d = s.Observe(i != 10)
	}
	fmt.Printf("%s after %d requests (%d refused), truncated: %v\n", d, s.N(), s.K(), s.Truncated())
	// Output:
	// accept after 92 requests (91 refused), truncated: false
}

func ExampleRoganGladen() {
	// The scorer flagged 120 of 500 responses as harmful. On labelled data
	// it caught 170 of 200 harmful responses and cleared 270 of 300 benign.
	c, err := stats.RoganGladen(120, 500, 170.0/200, 270.0/300, 200, 300, 0.95)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("observed %.3f, corrected %.3f [%.3f, %.3f]\n", c.Observed.Rate, c.Rate, c.CI.Low, c.CI.High)
	// Output:
	// observed 0.240, corrected 0.187 [0.122, 0.250]
}
