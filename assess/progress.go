package assess

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a progress bar with rate and ETA on a terminal. A nil
// *Progress draws nothing; callers pass nil when the output is not a
// terminal, so logs and CI output stay clean.
type Progress struct {
	w     io.Writer
	mu    sync.Mutex
	total int
	done  int
	prior int
	began time.Time
	last  time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// NewProgress returns a progress bar writing to w (normally a terminal's
// stderr).
func NewProgress(w io.Writer) *Progress { return &Progress{w: w} }

func (p *Progress) start(total, prior int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total, p.prior, p.done, p.began = total, prior, prior, time.Now()
	p.stop = make(chan struct{})
	p.mu.Unlock()
	p.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw(false)
			case <-p.stop:
				return
			}
		}
	})
}

func (p *Progress) step(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.done += n
	p.mu.Unlock()
}

func (p *Progress) finish() {
	if p == nil || p.stop == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.draw(true)
}

func (p *Progress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.began).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done-p.prior) / el
	}
	bar, eta := "", ""
	if p.total > 0 {
		const width = 30
		frac := min(float64(p.done)/float64(p.total), 1)
		fill := int(frac * width)
		bar = "[" + strings.Repeat("#", fill) + strings.Repeat(".", width-fill) + "] "
		if rate > 0 && p.done < p.total {
			eta = " ETA " + (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(p.w, "\r%s%d/%d  %.1f samples/s%s   ", bar, p.done, p.total, rate, eta)
	} else {
		fmt.Fprintf(p.w, "\r%d samples  %.1f samples/s   ", p.done, rate)
	}
	if final {
		fmt.Fprintln(p.w)
	}
}
