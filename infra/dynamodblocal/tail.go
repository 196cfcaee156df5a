package dynamodblocal

import (
	"bytes"
	"strings"
	"sync"
)

// outputLines is how much of DynamoDB Local's own output a start-up error
// quotes: enough for a Java stack trace's cause, short enough to read.
const outputLines = 15

// tail is an io.Writer that keeps the last n lines written to it.
type tail struct {
	mu      sync.Mutex
	n       int
	lines   []string
	partial []byte
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(bytes.TrimRight(t.partial[:i], "\r")))
		t.partial = t.partial[i+1:]
	}
	return len(p), nil
}

func (t *tail) add(line string) {
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// String is the kept lines, with an unfinished last line, or "(no output)".
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		lines = append(lines, string(t.partial))
	}
	if len(lines) > t.n {
		lines = lines[len(lines)-t.n:]
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return "  " + strings.Join(lines, "\n  ")
}
