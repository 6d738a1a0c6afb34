package testkit

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// mailpitModule is the SMTP server the mail tests deliver to, built from
// the module proxy: a real server that speaks SMTP as a relay does and
// shows what it received through its HTTP API.
const mailpitModule = "github.com/axllent/mailpit@v1.33.1"

// Mailpit is a running mailpit: SMTPHost and SMTPPort take mail, API
// reads it.
type Mailpit struct {
	SMTPHost string
	SMTPPort int
	API      string
}

// MailMessage is a message mailpit received.
type MailMessage struct {
	ID      string
	Subject string
	To      []struct{ Address string }
	Text    string
}

var mailpitBuild struct {
	once sync.Once
	bin  string
	err  error
}

// mailpitBinary builds mailpit into the repository's bin/ once, under a
// directory named after its version so that a new version is rebuilt.
// Test binaries of several packages may build at once: each installs into
// a directory of its own and renames the result into place.
func mailpitBinary(t testing.TB) string {
	t.Helper()
	mailpitBuild.once.Do(func() {
		dir := filepath.Join(repoRoot(), "bin", "mailpit-"+mailpitModule[len("github.com/axllent/mailpit@"):])
		mailpitBuild.bin = filepath.Join(dir, "mailpit")
		if _, err := os.Stat(mailpitBuild.bin); err == nil {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			mailpitBuild.err = err
			return
		}
		tmp, err := os.MkdirTemp(dir, "build-")
		if err != nil {
			mailpitBuild.err = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "install", mailpitModule)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			mailpitBuild.err = fmt.Errorf("go install %s: %v\n%s", mailpitModule, err, out)
			return
		}
		mailpitBuild.err = os.Rename(filepath.Join(tmp, "mailpit"), mailpitBuild.bin)
	})
	if mailpitBuild.err != nil {
		t.Fatal(mailpitBuild.err)
	}
	return mailpitBuild.bin
}

// StartMailpit runs mailpit on free ports until the test ends. It accepts
// any SMTP login, so that a client that authenticates can be tested too.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin := mailpitBinary(t)
	smtpAddr, uiAddr := FreeAddr(t), FreeAddr(t)
	host, port, _ := net.SplitHostPort(smtpAddr)
	m := &Mailpit{SMTPHost: host, API: "http://" + uiAddr}
	m.SMTPPort, _ = strconv.Atoi(port)
	StartBinary(t, bin, m.API+"/readyz", []string{"MP_SMTP_BIND_ADDR=" + smtpAddr, "MP_UI_BIND_ADDR=" + uiAddr,
		"MP_SMTP_AUTH_ACCEPT_ANY=true", "MP_SMTP_AUTH_ALLOW_INSECURE=true", "MP_DISABLE_VERSION_CHECK=true"})
	return m
}

// Messages returns the messages mailpit received for to, newest first,
// with their text.
func (m *Mailpit) Messages(t testing.TB, to string) []MailMessage {
	t.Helper()
	var list struct{ Messages []MailMessage }
	if status, raw := Do(t, http.DefaultClient, "GET", m.API+"/api/v1/search?query="+url.QueryEscape("to:"+to), "", nil, &list); status != 200 {
		t.Fatalf("mailpit search: %d %s", status, raw)
	}
	for i := range list.Messages {
		var full MailMessage
		if status, raw := Do(t, http.DefaultClient, "GET", m.API+"/api/v1/message/"+list.Messages[i].ID, "", nil, &full); status != 200 {
			t.Fatalf("mailpit message: %d %s", status, raw)
		}
		list.Messages[i].Text = full.Text
	}
	return list.Messages
}

// WaitForMessages waits up to d for n messages to to and returns them,
// newest first.
func (m *Mailpit) WaitForMessages(t testing.TB, to string, n int, d time.Duration) []MailMessage {
	t.Helper()
	var got []MailMessage
	Eventually(t, d, fmt.Sprintf("%d messages to %s", n, to), func() bool {
		got = m.Messages(t, to)
		return len(got) >= n
	})
	return got
}
