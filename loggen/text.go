package loggen

import "strings"

// The texts below are copied from real captures (testdata/corpus); only
// timestamps, ids, ports and query strings vary between occurrences.
// Each block constant ends in a newline; headers with variable parts are
// built by the generator and prepended.

// werkzeugFalseBody follows "Error on request:" when a WebSocket session
// closes under the Werkzeug dev server: the false HTTP 500.
const werkzeugFalseBody = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 335, in run_wsgi
    execute(self.server.app)
  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 327, in execute
    write(b"")
  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 252, in write
    assert status_set is not None, "write() before start_response"
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
AssertionError: write() before start_response
`

// werkzeugHeadersBody follows "Error on request:" for a middleware that
// calls start_response twice: a real bug, always kept.
const werkzeugHeadersBody = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 335, in run_wsgi
    execute(self.server.app)
  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 322, in execute
    application_iter = app(environ, start_response)
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/flask/app.py", line 2548, in __call__
    return self.wsgi_app(environ, start_response)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/chatapp/app/app.py", line 152, in __call__
    start_response('202 Accepted', [('Content-Type', 'text/plain')])
  File "/usr/lib/python3/dist-packages/werkzeug/serving.py", line 316, in start_response
    raise AssertionError("Headers already set")
AssertionError: Headers already set
`

// eventletFalseBlock is eventlet.wsgi's false HTTP 500: no header line, and
// an empty line after the exception that belongs to the event.
const eventletFalseBlock = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/eventlet/wsgi.py", line 607, in handle_one_response
    write(b'')
  File "/usr/lib/python3/dist-packages/eventlet/wsgi.py", line 486, in write
    raise AssertionError("write() before start_response()")
AssertionError: write() before start_response()

`

// gunicornFalseBody follows "[ERROR] Error handling request <path>" when a
// WebSocket session closes under gunicorn's gthread worker.
const gunicornFalseBody = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/gunicorn/workers/gthread.py", line 271, in handle
    keepalive = self.handle_request(req, conn)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/gunicorn/workers/gthread.py", line 331, in handle_request
    resp.close()
  File "/usr/lib/python3/dist-packages/gunicorn/http/wsgi.py", line 394, in close
    self.send_headers()
  File "/usr/lib/python3/dist-packages/gunicorn/http/wsgi.py", line 321, in send_headers
    tosend = self.default_headers()
             ^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/gunicorn/http/wsgi.py", line 302, in default_headers
    elif self.should_close():
         ^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/gunicorn/http/wsgi.py", line 221, in should_close
    if self.status_code < 200 or self.status_code in (204, 304):
       ^^^^^^^^^^^^^^^^
AttributeError: 'Response' object has no attribute 'status_code'
`

// gunicornHeadersBody is the gunicorn counterpart of werkzeugHeadersBody.
const gunicornHeadersBody = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/gunicorn/workers/gthread.py", line 271, in handle
    keepalive = self.handle_request(req, conn)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/gunicorn/workers/gthread.py", line 323, in handle_request
    respiter = self.wsgi(environ, resp.start_response)
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/flask/app.py", line 2548, in __call__
    return self.wsgi_app(environ, start_response)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/chatapp/app/app.py", line 152, in __call__
    start_response('202 Accepted', [('Content-Type', 'text/plain')])
  File "/usr/lib/python3/dist-packages/gunicorn/http/wsgi.py", line 233, in start_response
    raise AssertionError("Response headers already set!")
AssertionError: Response headers already set!
`

// flaskDispatchFrames are the frames every Flask view exception starts
// with, after "Traceback (most recent call last):".
const flaskDispatchFrames = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/flask/app.py", line 2525, in wsgi_app
    response = self.full_dispatch_request()
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/flask/app.py", line 1822, in full_dispatch_request
    rv = self.handle_user_exception(e)
         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/flask/app.py", line 1820, in full_dispatch_request
    rv = self.dispatch_request()
         ^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/flask/app.py", line 1796, in dispatch_request
    return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
`

// boomFrames and assertFrames end the Flask tracebacks of the app's two
// failing routes; the exception line is added by the generator.
const boomFrames = flaskDispatchFrames + `  File "/srv/chatapp/app/app.py", line 87, in boom
    return jsonify(price=PRICES[fruit])
                         ~~~~~~^^^^^^^
`

const assertFrames = flaskDispatchFrames + `  File "/srv/chatapp/app/app.py", line 93, in assert_route
    assert qty > 0, f'quantity must be positive, got {qty}'
           ^^^^^^^
`

