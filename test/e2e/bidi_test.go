package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// bidiMessage is a WebDriver BiDi command's result or an event, as far as
// the tests read it.
type bidiMessage struct {
	ID      int             `json:"id"`
	Type    string          `json:"type"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Params  struct {
		Text string `json:"text"`
	} `json:"params"`
}

// record keeps m if it is a console entry.
func (c *consoleLog) record(m bidiMessage) {
	if m.Method == "log.entryAdded" {
		c.add(m.Params.Text)
	}
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// openWithConsole drives a Firefox started with --remote-debugging-port 0
// over WebDriver BiDi, which it has built in (Debian has no geckodriver, and
// headless Firefox prints its CORS messages nowhere else): it waits for the
// port in Firefox's output, subscribes to console entries, opens url, and
// collects every entry until the test ends.
func openWithConsole(t *testing.T, output *lockedBuffer, url string) *consoleLog {
	t.Helper()
	var endpoint string
	for deadline := time.Now().Add(time.Minute); endpoint == ""; time.Sleep(20 * time.Millisecond) {
		if m := bidiListening.FindStringSubmatch(output.String()); m != nil {
			endpoint = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("Firefox never said where WebDriver BiDi listens; its output:\n%s", output)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, strings.TrimSuffix(endpoint, "/")+"/session", nil)
	if err != nil {
		t.Fatalf("WebDriver BiDi: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	conn.SetReadLimit(1 << 24)
	console := &consoleLog{}
	id := 0
	call := func(method string, params any) json.RawMessage {
		id++
		if err := wsjson.Write(ctx, conn, map[string]any{"id": id, "method": method, "params": params}); err != nil {
			t.Fatalf("WebDriver BiDi %s: %v", method, err)
		}
		for {
			var m bidiMessage
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatalf("WebDriver BiDi %s: %v", method, err)
			}
			console.record(m)
			if m.ID != id {
				continue
			}
			if m.Type == "error" {
				t.Fatalf("WebDriver BiDi %s: %s: %s", method, m.Error, m.Message)
			}
			return m.Result
		}
	}
	call("session.new", map[string]any{"capabilities": map[string]any{}})
	call("session.subscribe", map[string]any{"events": []string{"log.entryAdded"}})
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(call("browsingContext.getTree", map[string]any{}), &tree); err != nil || len(tree.Contexts) == 0 {
		t.Fatalf("WebDriver BiDi: no page to open %s in (%v)", url, err)
	}
	call("browsingContext.navigate", map[string]any{"context": tree.Contexts[0].Context, "url": url, "wait": "none"})
	go func() {
		for {
			var m bidiMessage
			if wsjson.Read(ctx, conn, &m) != nil {
				return
			}
			console.record(m)
		}
	}()
	return console
}
