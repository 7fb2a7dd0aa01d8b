// Package loggen generates realistic Flask/Werkzeug server logs, and with
// each log the exact output an ideal logsift filter produces for it.
//
// A log imitates one server style, with line shapes copied from real
// captures: access lines, app log lines, real tracebacks that must be kept,
// near misses, and the false HTTP 500 that Werkzeug-based servers log when
// a WebSocket session closes (a traceback block plus a websocket "500"
// access line, which the expected output omits together). Generation is
// deterministic: the same Config always yields the same bytes. It streams,
// so memory stays flat however many lines are asked for.
package loggen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

var newline = []byte{'\n'}

// Style names accepted in Config.Style.
const (
	// StyleWerkzeug is socketio.run on the Werkzeug dev server with default
	// logging, Python 3.11: access line, then a 10-line block.
	StyleWerkzeug = "werkzeug"
	// StyleWerkzeugPy310 is StyleWerkzeug on Python 3.10, whose tracebacks
	// have no caret lines: a 9-line block.
	StyleWerkzeugPy310 = "werkzeug-py310"
	// StyleBasicConfig is StyleWerkzeug with logging.basicConfig(INFO):
	// "INFO:werkzeug:" access lines with ANSI colours, "ERROR:werkzeug:"
	// block headers.
	StyleBasicConfig = "basicconfig"
	// StyleEventlet is a threading-mode app under eventlet.wsgi: a
	// headerless block ending in an empty line, access line after it.
	StyleEventlet = "eventlet"
	// StyleGunicorn is a threading-mode app under gunicorn's gthread worker:
	// a 19-line AttributeError block, access line after it.
	StyleGunicorn = "gunicorn"
)

// Styles returns the accepted Style values.
func Styles() []string {
	return []string{StyleWerkzeug, StyleWerkzeugPy310, StyleBasicConfig, StyleEventlet, StyleGunicorn}
}

// DefaultFalseShare is the share of events that are false-500 blocks when
// Config.FalseShare is zero; with StyleWerkzeug their blocks and access
// lines make about a third of all lines.
const DefaultFalseShare = 0.05

// MaxFalseShare is the largest accepted Config.FalseShare. Every false-500
// block comes with its own access line event, so the share cannot reach
// one half.
const MaxFalseShare = 0.4

// Config selects what Generate writes.
type Config struct {
	// Lines is the approximate size of the log: generation stops at the
	// first event boundary at or after this many lines.
	Lines int
	// Seed selects the pseudo-random sequence.
	Seed uint64
	// Style is the server whose output is imitated, one of Styles();
	// empty means StyleWerkzeug.
	Style string
	// FalseShare is the fraction of events that are false-500 blocks.
	// Zero means DefaultFalseShare; a negative value generates none.
	FalseShare float64
	// Format is the record format of the log and of the expected output,
	// one of Formats(); empty means FormatText.
	Format string
}

// Stats describes a generated log. Events are counted as logsift's python
// multiline preset assembles them: a single line, or a header line with its
// traceback and exception line (and, for eventlet, the empty line after).
type Stats struct {
	Lines           int // lines in the log
	Events          int // events in the log
	FalseEvents     int // false-500 blocks: the events a filter suppresses
	SuppressedLines int // lines missing from the expected output: the blocks and their access lines
}

// ExpectedLines is the number of lines in the expected output.
func (s Stats) ExpectedLines() int { return s.Lines - s.SuppressedLines }

// Generate writes a log to log and the output of an ideal filter for it to
// expected: the same bytes minus every false-500 block and its websocket
// access line.
func Generate(cfg Config, log, expected io.Writer) (Stats, error) {
	g, err := newGen(cfg, log, expected)
	if err != nil {
		return Stats{}, err
	}
	g.run()
	g.endEvent()
	if g.err == nil {
		g.err = g.log.Flush()
		if g.err != nil {
			g.err = fmt.Errorf("write log: %w", g.err)
		}
	}
	if g.err == nil {
		g.err = g.exp.Flush()
		if g.err != nil {
			g.err = fmt.Errorf("write expected output: %w", g.err)
		}
	}
	return g.stats, g.err
}

