// Package daemon wires logsift's stages together: inputs feed one processing
// goroutine per input, which sends decided events to the output fan-out.
// Batches travel between the stages through bounded channels, so a slow
// output slows reading instead of growing memory.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/logsift/logsift/event"
	"github.com/logsift/logsift/filters"
	"github.com/logsift/logsift/inputs"
	"github.com/logsift/logsift/metrics"
	"github.com/logsift/logsift/outputs"
	"github.com/logsift/logsift/positions"
	"github.com/logsift/logsift/record"
	"github.com/logsift/logsift/rules"
)

// Options are a daemon's dependencies.
type Options struct {
	Config  *rules.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics // required
	Stdin   io.Reader
	Stdout  io.Writer
	// Once reads file inputs from their start position to EOF and returns,
	// instead of following them.
	Once bool
	// Positions, when set, supplies saved file offsets and receives every
	// acknowledgement: what all outputs have written.
	Positions *positions.Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TickEvery is how often held events are checked against flush_after
	// and max_wait; 50ms when zero.
	TickEvery time.Duration
}

// Daemon is one running pipeline.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	outs    []outputs.Output
	fanout  *outputs.Fanout
	pipes   []*pipe
	free    chan *event.OutBatch
	toOut   chan *event.OutBatch
	started chan struct{}

	mu    sync.Mutex
	acked map[string]map[string]event.Ack // input -> live path -> last acknowledgement
	// journals are the journal inputs by name: their acknowledgements
	// move a cursor, not a file position.
	journals map[string]*inputs.JournalSource
	// ackGen counts acknowledgements (guarded by mu), so the lag is only
	// recomputed when something moved.
	ackGen uint64
}

// pipe is one input with its processor.
type pipe struct {
	cfg     rules.Input
	src     inputs.Source
	files   *inputs.FileSource // nil for stdin
	ready   <-chan struct{}
	proc    *filters.Processor
	reload  chan []*rules.Rule
	remark  chan *filters.Marker // the marker for the rules after a reload
	metrics *metrics.InputMetrics
	rules   []ruleHandles
	prev    filters.Stats
	prevR   []filters.RuleStats
	summary *summarizer
	names   []string // rule names, indexed like the processor's stats
	// Per resolved record format, indexed like filters.Stats.
	parseErrors [filters.NumFormats]counter
	sources     [filters.NumFormats]gauge
	scratch     []byte
}

type ruleHandles struct {
	name   string
	input  *metrics.RuleMetrics
	status *metrics.RuleStatus
}

const (
	outBatches = 6
	// outBatchBytes is where a processor stops gathering input into one
	// output batch: big enough to amortise writes, small enough to keep
	// memory flat and the bytes in cache on their way out.
	outBatchBytes = 64 << 10
)

// New builds a daemon from a validated configuration. Outputs are opened
// here, so errors such as a missing output directory surface at start.
func New(opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TickEvery <= 0 {
		opts.TickEvery = 50 * time.Millisecond
	}
	d := &Daemon{
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		free:     make(chan *event.OutBatch, outBatches),
		toOut:    make(chan *event.OutBatch, outBatches-2),
		started:  make(chan struct{}),
		acked:    make(map[string]map[string]event.Ack),
		journals: make(map[string]*inputs.JournalSource),
	}
	for range outBatches {
		// At the size a busy input fills them to (one gathering can
		// overshoot outBatchBytes by an input batch), so they are not
		// grown by appends on the way.
		d.free <- &event.OutBatch{Data: make([]byte, 0, 2*outBatchBytes), EventEnds: make([]int, 0, outBatchBytes/64)}
	}
	cfg := opts.Config
	for _, o := range cfg.Outputs {
		out, err := openOutput(o, opts.Stdout, opts.Metrics, d.log)
		if err != nil {
			d.closeOutputs()
			return nil, err
		}
		d.outs = append(d.outs, out)
	}
	d.fanout = outputs.NewFanout(d.outs, opts.Metrics, d.log)
	// Suppressed events travel to the outputs only when one writes them.
	keepSuppressed := false
	for _, o := range d.outs {
		if s, ok := o.(outputs.Selector); !ok || s.Selection().Selects(event.Suppressed) {
			keepSuppressed = true
		}
	}
	for _, in := range cfg.Inputs {
		p, err := d.newPipe(in)
		if err != nil {
			d.closeOutputs()
			return nil, err
		}
		if !keepSuppressed {
			p.proc.DropSuppressed()
		}
		d.pipes = append(d.pipes, p)
	}
	d.setMetricsConfig(cfg)
	return d, nil
}

