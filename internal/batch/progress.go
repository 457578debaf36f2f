package batch

import (
	"fmt"
	"sync/atomic"
	"time"
)

// startProgress reports progress on opts.Progress until the returned function is called:
// one redrawn line on a terminal, else a plain line every ProgressEvery.
func startProgress(opts Options, c *committer, read *atomic.Int64, total int64, start time.Time) (stop func()) {
	every := opts.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
		if opts.ProgressTTY {
			every = 500 * time.Millisecond
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if opts.ProgressTTY {
					fmt.Fprint(opts.Progress, "\r\033[K")
				}
				return
			case <-t.C:
				line := progressLine(c.converted.Load(), c.failed.Load(), read.Load(), total, time.Since(start))
				if opts.ProgressTTY {
					fmt.Fprint(opts.Progress, "\r\033[K"+line)
				} else {
					fmt.Fprintln(opts.Progress, line)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func progressLine(conv, failed, read, total int64, elapsed time.Duration) string {
	n := conv + failed
	secs := elapsed.Seconds()
	rate := float64(n) / max(secs, 1e-9)
	pct := 100.0
	eta := "-"
	if total > 0 {
		pct = 100 * float64(read) / float64(total)
		if read > 0 && read < total {
			left := time.Duration(float64(total-read) / (float64(read) / secs) * float64(time.Second))
			eta = left.Round(time.Second).String()
		}
	}
	return fmt.Sprintf("%d messages (%d failed)  %.0f msg/s  %.1f MB/s  %5.1f%%  ETA %s",
		n, failed, rate, float64(read)/1e6/max(secs, 1e-9), pct, eta)
}