// Interleaving and look-alike placement.
const (
	// maxDelay is the most slots a false event's second part is deferred,
	// letting other events (even other false events' parts) in between.
	maxDelay = 3
	// lookalikeRate is the chance per slot of scheduling a look-alike.
	lookalikeRate = 1.0 / 4000
	// quietSlots is how many slots on each side of a look-alike carry no
	// false-500 parts. Every slot holds at least one event, so a filter
	// pairing within 64 events never finds a websocket access line that
	// could be the look-alike's partner.
	quietSlots = 80
)

// kind is one type of slot: a unit of log output that is not a false 500.
type kind uint8

const (
	kRoot        kind = iota // GET / 200
	kHealth                  // GET /health 200
	kItem                    // GET /items/N 200
	kItemMissing             // GET /items/N 404
	kStatic404               // a missing static file
	kPolling                 // socket.io long-polling handshake
	kUpgrade                 // a session upgraded from polling: websocket 200
	kBoom                    // Flask KeyError traceback + access 500
	kAssert                  // Flask AssertionError traceback + access 500
	kHeaders                 // start_response called twice (real bug)
	kLegacy                  // app lines mentioning write() before start_response
	kThread                  // simple-websocket thread traceback (kept)
	kChat                    // app INFO connect/disconnect (basicConfig)
	kAccepted                // eventlet "accepted" line
	kBadRequest              // eventlet parsing a close frame as a request
)

type weighted struct {
	k kind
	w float64
}

// server is the program producing the log.
type server uint8

const (
	werkzeug server = iota
	eventlet
	gunicorn
)

// spec fixes everything about a style that does not change per line.
type spec struct {
	server      server
	basicConfig bool // logging.basicConfig: "LEVEL:logger:" prefixes, colours
	accessAfter bool // the access line follows its traceback block
	mix         []weighted

	banner       string
	falseBlock   []byte // werkzeug, eventlet: the whole block
	falseBody    []byte // gunicorn: the block after its header line
	headersBody  []byte // werkzeug: with header; gunicorn: without
	boomFrames   []byte
	assertFrames []byte
	threadFrames []byte
}

func newSpec(style string) (*spec, error) {
	common := []weighted{
		{kRoot, 20}, {kHealth, 20}, {kItem, 25}, {kPolling, 12}, {kUpgrade, 12},
		{kStatic404, 2.5}, {kItemMissing, 0.5},
		{kBoom, 0.4}, {kAssert, 0.2}, {kHeaders, 0.15}, {kLegacy, 0.3},
	}
	s := &spec{}
	py310 := false
	switch style {
	case "", StyleWerkzeug:
		s.mix = append(common, weighted{kThread, 1.2})
		s.banner = werkzeugBanner
	case StyleWerkzeugPy310:
		py310 = true
		s.mix = append(common, weighted{kThread, 1.2})
		s.banner = werkzeugBanner
	case StyleBasicConfig:
		s.basicConfig = true
		s.mix = append(common, weighted{kThread, 1.2}, weighted{kChat, 20})
		s.banner = basicConfigBanner
	case StyleEventlet:
		s.server = eventlet
		s.accessAfter = true
		s.mix = append(common, weighted{kAccepted, 30}, weighted{kBadRequest, 1})
	case StyleGunicorn:
		s.server = gunicorn
		s.accessAfter = true
		s.mix = append(common, weighted{kThread, 1.2})
	default:
		return nil, fmt.Errorf("unknown style %q (want one of %v)", style, Styles())
	}
	tb := func(block string) []byte {
		if py310 {
			block = stripCarets(block)
		}
		return []byte(block)
	}
	errorOnRequest := "Error on request:\n"
	if s.basicConfig {
		errorOnRequest = "ERROR:werkzeug:" + errorOnRequest
	}
	switch s.server {
	case werkzeug:
		s.falseBlock = append([]byte(errorOnRequest), tb(werkzeugFalseBody)...)
		s.headersBody = append([]byte(errorOnRequest), tb(werkzeugHeadersBody)...)
	case eventlet:
		s.falseBlock = []byte(eventletFalseBlock)
	case gunicorn:
		s.falseBody = []byte(gunicornFalseBody)
		s.headersBody = []byte(gunicornHeadersBody)
	}
	s.boomFrames, s.assertFrames = tb(boomFrames), tb(assertFrames)
	s.threadFrames = []byte(threadFrames311)
	if py310 {
		s.threadFrames = []byte(threadFrames310)
	}
	return s, nil
}