// threadFrames311 is simple-websocket's background thread failing after
// the socket was closed, as Python 3.11 prints it; the header
// ("Exception in thread Thread-N (_thread):") and the exception line vary.
const threadFrames311 = `Traceback (most recent call last):
  File "/usr/lib/python3.11/threading.py", line 1038, in _bootstrap_inner
    self.run()
  File "/usr/lib/python3.11/threading.py", line 975, in run
    self._target(*self._args, **self._kwargs)
  File "/usr/lib/python3/dist-packages/simple_websocket/ws.py", line 170, in _thread
    self.connected = self._handle_events()
                     ^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/simple_websocket/ws.py", line 248, in _handle_events
    self.sock.send(out_data)
`

// threadFrames310 is the same traceback under Python 3.10, whose
// threading.py has other line numbers.
const threadFrames310 = `Traceback (most recent call last):
  File "/usr/lib/python3.10/threading.py", line 1016, in _bootstrap_inner
    self.run()
  File "/usr/lib/python3.10/threading.py", line 953, in run
    self._target(*self._args, **self._kwargs)
  File "/usr/lib/python3/dist-packages/simple_websocket/ws.py", line 170, in _thread
    self.connected = self._handle_events()
  File "/usr/lib/python3/dist-packages/simple_websocket/ws.py", line 248, in _handle_events
    self.sock.send(out_data)
`

const (
	threadEBADF = "OSError: [Errno 9] Bad file descriptor\n"
	threadEPIPE = "BrokenPipeError: [Errno 32] Broken pipe\n"
)

// Startup banners; "%PORT%" and "%PID%" are replaced per file.
const werkzeugBanner = `Werkzeug appears to be used in a production deployment. Consider switching to a production web server instead.
 * Serving Flask app 'app'
 * Debug mode: off
WARNING: This is a development server. Do not use it in a production deployment. Use a production WSGI server instead.
 * Running on http://127.0.0.1:%PORT%
Press CTRL+C to quit
`

const basicConfigBanner = "WARNING:werkzeug:Werkzeug appears to be used in a production deployment. Consider switching to a production web server instead.\n" +
	" * Serving Flask app 'app'\n" +
	" * Debug mode: off\n" +
	"INFO:werkzeug:\x1b[31m\x1b[1mWARNING: This is a development server. Do not use it in a production deployment. Use a production WSGI server instead.\x1b[0m\n" +
	" * Running on http://127.0.0.1:%PORT%\n" +
	"INFO:werkzeug:\x1b[33mPress CTRL+C to quit\x1b[0m\n"

// Legacy adapter messages mention write() before start_response in plain
// text: app lines that a filter must not mistake for the false 500.
const (
	legacyWarnPrefix = "legacy adapter: upstream handler returned before start_response was called (rid="
	legacyWarnSuffix = "); retrying"
	legacyErrPrefix  = "write() before start_response detected in legacy adapter for rid="
	legacyErrSuffix  = ", falling back to buffered mode"
)

// badRequests are WebSocket close frames that eventlet parsed as HTTP
// requests after the upgrade failed; each pair is the message line and the
// access line, both after "127.0.0.1 - - [timestamp] ".
var badRequests = [][2]string{
	{`code 400, message Bad HTTP/0.9 request type ('\\x88\\x82\\x84Ö')`, `"\x88\x82\x84Ö\x1d \x87>" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x82Þ6G\\x08ÝÞ')`, `"\x88\x82Þ6G\x08ÝÞ" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x82\\x94o\\x13h\\x97\\x87')`, `"\x88\x82\x94o\x13h\x97\x87" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x82Ë>B\\x00ÈÖ')`, `"\x88\x82Ë>B\x00ÈÖ" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x82pz\\x94Cs\\x92')`, `"\x88\x82pz\x94Cs\x92" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x823äck0\\x0c')`, `"\x88\x823äck0\x0c" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x82G*©ËDÂ')`, `"\x88\x82G*©ËDÂ" 400 -`},
	{`code 400, message Bad request syntax ('\\x88\\x82b\\x0e\\x16\\x9eaæ')`, `"\x88\x82b\x0e\x16\x9eaæ" 400 -`},
}

// stripCarets removes the caret and tilde lines Python 3.11 added under
// failing expressions, turning a 3.11 traceback into the < 3.11 form.
func stripCarets(block string) string {
	var b strings.Builder
	for line := range strings.Lines(block) {
		if isCaretLine(line) {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

func isCaretLine(line string) bool {
	t := strings.TrimSpace(line)
	return t != "" && strings.Trim(t, "^~") == ""
}

// countLines counts the newline-terminated lines of a block.
func countLines(s string) int { return strings.Count(s, "\n") }
