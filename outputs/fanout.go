package outputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/logsift/logsift/event"
)

// Observer receives per-output counts, e.g. for the
// logsift_events_forwarded_total and logsift_output_errors_total metrics.
// It is called from Fanout.Run's goroutine.
type Observer interface {
	// Written reports that output wrote events events of one batch.
	Written(output string, events int)
	// Failed reports one failed attempt to write, flush or reopen.
	Failed(output string, err error)
}

type nopObserver struct{}

func (nopObserver) Written(string, int)  {}
func (nopObserver) Failed(string, error) {}

const (
	// flushEvery bounds how long written events may sit in a buffer.
	flushEvery = 100 * time.Millisecond
	// maxPending bounds how many written batches wait for a flush before
	// they are acknowledged, so the producer's batches come back even
	// when input never pauses.
	maxPending = 64
	// Retries of a failing output start at backoffMin and double up to
	// backoffMax.
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// Fanout writes batches to a set of outputs and acknowledges each batch
// once every output has written it. Outputs are used only from Run's
// goroutine; Reopen, Healthy and Stalled may be called from any goroutine.
type Fanout struct {
	outs      []Output
	sels      []Selection
	selective []bool // whether sels[i] applies (the output is a Selector)
	obs       Observer
	log       *slog.Logger

	reopen chan struct{}

	// epoch is the monotonic base for busySince, which holds the time
	// (nanoseconds since epoch, plus one) at which the write or flush in
	// progress started, or 0 when none is.
	epoch     time.Time
	busySince atomic.Int64

	mu       sync.Mutex
	failures []error     // per output: the error of an unrecovered streak
	since    []time.Time // per output: when the streak began

	failing []int // per output: failed attempts in the current streak
	pending []*event.OutBatch

	// Tunables, fixed at construction; tests shorten them.
	flushEvery    time.Duration
	flushWhenIdle bool
	backoffMin    time.Duration
	backoffMax    time.Duration
}

// NewFanout returns a Fanout over outs. obs and logger may be nil.
func NewFanout(outs []Output, obs Observer, logger *slog.Logger) *Fanout {
	if obs == nil {
		obs = nopObserver{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Fanout{
		outs:          outs,
		sels:          make([]Selection, len(outs)),
		selective:     make([]bool, len(outs)),
		obs:           obs,
		log:           logger,
		reopen:        make(chan struct{}, 1),
		epoch:         time.Now(),
		failures:      make([]error, len(outs)),
		since:         make([]time.Time, len(outs)),
		failing:       make([]int, len(outs)),
		pending:       make([]*event.OutBatch, 0, maxPending),
		flushEvery:    flushEvery,
		flushWhenIdle: true,
		backoffMin:    backoffMin,
		backoffMax:    backoffMax,
	}
	for i, o := range outs {
		if s, ok := o.(Selector); ok {
			f.sels[i], f.selective[i] = s.Selection(), true
		}
	}
	return f
}

// Run writes every batch from in to every output and then calls done with
// it, in order, exactly once per batch. done acknowledges the batch: it is
// called only after the batch's bytes have been flushed to every output's
// destination, so the caller may save positions and recycle the batch.
// Up to 64 written batches may wait for a flush before done is called.
//
// Buffers are flushed whenever in has no batch ready, at least every
// 100 ms while they hold data, and when in is closed; Run then returns nil.
// Give in a buffer: batches that queue up are then written with one flush.
// A failing output is retried with backoff (100 ms doubling to 5 s) until
// it succeeds, honouring Reopen requests meanwhile; the batch is never
// skipped. If an output's reader went away (EPIPE), Run returns at once
// with an error wrapping ErrClosedPipe. If ctx is done, Run returns
// ctx.Err() without flushing; batches not yet acknowledged stay so.
//
// Run must not be called concurrently with itself.
func (f *Fanout) Run(ctx context.Context, in <-chan *event.OutBatch, done func(*event.OutBatch)) error {
	timer := time.NewTimer(f.flushEvery)
	timer.Stop()
	armed := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.reopen:
			f.reopenAll()
		case <-timer.C:
			armed = false
			if err := f.flushAll(ctx, done); err != nil {
				return err
			}
		case b, ok := <-in:
			if !ok {
				return f.flushAll(ctx, done)
			}
			// A Reopen that returned before b was sent applies to b.
			select {
			case <-f.reopen:
				f.reopenAll()
			default:
			}
			if err := f.writeAll(ctx, b); err != nil {
				return err
			}
			f.pending = append(f.pending, b)
			switch {
			case len(f.pending) >= maxPending || (f.flushWhenIdle && len(in) == 0):
				if err := f.flushAll(ctx, done); err != nil {
					return err
				}
			case !armed:
				timer.Reset(f.flushEvery)
				armed = true
			}
		}
	}
}

// writeAll writes b to every output, retrying each until it succeeds.
func (f *Fanout) writeAll(ctx context.Context, b *event.OutBatch) error {
	for i, o := range f.outs {
		if err := f.retry(ctx, i, b); err != nil {
			return err
		}
		n := SelectAll.Count(b)
		if f.selective[i] {
			n = f.sels[i].Count(b)
		}
		if n > 0 {
			f.obs.Written(o.Name(), n)
		}
	}
	return nil
}

// flushAll flushes every output, retrying each until it succeeds, and then
// acknowledges the pending batches.
func (f *Fanout) flushAll(ctx context.Context, done func(*event.OutBatch)) error {
	if len(f.pending) == 0 {
		return nil
	}
	for i := range f.outs {
		if err := f.retry(ctx, i, nil); err != nil {
			return err
		}
	}
	for i, b := range f.pending {
		done(b)
		f.pending[i] = nil
	}
	f.pending = f.pending[:0]
	return nil
}

// retry writes b to output i, or flushes it when b is nil, until that
// succeeds, ctx is done or the output's reader is gone.
func (f *Fanout) retry(ctx context.Context, i int, b *event.OutBatch) error {
	o := f.outs[i]
	delay := f.backoffMin
	for {
		f.busySince.Store(int64(time.Since(f.epoch)) + 1)
		var err error
		if b != nil {
			err = o.Write(b)
		} else {
			err = o.Flush()
		}
		f.busySince.Store(0)
		if err == nil {
			f.recovered(i)
			return nil
		}
		if closedPipe(err) {
			return fmt.Errorf("%w: %w", ErrClosedPipe, err)
		}
		f.failed(i, err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-f.reopen:
			t.Stop()
			f.reopenAll()
		case <-t.C:
		}
		delay = min(2*delay, f.backoffMax)
	}
}

func closedPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}