// eventsPerSlot is the mean number of events a non-false slot writes.
func (s *spec) eventsPerSlot() float64 {
	var w, ev float64
	for _, m := range s.mix {
		n := 1.0
		switch m.k {
		case kBoom, kAssert, kBadRequest:
			n = 2
		case kHeaders:
			if s.server != eventlet {
				n = 2
			}
		case kLegacy:
			n = 3
		}
		w += m.w
		ev += m.w * n
	}
	return ev / w
}

// part is the deferred half of a false event.
type part struct {
	due    int  // slot at or after which it is written
	access bool // the access line (else the block)
	req    wsRequest
}

// wsRequest is one WebSocket connection attempt that ends in the false 500.
type wsRequest struct {
	npm bool  // npm socket.io-client: no t= parameter
	t   int64 // python-socketio's t= parameter, Unix nanoseconds
}

type gen struct {
	cfg  Config
	spec *spec
	rng  *rand.Rand
	clk  *clock
	log  *bufio.Writer
	exp  *bufio.Writer
	err  error

	stats Stats

	cumulative []float64 // running sums of spec.mix weights
	pFalse     float64   // chance per slot of a false event

	slot        int
	queue       []part
	lastDue     int
	lookalikeAt int // slot of a scheduled look-alike, -1 if none
	quietUntil  int // no false events before this slot

	frame framer
	// appLines counts the lines the app wrote, whatever their framing, so
	// every format of one seed carries the same events.
	appLines int

	line []byte // scratch for one line
	path []byte // scratch for a request path

	pid, port, clientPort int
	thread                int
	rid                   int
	sidSeq                int
	sessions              [][20]byte // connected chat sessions (basicConfig)
}

func newGen(cfg Config, log, expected io.Writer) (*gen, error) {
	if cfg.Lines <= 0 {
		return nil, errors.New("lines must be positive")
	}
	share := cfg.FalseShare
	switch {
	case share == 0:
		share = DefaultFalseShare
	case share < 0:
		share = 0
	case share > MaxFalseShare:
		return nil, fmt.Errorf("false share %g is above the maximum %g", share, MaxFalseShare)
	}
	if cfg.Format == "" {
		cfg.Format = FormatText
	}
	if !slices.Contains(Formats(), cfg.Format) {
		return nil, fmt.Errorf("unknown format %q (want one of %v)", cfg.Format, Formats())
	}
	s, err := newSpec(cfg.Style)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6767656e))
	g := &gen{
		cfg:         cfg,
		spec:        s,
		rng:         rng,
		clk:         newClock(),
		log:         bufio.NewWriterSize(log, 1<<20),
		exp:         bufio.NewWriterSize(expected, 1<<20),
		lookalikeAt: -1,
		frame:       framer{format: cfg.Format},
		pid:         1000 + rng.IntN(60000),
		port:        5000,
		clientPort:  32768 + rng.IntN(20000),
		thread:      10 + rng.IntN(20),
		rid:         rng.IntN(10000),
	}
	var sum float64
	for _, m := range s.mix {
		sum += m.w
		g.cumulative = append(g.cumulative, sum)
	}
	// A false slot writes 2 events (block and access line); other slots
	// eventsPerSlot on average. Solve for the slot probability that makes
	// false blocks `share` of all events, then make up for the slots kept
	// quiet around look-alikes.
	eo := s.eventsPerSlot()
	p := share * eo / (1 - share*(2-eo))
	g.pFalse = min(1, p/(1-2*quietSlots*lookalikeRate))
	return g, nil
}

func (g *gen) run() {
	g.banner()
	for g.appLines < g.cfg.Lines && g.err == nil {
		g.slot++
		g.clk.advance(time.Duration(g.rng.IntN(8_000_000)))
		g.flushDue()
		g.fill()
		g.flushDue()
	}
	for _, p := range g.queue {
		g.writePart(p)
	}
	g.queue = g.queue[:0]
	g.shutdown()
}

// fill writes the slot's own content.
func (g *gen) fill() {
	if g.slot == g.lookalikeAt {
		g.lookalike()
		g.lookalikeAt = -1
		g.quietUntil = g.slot + quietSlots + 1
		return
	}
	quiet := g.lookalikeAt >= 0 || g.slot < g.quietUntil
	if !quiet && g.rng.Float64() < g.pFalse {
		g.falseEvent()
		return
	}
	if !quiet && g.rng.Float64() < lookalikeRate {
		g.lookalikeAt = g.slot + quietSlots
	}
	r := g.rng.Float64() * g.cumulative[len(g.cumulative)-1]
	i, _ := slices.BinarySearch(g.cumulative, r)
	g.plain(g.spec.mix[min(i, len(g.spec.mix)-1)].k)
}

