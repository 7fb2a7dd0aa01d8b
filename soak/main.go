// Command soak runs logsift for a long stretch against a realistic log that
// an application writes and rotates, reloads the configuration halfway,
// and checks that every line is accounted for: the lines written are the
// lines logsift read, which are the lines forwarded plus the lines
// suppressed, both by the output files and by /metrics. `make soak` runs it
// on 10M lines.
//
//	soak -logsift bin/logsift -lines 10000000 -rate 100000 -rotate 1000000
//
// The log comes from loggen (Werkzeug with false-500 events). logsift
// writes three outputs: forwarded events, suppressed events, and all
// events. The last must equal the log byte for byte (every event exactly
// once, in order, whatever the rules decided); loggen's ideal output must
// be contained, in order, in the forwarded one. Pairs that the reload or
// a rotation separated are forwarded unpaired, so the forwarded output may
// hold a few more lines than the ideal; soak reports how many.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/logsift/logsift/loggen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	logsift string
	lines   int
	rate    int
	rotate  int
	seed    uint64
	dir     string
	keep    bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.logsift, "logsift", "bin/logsift", "logsift binary to run")
	fs.IntVar(&o.lines, "lines", 10_000_000, "lines to write (loggen stops at the next event boundary)")
	fs.IntVar(&o.rate, "rate", 100_000, "lines per second the application writes")
	fs.IntVar(&o.rotate, "rotate", 1_000_000, "rotate the log by rename every this many lines")
	fs.Uint64Var(&o.seed, "seed", 1, "loggen seed")
	fs.StringVar(&o.dir, "dir", "", "work directory (default: a new temporary directory, removed after a successful run)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "logsift-soak-")
		if err != nil {
			log.Error("work directory", "err", err)
			return 1
		}
		o.dir = dir
	}
	r, err := soak(o, log)
	if r != nil {
		r.print(stdout)
	}
	if err != nil {
		log.Error("soak failed; work directory kept", "dir", o.dir, "err", err)
		return 1
	}
	if !o.keep {
		os.RemoveAll(o.dir)
	}
	fmt.Fprintln(stdout, "soak: OK")
	return 0
}

// report is what a soak run measured.
type report struct {
	written, writtenBytes      int64
	rotations                  int
	writeTime, catchUp         time.Duration
	read, fwd, sup             float64 // metrics
	fwdOut, supOut             int64   // output files, lines
	allSame                    bool
	expected, extra            int64
	falseEvents                int
	eventsSuppressed, unpaired float64
	reloadOK                   float64
	peakRSS                    int64
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "lines written           %12d (%d MB, %d rotations, in %v)\n", r.written, r.writtenBytes/1e6, r.rotations, r.writeTime.Round(time.Second))
	fmt.Fprintf(w, "lines read (metrics)    %12.0f\n", r.read)
	fmt.Fprintf(w, "  forwarded (metrics)   %12.0f   output file %12d\n", r.fwd, r.fwdOut)
	fmt.Fprintf(w, "  suppressed (metrics)  %12.0f   output file %12d\n", r.sup, r.supOut)
	fmt.Fprintf(w, "  forwarded+suppressed  %12.0f   output files %11d\n", r.fwd+r.sup, r.fwdOut+r.supOut)
	fmt.Fprintf(w, "all-events output == log: %v\n", r.allSame)
	fmt.Fprintf(w, "ideal output lines      %12d   forwarded beyond it: %d (pairs split by the reload or a rotation)\n", r.expected, r.extra)
	fmt.Fprintf(w, "false-500 events        %12d   suppressed events (metrics) %.0f, unpaired %.0f\n", r.falseEvents, r.eventsSuppressed, r.unpaired)
	fmt.Fprintf(w, "reload successful       %12.0f\n", r.reloadOK)
	fmt.Fprintf(w, "caught up %v after the writer finished; peak RSS %.1f MiB\n", r.catchUp.Round(time.Millisecond), float64(r.peakRSS)/(1<<20))
}

const baseConfig = `inputs:
  - name: app
    paths: [%q]
    start_at: beginning
outputs:
  - {type: file, name: forwarded, path: %q, events: forwarded}
  - {type: file, name: suppressed, path: %q, events: suppressed}
  - {type: file, name: all, path: %q, events: all}
positions: {path: %q}
metrics: {listen: %q}
`

