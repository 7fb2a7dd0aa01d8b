package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyNote, returned by a readiness function, means ready but worth
// saying why not entirely: /readyz answers 200 with the note.
type ReadyNote struct{ Note string }

func (n ReadyNote) Error() string { return n.Note }

// Server serves /metrics, /healthz, /readyz and a small index page.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	logger *slog.Logger
}

const indexPage = `<!DOCTYPE html>
<html><head><title>logsift</title></head>
<body><h1>logsift</h1><ul>
<li><a href="metrics">metrics</a>: Prometheus metrics</li>
<li><a href="healthz">healthz</a>: the process is running</li>
<li><a href="readyz">readyz</a>: the pipeline is ready</li>
</ul></body></html>
`

// NewServer binds addr at once, so that a port already in use is reported
// as a startup error rather than from a background goroutine. ready tells
// whether the pipeline is ready; a nil ready means always ready. Metrics
// come from g; scrape errors are logged to logger.
func NewServer(addr string, g prometheus.Gatherer, ready func() error, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w", addr, err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// Scrapers that ask for OpenMetrics get it; others get the
		// classic text format.
		EnableOpenMetrics: true,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		// One failing collector should not blank every other metric.
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil {
			if err := ready(); err != nil {
				var note ReadyNote
				if errors.As(err, &note) {
					writeText(w, http.StatusOK, "ready; "+note.Error()+"\n")
					return
				}
				writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
				return
			}
		}
		writeText(w, http.StatusOK, "ready\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(indexPage))
	})

	return &Server{
		ln:     ln,
		logger: logger,
		srv: &http.Server{
			Handler: mux,
			// Bounds on slow or idle clients; a scrape of a few hundred
			// series is written well within WriteTimeout.
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// Addr is the address the server listens on, with the port the kernel
// chose when addr asked for port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve handles requests until Shutdown. It returns nil after Shutdown and
// the error otherwise.
func (s *Server) Serve() error {
	s.logger.Info("metrics server listening", "addr", s.Addr())
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics.serve %s: %w", s.Addr(), err)
	}
	return nil
}

// Shutdown stops accepting connections and waits, until ctx is done, for
// requests in flight. It also releases the listener when Serve was never
// called.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("metrics.shutdown: %w", err)
	}
	return nil
}