// flushDue writes the deferred parts whose slot has come, in order.
func (g *gen) flushDue() {
	n := 0
	for n < len(g.queue) && g.queue[n].due <= g.slot {
		g.writePart(g.queue[n])
		n++
	}
	if n > 0 {
		g.queue = append(g.queue[:0], g.queue[n:]...)
	}
}

// falseEvent writes the first half of a false 500 and defers the second,
// usually to right after it, sometimes a few slots later.
func (g *gen) falseEvent() {
	req := wsRequest{npm: g.rng.IntN(9) < 4}
	if !req.npm {
		req.t = g.clk.ns - int64(30*time.Millisecond) - g.rng.Int64N(int64(400*time.Millisecond))
	}
	delay := 0
	if r := g.rng.IntN(100); r >= 70 {
		delay = 1 + (r-70)*maxDelay/30 // 30% spread over 1..maxDelay
	}
	// Deferred parts keep their order: due never decreases along the queue.
	due := max(g.slot+delay, g.lastDue)
	g.lastDue = due
	// Werkzeug logs the access line before the block; eventlet and
	// gunicorn after it.
	g.writePart(part{req: req, access: !g.spec.accessAfter})
	g.queue = append(g.queue, part{due: due, access: g.spec.accessAfter, req: req})
	g.stats.FalseEvents++
}

func (g *gen) writePart(p part) {
	g.path = g.wsPath(g.path[:0], p.req)
	if p.access {
		switch g.spec.server {
		case werkzeug:
			g.access(g.path, 500, 0, false)
		case eventlet:
			g.accessDur(g.path, 500, 467, 0.23, 0.38)
		case gunicorn:
			g.access(g.path, 500, 0, false)
		}
		g.emit(g.line, false)
		return
	}
	switch g.spec.server {
	case werkzeug, eventlet:
		g.emit(g.spec.falseBlock, false)
	case gunicorn:
		g.gunicornError(g.path, g.spec.falseBody, false)
	}
}

func (g *gen) wsPath(b []byte, req wsRequest) []byte {
	if req.npm {
		return append(b, "/socket.io/?EIO=4&transport=websocket"...)
	}
	b = append(b, "/socket.io/?transport=websocket&EIO=4&t="...)
	return appendPyTime(b, req.t)
}

// lookalike writes a real bug that looks exactly like a false 500: a
// handler returning without calling start_response on a plain HTTP route.
// Its block matches the false-500 block; only its access line tells it
// apart, so only a filter that pairs blocks with websocket access lines
// keeps it.
func (g *gen) lookalike() {
	g.path = append(g.path[:0], "/legacy/report?id="...)
	g.path = strconv.AppendInt(g.path, int64(1+g.rng.IntN(99999)), 10)
	switch g.spec.server {
	case werkzeug:
		g.access(g.path, 500, 0, false)
		g.emit(g.line, true)
		g.emit(g.spec.falseBlock, true)
	case eventlet:
		g.emit(g.spec.falseBlock, true)
		g.accessDur(g.path, 500, 467, 0.001, 0.003)
		g.emit(g.line, true)
	case gunicorn:
		g.gunicornError(g.path, g.spec.falseBody, true)
		g.access(g.path, 500, 0, false)
		g.emit(g.line, true)
	}
}

