package inputs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/logsift/logsift/event"
)

// followRun is the state of one follow-mode Run: one stream per family.
type followRun struct {
	src     *FileSource
	ctx     context.Context
	out     chan<- *event.LineBatch
	pool    *batchPool
	bufs    sync.Pool
	poll    bool
	streams map[string]*stream
	exited  chan *stream

	// claimMu guards owner and left: a file reachable under two followed
	// names (a hard link, a rename to another matched name) is read by
	// one stream at a time, and the next continues where the last left it.
	claimMu sync.Mutex
	owner   map[fileKey]*stream
	left    map[fileKey]leftAt

	// own are the identities of the files logsift writes, as of the last
	// scan (guarded by claimMu).
	own map[fileKey]bool
	// dirTimes are the modification times of the patterns' directories
	// at the last look, lastFull when every file was last checked.
	dirTimes map[string]time.Time
	lastFull time.Time
	// warnedUnmatched is when patterns matching nothing were last
	// reported, to repeat it now and then rather than on every rescan.
	warnedUnmatched time.Time

	mu sync.Mutex
	// openErr is the last open error reported per path, so a file that
	// stays unreadable is reported once, not on every rescan.
	openErr map[string]string
}

func (s *FileSource) follow(ctx context.Context, out chan<- *event.LineBatch) error {
	r := &followRun{
		src:     s,
		ctx:     ctx,
		out:     out,
		pool:    newBatchPool(),
		poll:    s.cfg.Poll,
		streams: map[string]*stream{},
		exited:  make(chan *stream),
		openErr: map[string]string{},
		owner:   map[fileKey]*stream{},
		left:    map[fileKey]leftAt{},
	}
	r.bufs.New = func() any {
		b := make([]byte, 64<<10)
		return &b
	}
	if !r.poll {
		if err := inotifyUsable(); err != nil {
			s.log.Warn("inotify is unavailable, polling files instead", "err", err)
			r.poll = true
		}
	}
	started := r.scan(true)
	for _, st := range started {
		select {
		case <-st.planned:
		case <-ctx.Done():
		}
	}
	s.log.Info("following files", "files", s.files.Load(), "paths", s.cfg.Paths)
	s.markReady()

	ticker := time.NewTicker(s.cfg.Rescan)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			for len(r.streams) > 0 {
				r.remove(<-r.exited)
			}
			return nil
		case st := <-r.exited:
			r.remove(st)
		case <-ticker.C:
			// A rescan stats every matched file; it is needed when a
			// directory changed (a file created, renamed or removed)
			// and otherwise only as a safety net for lost change
			// notifications, so idle files cost per directory.
			if r.dirsChanged() || time.Since(r.lastFull) >= fullRescanEvery {
				r.lastFull = time.Now()
				r.scan(false)
			}
		}
	}
}

// fullRescanEvery is how often the globs are evaluated and every matched
// file checked although no directory changed.
const fullRescanEvery = 10 * time.Second

// dirsChanged reports whether a directory the patterns read changed since
// the last call (by modification time, or by coming or going). A pattern
// with wildcards in its directories always counts as changed.
func (r *followRun) dirsChanged() bool {
	changed := false
	seen := map[string]bool{}
	if r.dirTimes == nil {
		r.dirTimes = map[string]time.Time{}
	}
	for _, pat := range r.src.cfg.Paths {
		dir := filepath.Dir(pat)
		if hasMeta(dir) {
			changed = true
			continue
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		var mt time.Time
		if fi, err := os.Stat(dir); err == nil {
			mt = fi.ModTime()
		}
		// A change within the file system's timestamp granularity of
		// the last look leaves the time as it was: a directory changed
		// lately is looked at again.
		if prev, ok := r.dirTimes[dir]; !ok || !prev.Equal(mt) || time.Since(mt) < 2*time.Second {
			changed = true
		}
		r.dirTimes[dir] = mt
	}
	return changed
}

func (r *followRun) remove(st *stream) {
	if r.streams[st.live] == st {
		delete(r.streams, st.live)
	}
}

// scan evaluates the globs and groups what they match into families: a
// matched name that is a rotated name of a live path the input's patterns
// also name (app.log.1 with "app.log*") belongs to that path's stream. It
// starts a stream for every family without one, and tells the streams of
// live paths no longer matched to finish.
func (r *followRun) scan(initial bool) []*stream {
	cfg := r.src.cfg
	own := map[fileKey]bool{}
	for _, p := range cfg.Own {
		if fi, err := os.Stat(p); err == nil {
			own[keyOf(fi)] = true
		}
	}
	r.claimMu.Lock()
	r.own = own
	r.claimMu.Unlock()
	all, none := r.src.matchAll()
	r.reportUnmatched(initial, none)
	isLive := func(p string) bool { return r.src.named(p) }
	families := map[string]bool{}
	var matched []string
	for _, path := range all {
		if live, ok := familyOf(path, isLive); ok {
			families[live] = true
			continue
		}
		matched = append(matched, path)
	}
	for _, path := range matched {
		if len(cfg.Rotated) > 0 && r.rotatedOfAnother(path, matched) {
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				r.reportOpenErr(path, err)
			}
			continue
		}
		if !fi.Mode().IsRegular() || own[keyOf(fi)] {
			continue
		}
		families[path] = true
		if st := r.streams[path]; st != nil && st.stale(keyOf(fi), fi.Size()) {
			st.poke()
		}
	}
	// A path without wildcards is followed before it exists: the
	// directory watch sees it created at once, rather than at the next
	// rescan.
	present := len(families)
	for _, pat := range cfg.Paths {
		if !hasMeta(pat) && !families[pat] && r.src.named(pat) {
			families[pat] = true
		}
	}
	var started []*stream
	for live := range families {
		if st := r.streams[live]; st != nil {
			st.setOrphaned(false)
			continue
		}
		if r.ctx.Err() != nil {
			break
		}
		st := newStream(r, live, initial)
		r.streams[live] = st
		started = append(started, st)
		go st.main()
	}
	for live, st := range r.streams {
		if !families[live] {
			st.setOrphaned(true)
		}
	}
	r.mu.Lock()
	for path := range r.openErr {
		if !families[path] {
			if _, err := os.Stat(path); err != nil {
				delete(r.openErr, path)
			}
		}
	}
	r.mu.Unlock()
	r.src.files.Store(int64(present))
	return started
}