func openOutput(o rules.OutputSpec, stdout io.Writer, m *metrics.Metrics, log *slog.Logger) (outputs.Output, error) {
	sel, err := outputs.ParseSelection(o.Events)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", o.Name, err)
	}
	switch o.Type {
	case "file":
		f, err := outputs.NewFile(o.Name, o.Path, sel)
		if err != nil {
			return nil, err
		}
		return f, nil
	case "journald":
		return outputs.NewJournald(o.Name, o.Identifier, sel)
	case "otlp":
		c := o.OTLP
		return outputs.NewOTLP(o.Name, outputs.OTLPConfig{
			Endpoint: c.Endpoint, Headers: c.Headers, CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
			Insecure: c.TLS.InsecureSkipVerify, Timeout: c.Timeout, Gzip: c.Gzip, Resource: c.Resource, BatchBytes: c.BatchBytes,
		}, sel, m.Remote.Output(o.Name), log.With("output", o.Name))
	case "syslog":
		c := o.Syslog
		return outputs.NewSyslog(o.Name, outputs.SyslogConfig{
			Address: c.Address, Transport: c.Transport, AppName: c.AppName, Hostname: c.Hostname, Facility: c.Facility,
			CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile, Insecure: c.TLS.InsecureSkipVerify, Timeout: c.Timeout,
		}, sel, m.Remote.Output(o.Name), log.With("output", o.Name))
	default:
		return outputs.NewWriter(o.Name, stdout, sel), nil
	}
}

func (d *Daemon) closeOutputs() {
	for _, o := range d.outs {
		o.Close()
	}
}