// reloadRule is added by the reload: a real change that matches nothing.
const reloadRule = `rules:
  - name: soak-reload
    description: added by the soak's reload; matches nothing loggen writes
    match: {contains: "logsift soak: no such line"}
    action: drop
`

func soak(o options, log *slog.Logger) (*report, error) {
	r := &report{}
	p := func(name string) string { return filepath.Join(o.dir, name) }
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	config := fmt.Sprintf(baseConfig, p("app.log"), p("forwarded.log"), p("suppressed.log"), p("all.log"), p("positions.json"), addr)
	if err := os.WriteFile(p("logsift.yaml"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	errLog, err := os.Create(p("logsift.stderr"))
	if err != nil {
		return nil, err
	}
	defer errLog.Close()
	// The application's log exists before logsift starts, as in any
	// deployment: a file created later is found by the next rescan (1s),
	// and one rotated away before that is never matched by the glob.
	app, err := newAppLog(p("app.log"), o.rotate, o.rate)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.logsift, "run", "-config", p("logsift.yaml"))
	cmd.Stderr = errLog
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	m := &metricsClient{addr: addr}
	if err := waitUntil(30*time.Second, exited, func() (bool, error) { return m.ready(), nil }); err != nil {
		return nil, fmt.Errorf("logsift not ready: %w", err)
	}
	log.Info("logsift ready", "pid", cmd.Process.Pid, "dir", o.dir)

	// The application: loggen writing into the paced, rotating log file.
	app.start = time.Now()
	expected, err := os.Create(p("expected.log"))
	if err != nil {
		return nil, err
	}
	type genResult struct {
		stats loggen.Stats
		err   error
	}
	generated := make(chan genResult, 1)
	start := time.Now()
	go func() {
		bw := bufio.NewWriterSize(expected, 1<<20)
		st, err := loggen.Generate(loggen.Config{Lines: o.lines, Seed: o.seed}, app, bw)
		if err == nil {
			err = bw.Flush()
		}
		err = errors.Join(err, app.close(), expected.Close())
		generated <- genResult{st, err}
	}()

	reloaded := false
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	var gen genResult
wait:
	for {
		select {
		case gen = <-generated:
			break wait
		case err := <-exited:
			return nil, fmt.Errorf("logsift exited while the log was written: %v", err)
		case <-tick.C:
		}
		n := app.lines.Load()
		if !reloaded && n >= int64(o.lines/2) {
			reloaded = true
			if err := os.WriteFile(p("logsift.yaml"), []byte(config+reloadRule), 0o644); err != nil {
				return nil, err
			}
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				return nil, err
			}
			log.Info("reloaded the configuration", "lines_written", n)
		}
		if time.Since(lastReport) >= 10*time.Second {
			lastReport = time.Now()
			log.Info("writing", "lines", n, "rotations", app.rotations.Load())
		}
	}
	if gen.err != nil {
		return nil, fmt.Errorf("writing the log: %w", gen.err)
	}
	r.writeTime = time.Since(start)
	r.written, r.writtenBytes, r.rotations = app.lines.Load(), app.bytes, int(app.rotations.Load())
	r.falseEvents = gen.stats.FalseEvents
	log.Info("log written", "lines", r.written, "seconds", r.writeTime.Seconds())

	// Wait for logsift to read everything and settle every held event;
	// give up when it makes no progress for 30s.
	in := map[string]string{"input": "app"}
	done := time.Now()
	var fams map[string]*dto.MetricFamily
	lastRead, lastProgress := -1.0, time.Now()
	err = waitUntil(10*time.Minute, exited, func() (bool, error) {
		if fams, err = m.scrape(); err != nil {
			return false, err
		}
		read := sum(fams, "logsift_input_lines_total", in)
		if read != lastRead {
			lastRead, lastProgress = read, time.Now()
		} else if time.Since(lastProgress) > 30*time.Second {
			return false, stopError{fmt.Errorf("no progress for 30s at %.0f of %d lines read", read, r.written)}
		}
		fi, err := os.Stat(p("all.log"))
		return err == nil && read == float64(r.written) &&
			sum(fams, "logsift_input_held_lines", in) == 0 && fi.Size() == r.writtenBytes, nil
	})
	r.catchUp = time.Since(done)
	if fams == nil {
		return r, fmt.Errorf("logsift did not catch up: %w", err)
	}
	r.read = sum(fams, "logsift_input_lines_total", in)
	r.fwd = sum(fams, "logsift_lines_forwarded_total", in)
	r.sup = sum(fams, "logsift_lines_suppressed_total", in)
	r.eventsSuppressed = sum(fams, "logsift_events_suppressed_total", in)
	r.unpaired = sum(fams, "logsift_events_unpaired_total", nil)
	r.reloadOK = sum(fams, "logsift_config_last_reload_successful", nil)
	reloadRuleSeen := has(fams, "logsift_events_suppressed_total", map[string]string{"rule": "soak-reload"})
	if hwm, err := peakRSS(cmd.Process.Pid); err == nil {
		r.peakRSS = hwm
	}
	if err != nil {
		return r, fmt.Errorf("logsift did not catch up: %w", err)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			return r, fmt.Errorf("logsift exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		return r, errors.New("logsift did not exit within 30s of SIGTERM")
	}

	// The outputs.
	if r.fwdOut, _, err = countLines(p("forwarded.log"), nil); err != nil {
		return r, err
	}
	if r.supOut, _, err = countLines(p("suppressed.log"), nil); err != nil {
		return r, err
	}
	_, allSum, err := countLines(p("all.log"), sha256.New())
	if err != nil {
		return r, err
	}
	r.allSame = bytes.Equal(allSum, app.sum.Sum(nil))
	r.expected, r.extra, err = subsequence(p("expected.log"), p("forwarded.log"))
	if err != nil {
		return r, err
	}

	var problems []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	check(int64(gen.stats.Lines) == r.written, "loggen wrote %d lines, the log file got %d", gen.stats.Lines, r.written)
	check(r.read == float64(r.written), "logsift read %.0f lines, %d were written", r.read, r.written)
	check(r.read == r.fwd+r.sup, "metrics: read %.0f != forwarded %.0f + suppressed %.0f", r.read, r.fwd, r.sup)
	check(float64(r.fwdOut) == r.fwd, "forwarded output holds %d lines, metrics say %.0f", r.fwdOut, r.fwd)
	check(float64(r.supOut) == r.sup, "suppressed output holds %d lines, metrics say %.0f", r.supOut, r.sup)
	check(r.fwdOut+r.supOut == r.written, "outputs hold %d + %d lines, %d were written", r.fwdOut, r.supOut, r.written)
	check(r.allSame, "the all-events output is not the log byte for byte")
	check(r.extra >= 0, "the ideal output is not contained in the forwarded output: logsift dropped lines it should keep")
	check(r.reloadOK == 1 && reloadRuleSeen, "the reload did not succeed or its rule has no series")
	check(r.eventsSuppressed > 0, "nothing was suppressed")
	if len(problems) > 0 {
		return r, errors.New(strings.Join(problems, "; "))
	}
	return r, nil
}

// appLog is the application's log file: it counts and hashes what is
// written, paces writing to a rate, and rotates by rename at a line
// boundary every rotate lines.
type appLog struct {
	path      string
	rotate    int64
	rate      int
	f         *os.File
	w         *bufio.Writer
	sum       hash.Hash
	start     time.Time
	inFile    int64 // lines in the current file
	bytes     int64
	lines     atomic.Int64
	rotations atomic.Int64
}

func newAppLog(path string, rotate, rate int) (*appLog, error) {
	a := &appLog{path: path, rotate: int64(rotate), rate: rate, sum: sha256.New(), start: time.Now()}
	return a, a.open()
}

func (a *appLog) open() error {
	f, err := os.OpenFile(a.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	a.f, a.w = f, bufio.NewWriterSize(f, 64<<10)
	return nil
}

// Write appends p, rotating after every rotate-th line and sleeping as
// needed to keep to the rate.
func (a *appLog) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p
		// Cut after the line that completes the current file.
		need := a.rotate - a.inFile
		for i, c := range p {
			if c == '\n' {
				if need--; need == 0 {
					chunk = p[:i+1]
					break
				}
			}
		}
		n, err := a.w.Write(chunk)
		a.sum.Write(chunk[:n])
		a.bytes += int64(n)
		written += n
		nl := int64(bytes.Count(chunk[:n], []byte{'\n'}))
		a.inFile += nl
		lines := a.lines.Add(nl)
		if err != nil {
			return written, err
		}
		p = p[n:]
		if a.inFile == a.rotate {
			if err := a.rotateFile(); err != nil {
				return written, err
			}
		}
		if ahead := time.Until(a.start.Add(time.Duration(lines) * time.Second / time.Duration(a.rate))); ahead > 0 {
			if err := a.w.Flush(); err != nil {
				return written, err
			}
			time.Sleep(ahead)
		}
	}
	return written, nil
}