// plain writes one slot of kept output.
func (g *gen) plain(k kind) {
	switch k {
	case kRoot:
		g.request("/", 200, sizes{162, 22}, true)
	case kHealth:
		g.request("/health", 200, sizes{173, 41}, true)
	case kItem:
		n := 1 + g.rng.IntN(999)
		digits := len(strconv.Itoa(n))
		g.path = strconv.AppendInt(append(g.path[:0], "/items/"...), int64(n), 10)
		g.requestPath(g.path, 200, sizes{155 + 2*digits, 23 + 2*digits}, true)
	case kItemMissing:
		g.path = strconv.AppendInt(append(g.path[:0], "/items/"...), int64(1000+g.rng.IntN(1000)), 10)
		g.requestPath(g.path, 404, sizes{164, 25}, true)
	case kStatic404:
		paths := [...]string{"/static/app.js", "/favicon.ico", "/socket.io.js"}
		g.request(paths[g.rng.IntN(len(paths))], 404, sizes{355, 207}, true)
	case kPolling:
		g.path = append(g.path[:0], "/socket.io/?transport=polling&EIO=4&t="...)
		g.path = appendPyTime(g.path, g.clk.ns-g.rng.Int64N(int64(5*time.Millisecond)))
		g.requestPath(g.path, 200, sizes{278, 97}, true)
	case kUpgrade:
		g.path = append(g.path[:0], "/socket.io/?transport=websocket&EIO=4&sid="...)
		sid := g.sid()
		g.path = append(g.path, sid[:]...)
		g.path = append(g.path, "&t="...)
		g.path = appendPyTime(g.path, g.clk.ns-int64(300*time.Millisecond)-g.rng.Int64N(int64(60*time.Millisecond)))
		if g.spec.server == eventlet {
			g.accessDur(g.path, 200, 208, 0.30, 0.36)
		} else {
			g.access(g.path, 200, 0, false)
		}
		g.emit(g.line, true)
	case kBoom:
		fruits := [...]string{"banana", "banana", "banana", "kiwi", "mango"}
		fruit := fruits[g.rng.IntN(len(fruits))]
		g.appLine("ERROR", "Exception on /boom [GET]")
		g.flaskTraceback(g.spec.boomFrames, "KeyError: '"+fruit+"'")
		g.requestPath(append(g.path[:0], "/boom?fruit="+fruit...), 500, sizes{425, 265}, true)
	case kAssert:
		qty := -g.rng.IntN(10)
		q := strconv.Itoa(qty)
		g.appLine("ERROR", "Exception on /assert [GET]")
		g.flaskTraceback(g.spec.assertFrames, "AssertionError: quantity must be positive, got "+q)
		g.requestPath(append(g.path[:0], "/assert?qty="+q...), 500, sizes{425, 265}, true)
	case kHeaders:
		g.path = append(g.path[:0], "/mw/headers-twice"...)
		switch g.spec.server {
		case werkzeug:
			g.access(g.path, 500, 0, false)
			g.emit(g.line, true)
			g.emit(g.spec.headersBody, true)
		case eventlet:
			g.accessDur(g.path, 202, 144, 0.00025, 0.0009)
			g.emit(g.line, true)
		case gunicorn:
			g.gunicornError(g.path, g.spec.headersBody, true)
			g.access(g.path, 500, 0, false)
			g.emit(g.line, true)
		}
	case kLegacy:
		g.rid = (g.rid + 1) % 10000
		rid := fmt.Sprintf("r%04d", g.rid)
		g.appLine("WARNING", legacyWarnPrefix+rid+legacyWarnSuffix)
		g.appLine("ERROR", legacyErrPrefix+rid+legacyErrSuffix)
		g.requestPath(append(g.path[:0], "/warn?rid="+rid...), 200, sizes{158, 26}, true)
	case kThread:
		g.thread += 1 + g.rng.IntN(60)
		b := append(g.line[:0], "Exception in thread Thread-"...)
		b = strconv.AppendInt(b, int64(g.thread), 10)
		b = append(b, " (_thread):\n"...)
		b = append(b, g.spec.threadFrames...)
		if g.rng.IntN(30) == 0 {
			b = append(b, threadEPIPE...)
		} else {
			b = append(b, threadEBADF...)
		}
		g.line = b
		g.emit(b, true)
	case kChat:
		g.chat()
	case kAccepted:
		g.clientPort += 2 + g.rng.IntN(15)
		if g.clientPort > 60999 {
			g.clientPort -= 60999 - 32768
		}
		b := append(g.line[:0], '(')
		b = strconv.AppendInt(b, int64(g.pid), 10)
		b = append(b, ") accepted ('127.0.0.1', "...)
		b = strconv.AppendInt(b, int64(g.clientPort), 10)
		b = append(b, ")\n"...)
		g.line = b
		g.emit(b, true)
	case kBadRequest:
		pair := badRequests[g.rng.IntN(len(badRequests))]
		for _, text := range pair {
			b := append(g.line[:0], "127.0.0.1 - - ["...)
			b = append(b, g.clk.werkzeug...)
			b = append(b, "] "...)
			b = append(b, text...)
			b = append(b, '\n')
			g.line = b
			g.emit(b, true)
		}
	}
}

// sizes are response sizes as eventlet and gunicorn log them (the Werkzeug
// dev server logs "-").
type sizes struct{ eventlet, gunicorn int }