func (d *Daemon) newPipe(in rules.Input) (*pipe, error) {
	p := &pipe{
		cfg:     in,
		proc:    filters.NewProcessor(in, d.opts.Config.Rules),
		reload:  make(chan []*rules.Rule, 1),
		remark:  make(chan *filters.Marker, 1),
		metrics: d.opts.Metrics.Input(in.Name),
	}
	p.bindRules(d.opts.Metrics)
	for i := range filters.NumFormats {
		p.parseErrors[i] = p.metrics.ParseErrors(filters.FormatName(i))
		p.sources[i] = p.metrics.Sources(filters.FormatName(i))
	}
	log := d.log.With("input", in.Name)
	p.proc.OnFormat(func(path, format string, detected bool) {
		switch {
		case detected && path == "-" && format == record.Text:
			// A pipeline stage on plain text stays quiet on stderr.
			log.Debug("record format detected", "path", path, "format", format)
		case detected:
			log.Info("record format detected", "path", path, "format", format)
		default:
			log.Debug("record format configured", "path", path, "format", format)
		}
	})
	if d.opts.Config.Summary.Every > 0 {
		label := ""
		if len(d.opts.Config.Inputs) > 1 {
			label = in.Name
		}
		p.summary = newSummarizer(d.opts.Config.Summary.Every, label, d.now())
	}
	if in.Type == rules.InputJournald {
		jc := inputs.JournalConfig{
			Input:        in.Name,
			Select:       in.Journal.JournalctlArgs(),
			StartAt:      in.StartAt,
			Once:         d.opts.Once,
			MaxLineBytes: in.Multiline.MaxBytes,
			OnTruncated: func(dropped int) {
				log.Warn("journal entry's MESSAGE cut at its size bound", "bytes_dropped", dropped)
			},
		}
		if store := d.opts.Positions; store != nil {
			jc.Cursors = store
		}
		js := inputs.NewJournal(jc, log)
		p.src = js
		p.ready = js.Ready()
		d.journals[in.Name] = js
		log.Info("reading the journal", "selection", in.Journal.String())
		return p, nil
	}
	if len(in.Paths) == 1 && in.Paths[0] == "-" {
		r := d.opts.Stdin
		if r == nil {
			return nil, fmt.Errorf("input %q: no standard input", in.Name)
		}
		p.src = inputs.NewReader(in.Name, "-", r, inputs.ReaderOptions{MaxLineBytes: in.Multiline.MaxBytes})
		return p, nil
	}
	var own []string
	for _, o := range d.opts.Config.Outputs {
		if o.Type == "file" && o.Path != "" {
			own = append(own, o.Path)
		}
	}
	if d.opts.Config.Positions.Path != "" {
		own = append(own, d.opts.Config.Positions.Path)
	}
	fc := inputs.FilesConfig{
		Input:        in.Name,
		Paths:        in.Paths,
		Exclude:      in.Exclude,
		Own:          own,
		StartAt:      in.StartAt,
		Rotated:      in.Rotated,
		RotateWait:   in.RotateWait,
		MaxLineBytes: in.Multiline.MaxBytes,
		Once:         d.opts.Once,
		OnCaughtUp: func(_ string, n int64) {
			p.metrics.CatchUpFiles.Inc()
			p.metrics.CatchUpBytes.Add(float64(n))
		},
		OnLost: func(string, int64) { p.metrics.LostFiles.Inc() },
	}
	if store := d.opts.Positions; store != nil {
		fc.Progress = store
	}
	fs := inputs.NewFiles(fc, d.log.With("input", in.Name))
	p.src = fs
	p.files = fs
	p.ready = fs.Ready()
	return p, nil
}

// bindRules resolves the metric handles of the processor's current rules.
func (p *pipe) bindRules(m *metrics.Metrics) {
	rs := p.proc.Rules()
	p.rules = make([]ruleHandles, len(rs))
	p.names = p.names[:0]
	for _, r := range rs {
		p.names = append(p.names, r.Name)
	}
	if p.summary != nil {
		p.summary.reset(p.proc.Stats())
	}
	for i, r := range rs {
		p.rules[i] = ruleHandles{name: r.Name, input: m.InputRule(p.cfg.Name, r.Name), status: m.Rule(r.Name)}
	}
	p.prevR = make([]filters.RuleStats, len(rs))
}

func (d *Daemon) setMetricsConfig(cfg *rules.Config) {
	var ins, rs, outs []string
	for _, in := range cfg.Inputs {
		ins = append(ins, in.Name)
	}
	for _, r := range cfg.Rules {
		rs = append(rs, r.Name)
	}
	for _, o := range cfg.Outputs {
		outs = append(outs, o.Name)
	}
	d.opts.Metrics.SetConfig(ins, rs, outs)
	now := d.now()
	for _, r := range cfg.Rules {
		v := 0.0
		if !r.Expires.IsZero() && now.After(r.Expires) {
			v = 1
		}
		d.opts.Metrics.Rule(r.Name).Expired.Set(v)
	}
}

// Ready reports nil once every input is open and the outputs are writable.
func (d *Daemon) Ready() error {
	select {
	case <-d.started:
	default:
		return errors.New("starting")
	}
	for _, p := range d.pipes {
		if p.ready == nil {
			continue
		}
		select {
		case <-p.ready:
		default:
			return fmt.Errorf("input %q: opening files", p.cfg.Name)
		}
	}
	if err := d.fanout.Healthy(); err != nil {
		return fmt.Errorf("outputs: %w", err)
	}
	return nil
}

