package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// inspectorAddress is a loopback address for WebKit's remote inspector
// (WEBKIT_INSPECTOR_HTTP_SERVER), which takes no port 0: a port the system
// gave and took back. openWithInspector fails saying so if another process
// took it in between.
func inspectorAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// inspectorMessage is a WebKit inspector protocol message, as far as the
// tests read it: the page target's creation, and what a target says, itself
// a message (a console entry).
type inspectorMessage struct {
	Method string `json:"method"`
	Params struct {
		TargetInfo struct {
			TargetID string `json:"targetId"`
		} `json:"targetInfo"`
		TargetID string `json:"targetId"`
		Message  string `json:"message"`
	} `json:"params"`
}

var inspectable = regexp.MustCompile(`/socket/\d+/\d+/WebPage`)

// openWithInspector drives a MiniBrowser started with its remote inspector
// at addr, WebKitGTK's own protocol (its WebDriver has no BiDi and classic
// WebDriver no console; MiniBrowser prints its console nowhere): it finds
// the page in the inspector's list, enables the console of every page
// target it creates (a navigation may swap the page's process, which makes
// a new one), opens url, and collects every console message until the test
// ends. Console.enable replays what a target printed before it.
func openWithInspector(t *testing.T, addr, url string) *consoleLog {
	t.Helper()
	var socket string
	for deadline := time.Now().Add(time.Minute); socket == ""; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			socket = inspectable.FindString(string(page))
		}
		if socket == "" && time.Now().After(deadline) {
			t.Fatalf("WebKit's remote inspector at %s listed no page (its port taken by another process?)", addr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+socket, nil)
	if err != nil {
		t.Fatalf("WebKit's remote inspector: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	conn.SetReadLimit(1 << 24)
	var mu sync.Mutex
	id := 0
	toTarget := func(target, method string, params any) {
		mu.Lock()
		id++
		inner, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
		id++
		msg := map[string]any{"id": id, "method": "Target.sendMessageToTarget", "params": map[string]any{"targetId": target, "message": string(inner)}}
		mu.Unlock()
		wsjson.Write(ctx, conn, msg) // a failure shows as a console without the sentinel
	}
	console := &consoleLog{}
	opened := make(chan string, 1)
	go func() {
		for {
			var m inspectorMessage
			if wsjson.Read(ctx, conn, &m) != nil {
				return
			}
			switch m.Method {
			case "Target.targetCreated":
				toTarget(m.Params.TargetInfo.TargetID, "Console.enable", map[string]any{})
				select {
				case opened <- m.Params.TargetInfo.TargetID:
				default:
				}
			case "Target.dispatchMessageFromTarget":
				var inner struct {
					Method string `json:"method"`
					Params struct {
						Message struct {
							Text string `json:"text"`
						} `json:"message"`
					} `json:"params"`
				}
				if json.Unmarshal([]byte(m.Params.Message), &inner) == nil && inner.Method == "Console.messageAdded" {
					console.add(inner.Params.Message.Text)
				}
			}
		}
	}()
	select {
	case target := <-opened:
		toTarget(target, "Page.navigate", map[string]any{"url": url})
	case <-time.After(time.Minute):
		t.Fatalf("WebKit's remote inspector announced no page target")
	}
	return console
}

var (
	webkitURL    = regexp.MustCompile(`\bhttps?://\S+`)
	webkitOrigin = regexp.MustCompile(`\bOrigin (…|null) is`)
	webkitNamed  = regexp.MustCompile(`\b(Method|Request header field) \S+ is`)
	webkitStatus = regexp.MustCompile(`(Status code:|a status of) \d+.*$`)
	webkitValue  = regexp.MustCompile(`has an invalid value: .*$`)
)

// webkitKind is a WebKit console message without what varies between calls
// (URLs, origins, method and header names, values, status codes). WebKit
// prints a refusal's reason twice, alone and after "Failed to load
// resource: ", so the kind is the reason.
func webkitKind(m string) string {
	m = strings.TrimPrefix(strings.TrimSpace(m), "Failed to load resource: ")
	m = webkitURL.ReplaceAllString(m, "…")
	m = webkitOrigin.ReplaceAllString(m, "Origin … is")
	m = webkitNamed.ReplaceAllString(m, "$1 … is")
	m = webkitStatus.ReplaceAllString(m, "$1 …")
	return webkitValue.ReplaceAllString(m, "has an invalid value: …")
}