// failed counts a failed attempt and logs the first of a streak.
func (f *Fanout) failed(i int, err error) {
	name := f.outs[i].Name()
	f.obs.Failed(name, err)
	if f.failing[i] == 0 {
		f.log.Error("output failed; retrying until it recovers", "output", name, "err", err)
	}
	f.failing[i]++
	f.mu.Lock()
	if f.failures[i] == nil {
		f.since[i] = time.Now()
	}
	f.failures[i] = err
	f.mu.Unlock()
}

// recovered ends output i's failure streak, if any.
func (f *Fanout) recovered(i int) {
	if f.failing[i] == 0 {
		return
	}
	f.log.Info("output recovered", "output", f.outs[i].Name(), "failed_attempts", f.failing[i])
	f.failing[i] = 0
	f.mu.Lock()
	f.failures[i] = nil
	f.mu.Unlock()
}

// reopenAll reopens every output that writes to a path. A failure starts
// or continues the output's failure streak, which its next successful
// write or flush ends.
func (f *Fanout) reopenAll() {
	for i, o := range f.outs {
		r, ok := o.(Reopener)
		if !ok {
			continue
		}
		f.busySince.Store(int64(time.Since(f.epoch)) + 1)
		err := r.Reopen()
		f.busySince.Store(0)
		if err != nil {
			f.failed(i, err)
			continue
		}
		f.log.Debug("output reopened", "output", o.Name())
	}
}

// Reopen asks Run to reopen every reopenable output (SIGUSR1 after
// logrotate) before it writes the next batch, or between retries of a
// failing one. Batches received after Reopen returns go to the reopened
// files. It never blocks and is safe from any goroutine.
func (f *Fanout) Reopen() {
	select {
	case f.reopen <- struct{}{}:
	default: // a request is already pending
	}
}

// Healthy returns nil, or the errors of outputs that are failing and have
// not recovered since (for /readyz). An output that sends over the network
// (a Tolerant) is reported only once it has failed for longer than it
// tolerates: a receiver restarting is not an outage.
func (f *Fanout) Healthy() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for i, err := range f.failures {
		if err == nil {
			continue
		}
		if t, ok := f.outs[i].(Tolerant); ok {
			if d := time.Since(f.since[i]); d < t.Tolerates() {
				continue
			} else {
				err = fmt.Errorf("failing for %s: %w", d.Round(time.Second), err)
			}
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Stalled reports whether a single write, flush or reopen has been in
// progress for longer than limit at now (for the systemd watchdog): the
// destination blocks, as a full pipe whose reader stopped reading does.
// Waiting between retries of a failing output is not a stall.
func (f *Fanout) Stalled(now time.Time, limit time.Duration) bool {
	since := f.busySince.Load()
	if since == 0 {
		return false
	}
	started := f.epoch.Add(time.Duration(since - 1))
	return now.Sub(started) > limit
}

// Close closes every output; call it after Run has returned.
func (f *Fanout) Close() error {
	var errs []error
	for _, o := range f.outs {
		if err := o.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