// Unmatched lists the inputs' paths that match no file, as "input NAME:
// PATTERN"; missing says whether one of them lacks its directory (a typo,
// rather than a log not created yet).
func (d *Daemon) Unmatched() (paths []string, missing bool) {
	for _, p := range d.pipes {
		if p.files == nil {
			continue
		}
		pats, noDir := p.files.Unmatched()
		for _, pat := range pats {
			what := "no file yet"
			if noDir[pat] {
				what, missing = "no such directory", true
			}
			paths = append(paths, fmt.Sprintf("input %s: %s (%s)", p.cfg.Name, pat, what))
		}
	}
	return paths, missing
}

// Stalled reports whether an output write has been stuck for longer than limit.
func (d *Daemon) Stalled(limit time.Duration) bool {
	return d.fanout.Stalled(d.now(), limit)
}

// ReopenOutputs asks file outputs to reopen their paths (after logrotate).
func (d *Daemon) ReopenOutputs() { d.fanout.Reopen() }

// SetRules switches every input to a new rule set at an event boundary.
func (d *Daemon) SetRules(cfg *rules.Config) {
	d.setMetricsConfig(cfg)
	for _, p := range d.pipes {
		// Drop a reload that was not picked up yet: the newest wins.
		select {
		case <-p.reload:
		default:
		}
		p.reload <- cfg.Rules
	}
}

// Run runs the pipeline until ctx is done or every input has ended (stdin
// at EOF, one-shot files read). Held events are settled and outputs flushed
// before it returns.
func (d *Daemon) Run(ctx context.Context) error {
	inCtx, stopInputs := context.WithCancel(ctx)
	defer stopInputs()

	var procWG sync.WaitGroup
	errs := make(chan error, 2*len(d.pipes)+1)
	for _, p := range d.pipes {
		lines := make(chan *event.LineBatch, 4)
		procWG.Add(1)
		go func() {
			defer procWG.Done()
			d.process(p, lines)
		}()
		read := lines
		if m := p.proc.Marker(); m != nil && p.cfg.Type != rules.InputJournald {
			read = make(chan *event.LineBatch, 2)
			go p.mark(m, read, lines)
		}
		go func() {
			err := p.src.Run(inCtx, read)
			close(read)
			if err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("input %q: %w", p.cfg.Name, err)
			}
		}()
	}
	go func() {
		procWG.Wait()
		close(d.toOut)
	}()
	close(d.started)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go d.watchFiles(watchCtx, time.Second)

	// The fan-out runs on its own context: on shutdown it must still write
	// everything the processors settle.
	outCtx, stopOut := context.WithCancel(context.Background())
	defer stopOut()
	outDone := make(chan error, 1)
	go func() {
		outDone <- d.fanout.Run(outCtx, d.toOut, d.recycle)
	}()

	var err error
	select {
	case err = <-outDone:
		// Outputs gave up (e.g. stdout's reader went away): stop reading.
		stopInputs()
		go func() {
			for b := range d.toOut {
				d.recycle(b)
			}
		}()
	case <-waitChan(&procWG):
		err = <-outDone
	}
	select {
	case e := <-errs:
		if err == nil {
			err = e
		}
	default:
	}
	d.closeOutputs()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func waitChan(wg *sync.WaitGroup) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		wg.Wait()
		close(c)
	}()
	return c
}

// recycle is called once every output has written b: its acknowledgements
// become saved positions, and the batch goes back to the free list.
func (d *Daemon) recycle(b *event.OutBatch) {
	if len(b.Acks) > 0 {
		d.mu.Lock()
		for _, a := range b.Acks {
			if a.Path == "-" {
				continue
			}
			if j := d.journals[a.Input]; j != nil {
				j.Acknowledge(a)
				continue
			}
			if d.opts.Positions != nil {
				d.opts.Positions.Ack(a.Path, a.File.Dev, a.File.Inode, a.File.Generation, a.Offset)
			}
			m := d.acked[a.Input]
			if m == nil {
				m = make(map[string]event.Ack)
				d.acked[a.Input] = m
			}
			m[a.Path] = a
		}
		d.ackGen++
		d.mu.Unlock()
	}
	b.Reset()
	d.free <- b
}