func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }

// unmatchedEvery is how often patterns that keep matching nothing are
// reported again.
const unmatchedEvery = 5 * time.Minute

// reportUnmatched records the patterns that match no file, and warns about
// them at the start and then every unmatchedEvery while it lasts.
func (r *followRun) reportUnmatched(initial bool, none []string) {
	missingDir := map[string]bool{}
	for _, pat := range none {
		dir := filepath.Dir(pat)
		for hasMeta(dir) {
			dir = filepath.Dir(dir)
		}
		if _, err := os.Stat(dir); err != nil {
			missingDir[pat] = true
		}
	}
	r.src.mu.Lock()
	before := len(r.src.unmatched)
	r.src.unmatched = none
	r.src.noDir = missingDir
	r.src.mu.Unlock()
	switch {
	case len(none) > 0 && (initial || time.Since(r.warnedUnmatched) >= unmatchedEvery):
		r.warnedUnmatched = time.Now()
		r.src.log.Warn("input paths match no file; they are looked for again every rescan", "paths", none)
	case len(none) == 0 && before > 0:
		r.src.log.Info("input paths now match files")
		r.warnedUnmatched = time.Time{}
	}
}

// rotatedOfAnother reports whether path is named by the rotated patterns
// of another matched live path.
func (r *followRun) rotatedOfAnother(path string, live []string) bool {
	for _, l := range live {
		if l == path {
			continue
		}
		for _, pat := range expandRotated(r.src.cfg.Rotated, l) {
			if ok, _ := filepath.Match(pat, path); ok {
				return true
			}
		}
	}
	return false
}

// leftAt is where a stream stopped reading a file.
type leftAt struct {
	by     *stream
	offset int64
	head   []byte
	at     time.Time
}

// isOwn reports whether logsift writes file k.
func (r *followRun) isOwn(k fileKey) bool {
	r.claimMu.Lock()
	defer r.claimMu.Unlock()
	return r.own[k]
}

// claim makes st the reader of file k, unless another stream reads it. It
// returns where another stream left the file in this run, if it did and
// the file still starts as it did.
func (r *followRun) claim(k fileKey, st *stream) (ok bool, resume leftAt) {
	r.claimMu.Lock()
	defer r.claimMu.Unlock()
	if o := r.owner[k]; o != nil && o != st {
		return false, leftAt{}
	}
	r.owner[k] = st
	if l, found := r.left[k]; found && l.by != st {
		delete(r.left, k)
		return true, l
	}
	return true, leftAt{}
}

// unclaim ends st's reading of k at offset.
func (r *followRun) unclaim(k fileKey, st *stream, offset int64, head []byte) {
	r.claimMu.Lock()
	defer r.claimMu.Unlock()
	if r.owner[k] != st {
		return
	}
	delete(r.owner, k)
	now := time.Now()
	r.left[k] = leftAt{by: st, offset: offset, head: head, at: now}
	for key, l := range r.left {
		if now.Sub(l.at) > time.Minute {
			delete(r.left, key)
		}
	}
}

func (r *followRun) reportOpenErr(path string, err error) {
	msg := err.Error()
	r.mu.Lock()
	same := r.openErr[path] == msg
	r.openErr[path] = msg
	r.mu.Unlock()
	if same {
		r.src.log.Debug("still cannot open file", "path", path, "err", err)
		return
	}
	r.src.log.Error("cannot open file, retrying on every rescan", "path", path, "err", err)
}

func (r *followRun) clearOpenErr(path string) {
	r.mu.Lock()
	delete(r.openErr, path)
	r.mu.Unlock()
}
