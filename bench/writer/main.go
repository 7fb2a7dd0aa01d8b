// Command writer appends numbered access-log lines to many files at a
// steady rate, for bench/scale.sh: -files files in -dir, each written
// -rate lines a second for -for, in 10 ms steps.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "", "directory of the files (app0.log ...)")
	files := flag.Int("files", 1, "number of files")
	rate := flag.Int("rate", 10000, "lines per second per file")
	dur := flag.Duration("for", 20*time.Second, "how long to write")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "writer: -dir is required")
		os.Exit(2)
	}
	ws := make([]*bufio.Writer, *files)
	for i := range ws {
		f, err := os.OpenFile(filepath.Join(*dir, fmt.Sprintf("app%d.log", i)), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		ws[i] = bufio.NewWriterSize(f, 256<<10)
	}
	const step = 10 * time.Millisecond
	perStep := max(*rate/100, 1)
	start := time.Now()
	tick := time.NewTicker(step)
	defer tick.Stop()
	n := 0
	for time.Since(start) < *dur {
		<-tick.C
		for _, w := range ws {
			for range perStep {
				fmt.Fprintf(w, "127.0.0.1 - - [25/Nov/2026 21:44:28] \"GET /items/%d HTTP/1.1\" 200 -\n", n)
				n++
			}
			w.Flush()
		}
	}
	fmt.Println(n)
}