// lagEvery is how often the lag is measured while nothing is acknowledged.
const lagEvery = 10 * time.Second

// watchFiles keeps logsift_input_files and logsift_input_lag_bytes current:
// the lag is what the files hold beyond what every output has written.
func (d *Daemon) watchFiles(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var seenGen uint64
	var last time.Time
	for {
		// The lag needs a stat per file: taken when acknowledgements
		// moved, and every lagEvery while they do not (a stalled
		// output, idle files).
		d.mu.Lock()
		gen := d.ackGen
		d.mu.Unlock()
		due := gen != seenGen || time.Since(last) >= lagEvery
		seenGen = gen
		if due {
			last = time.Now()
		}
		for _, p := range d.pipes {
			if p.files == nil {
				continue
			}
			p.metrics.Files.Set(float64(p.files.Files()))
			if !due {
				continue
			}
			var lag int64
			d.mu.Lock()
			for path, a := range d.acked[p.cfg.Name] {
				fi, err := os.Stat(path)
				if err != nil {
					delete(d.acked[p.cfg.Name], path)
					continue
				}
				// While a rotated file is still being read, the live file
				// is all unread: the lag is at least its size.
				n := fi.Size()
				if k, ok := positions.KeyOf(fi); !ok || (k.Dev == a.File.Dev && k.Inode == a.File.Inode) {
					n -= a.Offset
				}
				if n > 0 {
					lag += n
				}
			}
			d.mu.Unlock()
			p.metrics.LagBytes.Set(float64(lag))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// mark runs an input's marker between the input and the processor, on a
// goroutine of its own, so that finding which lines can go in runs takes
// no time from processing them (see filters.Marker). After a reload the
// processor hands over a marker for its new rules.
func (p *pipe) mark(m *filters.Marker, in <-chan *event.LineBatch, out chan<- *event.LineBatch) {
	defer close(out)
	for b := range in {
		select {
		case m = <-p.remark:
		default:
		}
		m.Mark(b)
		out <- b
	}
}

// process is one input's processing loop: it owns the input's processor.
//
// Held events are checked every TickEvery, but only while there are some
// (or a summary is configured): an idle input costs no wake-ups.
func (d *Daemon) process(p *pipe, lines <-chan *event.LineBatch) {
	tick := time.NewTicker(d.opts.TickEvery)
	defer tick.Stop()
	ticking := true
	// A journal input has a source per writer (unit, identifier, PID):
	// those of writers gone quiet are dropped now and then.
	_, journal := d.journals[p.cfg.Name]
	var forgot time.Time
	forget := func() {
		if now := d.now(); journal && now.Sub(forgot) >= time.Minute {
			forgot = now
			p.proc.Forget(now.Add(-inputs.StreamIdle))
		}
	}
	pace := func() {
		need := p.summary != nil || p.proc.Held() > 0
		switch {
		case need && !ticking:
			tick.Reset(d.opts.TickEvery)
		case !need && ticking:
			tick.Stop()
		}
		ticking = need
	}
	var out *event.OutBatch
	send := func() {
		if out != nil && !out.Empty() {
			d.toOut <- out
			out = nil
		}
		p.observe()
	}
	take := func() *event.OutBatch {
		if out == nil {
			out = <-d.free
			out.Input = p.cfg.Name
		}
		return out
	}
	// finish settles everything held once the input has ended.
	finish := func() {
		p.proc.Close(take())
		send()
		if out != nil {
			d.recycle(out)
		}
	}
	for {
		select {
		case b, ok := <-lines:
			if !ok {
				finish()
				return
			}
			p.proc.Process(b, take(), d.now())
			b.Release()
			// Gather what is already waiting into the same output batch,
			// up to a size that keeps write latency low.
			for len(out.Data) < outBatchBytes {
				select {
				case b2, ok := <-lines:
					if !ok {
						finish()
						return
					}
					p.proc.Process(b2, out, d.now())
					b2.Release()
					continue
				default:
				}
				break
			}
			send()
			forget()
			pace()
		case rs := <-p.reload:
			p.observe()
			p.proc.SetRules(rs, take())
			select {
			case <-p.remark:
			default:
			}
			p.remark <- p.proc.Marker()
			p.bindRules(d.opts.Metrics)
			send()
			pace()
		case <-tick.C:
			now := d.now()
			p.proc.Tick(now, take())
			if p.summary != nil {
				p.scratch = p.summary.appendDue(p.scratch[:0], now, p.proc.Stats(), p.names)
				if len(p.scratch) > 0 {
					out.Add(p.scratch, event.Forwarded)
				}
			}
			send()
			pace()
		}
	}
}

// observe turns the processor's cumulative counts into metric increments.
func (p *pipe) observe() {
	st := p.proc.Stats()
	m := p.metrics
	add(m.Lines, st.Lines, &p.prev.Lines)
	add(m.Bytes, st.Bytes, &p.prev.Bytes)
	add(m.Events, st.Events, &p.prev.Events)
	add(m.LinesForwarded, st.LinesForwarded, &p.prev.LinesForwarded)
	add(m.Truncated, st.Truncated, &p.prev.Truncated)
	m.HeldLines.Set(float64(p.proc.Held()))
	for i := range filters.NumFormats {
		add(p.parseErrors[i], st.ParseErrors[i], &p.prev.ParseErrors[i])
		p.sources[i].Set(float64(st.Sources[i]))
	}
	for i := range st.Rules {
		cur, prev, h := &st.Rules[i], &p.prevR[i], &p.rules[i]
		add(h.input.EventsSuppressed, cur.EventsSuppressed, &prev.EventsSuppressed)
		add(h.input.LinesSuppressed, cur.LinesSuppressed, &prev.LinesSuppressed)
		add(h.status.Sampled, cur.Sampled, &prev.Sampled)
		add(h.status.Unpaired, cur.Unpaired, &prev.Unpaired)
		if cur.LastMatch.After(prev.LastMatch) {
			prev.LastMatch = cur.LastMatch
			h.status.LastMatch.Set(float64(cur.LastMatch.UnixNano()) / 1e9)
		}
	}
}

type (
	counter interface{ Add(float64) }
	gauge   interface{ Set(float64) }
)

func add(c counter, cur uint64, prev *uint64) {
	if cur > *prev {
		c.Add(float64(cur - *prev))
		*prev = cur
	}
}

// InputReport is an input's totals, for a summary at exit.
type InputReport struct {
	Input          string
	Lines          uint64
	LinesForwarded uint64
	Rules          []RuleReport
}

// RuleReport is one rule's totals within an input.
type RuleReport struct {
	Rule             string
	EventsSuppressed uint64
	LinesSuppressed  uint64
	Unpaired         uint64
}

// Report returns every input's totals. Call it after Run has returned.
func (d *Daemon) Report() []InputReport {
	var out []InputReport
	for _, p := range d.pipes {
		st := p.proc.Stats()
		r := InputReport{Input: p.cfg.Name, Lines: st.Lines, LinesForwarded: st.LinesForwarded}
		for i, rule := range p.proc.Rules() {
			rs := st.Rules[i]
			r.Rules = append(r.Rules, RuleReport{Rule: rule.Name, EventsSuppressed: rs.EventsSuppressed, LinesSuppressed: rs.LinesSuppressed, Unpaired: rs.Unpaired})
		}
		out = append(out, r)
	}
	return out
}