func (a *appLog) rotateFile() error {
	if err := a.close(); err != nil {
		return err
	}
	k := a.rotations.Add(1)
	if err := os.Rename(a.path, fmt.Sprintf("%s.%d", a.path, k)); err != nil {
		return err
	}
	a.inFile = 0
	return a.open()
}

func (a *appLog) close() error {
	if a.f == nil {
		return nil
	}
	err := errors.Join(a.w.Flush(), a.f.Close())
	a.f = nil
	return err
}

// countLines counts the lines of the file at path, feeding its bytes to h
// if not nil.
func countLines(path string, h hash.Hash) (int64, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if h != nil {
			h.Write(buf[:k])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	if h == nil {
		return n, nil, nil
	}
	return n, h.Sum(nil), nil
}

// subsequence checks that the lines of want appear in got in order, other
// lines of got in between allowed. It returns want's line count and how
// many more lines got has, or extra -1 when want is not contained.
func subsequence(want, got string) (wantLines, extra int64, err error) {
	wf, err := os.Open(want)
	if err != nil {
		return 0, 0, err
	}
	defer wf.Close()
	gf, err := os.Open(got)
	if err != nil {
		return 0, 0, err
	}
	defer gf.Close()
	ws, gs := bufio.NewReaderSize(wf, 1<<20), bufio.NewReaderSize(gf, 1<<20)
	var gotLines int64
	w, werr := ws.ReadBytes('\n')
	for {
		g, gerr := gs.ReadBytes('\n')
		if len(g) > 0 {
			gotLines++
			if len(w) > 0 && bytes.Equal(g, w) {
				wantLines++
				w, werr = ws.ReadBytes('\n')
			}
		}
		if gerr != nil {
			break
		}
	}
	if werr != nil && !errors.Is(werr, io.EOF) {
		return wantLines, -1, werr
	}
	if len(w) > 0 {
		return wantLines, -1, nil
	}
	return wantLines, gotLines - wantLines, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// stopError, returned by a waitUntil condition, ends the wait at once.
type stopError struct{ error }

// waitUntil polls cond every 100ms until it holds, the timeout passes, the
// process exits or cond returns a stopError. Other errors from cond are
// retried and reported at the timeout.
func waitUntil(timeout time.Duration, exited <-chan error, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		var stop stopError
		if errors.As(err, &stop) {
			return err
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("timed out after %v: %w", timeout, err)
			}
			return fmt.Errorf("timed out after %v", timeout)
		case err := <-exited:
			return fmt.Errorf("logsift exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// metricsClient reads logsift's HTTP endpoints.
type metricsClient struct{ addr string }

func (m *metricsClient) ready() bool {
	resp, err := http.Get("http://" + m.addr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (m *metricsClient) scrape() (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get("http://" + m.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return fams, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse /metrics: %w", err)
		}
		fams[mf.GetName()] = mf
	}
}

// has reports whether a family has a series whose labels include match.
func has(fams map[string]*dto.MetricFamily, name string, match map[string]string) bool {
	for _, m := range fams[name].GetMetric() {
		if labelsInclude(m, match) {
			return true
		}
	}
	return false
}

func labelsInclude(m *dto.Metric, match map[string]string) bool {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// sum adds the values of a family's series whose labels include match.
func sum(fams map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	var total float64
	for _, m := range fams[name].GetMetric() {
		if !labelsInclude(m, match) {
			continue
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return total
}

// peakRSS reads a live process's peak resident memory (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
