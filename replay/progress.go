package replay

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ProgressInterval is how often the progress bar is redrawn: at most ten
// times a second, so drawing never costs noticeable time.
const ProgressInterval = 100 * time.Millisecond

// barWidth is the number of cells of the bar itself.
const barWidth = 30

// Progress draws a one-line progress bar ("\r"-redrawn) for bytes read out
// of a known total, with rate and time left. It is meant for a terminal;
// the caller decides whether w is one.
type Progress struct {
	w     io.Writer
	total int64
	read  *atomic.Int64
	now   func() time.Time
	start time.Time

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewProgress returns a bar for read out of total bytes. now is the clock
// (time.Now when nil).
func NewProgress(w io.Writer, total int64, read *atomic.Int64, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	return &Progress{w: w, total: total, read: read, now: now, start: now(),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Start redraws the bar every ProgressInterval until Stop.
func (p *Progress) Start() {
	go func() {
		defer close(p.done)
		t := time.NewTicker(ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
}

// Stop ends the redrawing, draws the final state and ends the line.
func (p *Progress) Stop() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		p.draw()
		fmt.Fprint(p.w, "\n")
	})
}

func (p *Progress) draw() {
	fmt.Fprint(p.w, "\r"+renderBar(p.read.Load(), p.total, p.now().Sub(p.start))+"\x1b[K")
}

// renderBar formats one state of the bar:
//
//	42.0% [============>                 ] 420.0/1000.0 MB  84.0 MB/s  ETA 7s
func renderBar(done, total int64, elapsed time.Duration) string {
	frac := 1.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	eta := "--"
	switch {
	case done >= total:
		eta = "0s"
	case rate > 0:
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%5.1f%% [%s] %.1f/%.1f MB  %.1f MB/s  ETA %s",
		frac*100, bar, float64(done)/1e6, float64(total)/1e6, rate/1e6, eta)
}
