package system

import (
	"strings"
	"testing"
)

// The local servers listen where only this machine reaches them: their
// Host check stops a page on a rebinding name, not another machine, which
// sends "Host: localhost" itself. Another address needs AllowRemote, and
// is warned of.
func TestOnlyThisMachineUnlessAllowed(t *testing.T) {
	for addr, loopback := range map[string]bool{
		"localhost:3000": true, "127.0.0.1:0": true, "[::1]:3000": true, "LOCALHOST:8080": true,
		":3000": false, "0.0.0.0:3000": false, "[::]:3000": false, "192.168.1.20:3000": false, "myhost.example:3000": false,
	} {
		var log strings.Builder
		s := &System{opts: Options{Log: &log}}
		err := s.loopbackOnly(addr, "API")
		if loopback != (err == nil) {
			t.Errorf("%s: %v", addr, err)
		}
		if !loopback && (err == nil || !strings.Contains(err.Error(), "-allow-remote")) {
			t.Errorf("%s: the error %v does not say how to allow it", addr, err)
		}
		s.opts.AllowRemote = true
		if err := s.loopbackOnly(addr, "API"); err != nil || loopback == strings.Contains(log.String(), "warning") {
			t.Errorf("%s allowed: %v, log %q", addr, err, log.String())
		}
	}
}