func (g *gen) request(path string, status int, sz sizes, client bool) {
	g.requestPath(append(g.path[:0], path...), status, sz, client)
}

// requestPath writes the kept access line of an ordinary HTTP request.
func (g *gen) requestPath(path []byte, status int, sz sizes, client bool) {
	switch g.spec.server {
	case werkzeug:
		g.access(path, status, 0, client)
	case eventlet:
		lo, hi := 0.00025, 0.0009
		if status == 500 {
			lo, hi = 0.0009, 0.002
		}
		g.accessDur(path, status, sz.eventlet, lo, hi)
	case gunicorn:
		g.access(path, status, sz.gunicorn, client)
	}
	g.emit(g.line, true)
}

// access builds a Werkzeug or gunicorn access line in g.line. client marks
// requests from python-requests (gunicorn logs its user agent; WebSocket
// and failed requests show "-").
func (g *gen) access(path []byte, status, size int, client bool) {
	b := g.line[:0]
	if g.spec.basicConfig {
		b = append(b, "INFO:werkzeug:"...)
	}
	b = append(b, "127.0.0.1 - - ["...)
	if g.spec.server == gunicorn {
		b = append(b, g.clk.gunicorn...)
	} else {
		b = append(b, g.clk.werkzeug...)
	}
	b = append(b, "] \""...)
	colour := ""
	if g.spec.basicConfig {
		// Werkzeug colours the request by status class.
		switch {
		case status == 404:
			colour = "\x1b[33m"
		case status >= 500:
			colour = "\x1b[35m\x1b[1m"
		}
	}
	b = append(b, colour...)
	b = append(b, "GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1"...)
	if colour != "" {
		b = append(b, "\x1b[0m"...)
	}
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	if g.spec.server == gunicorn {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(size), 10)
		if client {
			b = append(b, " \"-\" \"python-requests/2.28.1\"\n"...)
		} else {
			b = append(b, " \"-\" \"-\"\n"...)
		}
	} else {
		b = append(b, " -\n"...)
	}
	g.line = b
}

// accessDur builds an eventlet access line (size and seconds taken) in
// g.line.
func (g *gen) accessDur(path []byte, status, size int, lo, hi float64) {
	b := append(g.line[:0], "127.0.0.1 - - ["...)
	b = append(b, g.clk.werkzeug...)
	b = append(b, "] \"GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, lo+g.rng.Float64()*(hi-lo), 'f', 6, 64)
	b = append(b, '\n')
	g.line = b
}

// appLine writes a line from the app's logger.
func (g *gen) appLine(level, msg string) {
	b := g.line[:0]
	if g.spec.basicConfig {
		b = append(b, level...)
		b = append(b, ":app:"...)
	} else {
		// Flask's default handler: "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
		b = append(b, '[')
		b = append(b, g.clk.iso...)
		b = append(b, ',')
		b = g.clk.appendMillis(b)
		b = append(b, "] "...)
		b = append(b, level...)
		b = append(b, " in app: "...)
	}
	b = append(b, msg...)
	b = append(b, '\n')
	g.line = b
	g.emit(b, true)
}

// flaskTraceback writes the traceback Flask logs after "Exception on ...".
// It belongs to the header line just written: logsift assembles both into
// one event, so it is written as a continuation, not as a new event.
func (g *gen) flaskTraceback(frames []byte, exception string) {
	b := append(g.line[:0], frames...)
	b = append(b, exception...)
	b = append(b, '\n')
	g.line = b
	g.emitMore(b, true)
}

// gunicornError writes a gunicorn "[ERROR] Error handling request" event.
func (g *gen) gunicornError(path, body []byte, keep bool) {
	b := append(g.line[:0], '[')
	b = append(b, g.clk.iso...)
	b = append(b, " +0000] ["...)
	b = strconv.AppendInt(b, int64(g.pid+1), 10)
	b = append(b, "] [ERROR] Error handling request "...)
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, body...)
	g.line = b
	g.emit(b, keep)
}

func (g *gen) chat() {
	const maxSessions = 16
	connect := len(g.sessions) == 0 || (len(g.sessions) < maxSessions && g.rng.IntN(2) == 0)
	var sid [20]byte
	if connect {
		sid = g.sid()
		g.sessions = append(g.sessions, sid)
		g.line = append(g.line[:0], "INFO:app:chat connect sid="...)
	} else {
		i := g.rng.IntN(len(g.sessions))
		sid = g.sessions[i]
		g.sessions = slices.Delete(g.sessions, i, i+1)
		g.line = append(g.line[:0], "INFO:app:chat disconnect sid="...)
	}
	g.line = append(g.line, sid[:]...)
	g.line = append(g.line, '\n')
	g.emit(g.line, true)
}

const sidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sid returns an Engine.IO session id: 16 random base64url characters and
// a 4-character server-wide sequence number ("…AAAF").
func (g *gen) sid() [20]byte {
	var s [20]byte
	r := g.rng.Uint64()
	for i := range 10 {
		s[i] = sidAlphabet[r&63]
		r >>= 6
	}
	r = g.rng.Uint64()
	for i := 10; i < 16; i++ {
		s[i] = sidAlphabet[r&63]
		r >>= 6
	}
	g.sidSeq++
	for i, n := 19, g.sidSeq; i >= 16; i-- {
		s[i] = sidAlphabet[n&63]
		n >>= 6
	}
	return s
}

func (g *gen) banner() {
	switch g.spec.server {
	case werkzeug:
		for line := range strings.Lines(g.spec.banner) {
			if line == " * Running on http://127.0.0.1:%PORT%\n" {
				line = " * Running on http://127.0.0.1:" + strconv.Itoa(g.port) + "\n"
			}
			g.emit([]byte(line), true)
		}
	case eventlet:
		g.emit(fmt.Appendf(g.line[:0], "(%d) wsgi starting up on http://127.0.0.1:%d\n", g.pid, g.port), true)
	case gunicorn:
		g.gunicornInfo(g.pid, "Starting gunicorn 20.1.0")
		g.gunicornInfo(g.pid, fmt.Sprintf("Listening at: http://127.0.0.1:%d (%d)", g.port, g.pid))
		g.gunicornInfo(g.pid, "Using worker: threads")
		g.gunicornInfo(g.pid+1, fmt.Sprintf("Booting worker with pid: %d", g.pid+1))
	}
}

func (g *gen) shutdown() {
	if g.spec.server != gunicorn || g.err != nil {
		return
	}
	g.clk.advance(3 * time.Second)
	g.gunicornInfo(g.pid, "Handling signal: term")
	g.clk.advance(time.Second)
	g.gunicornInfo(g.pid+1, fmt.Sprintf("Worker exiting (pid: %d)", g.pid+1))
	g.clk.advance(9 * time.Second)
	g.gunicornInfo(g.pid, "Shutting down: Master")
}

func (g *gen) gunicornInfo(pid int, msg string) {
	g.emit(fmt.Appendf(g.line[:0], "[%s +0000] [%d] [INFO] %s\n", g.clk.iso, pid, msg), true)
}

// emit writes one event (whole lines) to the log, and to the expected
// output if keep.
func (g *gen) emit(b []byte, keep bool) {
	g.endEvent()
	g.stats.Events++
	g.emitMore(b, keep)
}

// endEvent writes the JSON record of the event gathered so far.
func (g *gen) endEvent() {
	f := &g.frame
	if f.format != FormatJSON || len(f.pending) == 0 || g.err != nil {
		return
	}
	rec := f.jsonRecord(f.pending, g.clk.ns)
	f.pending = f.pending[:0]
	g.put(rec, 1, f.keep)
}

// emitMore writes lines that continue the previous event.
func (g *gen) emitMore(b []byte, keep bool) {
	if g.err != nil {
		return
	}
	n := bytes.Count(b, newline)
	g.appLines += n
	switch g.frame.format {
	case FormatJSON:
		g.frame.pending = append(g.frame.pending, b...)
		g.frame.keep = keep
	case FormatDockerJSON, FormatCRI:
		g.put(g.frame.lines(b, g.clk.ns), n, keep)
	default:
		g.put(b, n, keep)
	}
}

// put writes rec, which holds n lines of the log, to the log and, when the
// ideal filter keeps it, to the expected output.
func (g *gen) put(rec []byte, n int, keep bool) {
	if _, err := g.log.Write(rec); err != nil {
		g.err = fmt.Errorf("write log: %w", err)
		return
	}
	g.stats.Lines += n
	if !keep {
		g.stats.SuppressedLines += n
		return
	}
	if _, err := g.exp.Write(rec); err != nil {
		g.err = fmt.Errorf("write expected output: %w", err)
	}
}
