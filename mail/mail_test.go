package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-fit/cairn"
	cmail "github.com/cairn-fit/cairn/mail"
)

// smtpServer is a tiny SMTP server on the loopback interface: EHLO with
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT. It keeps what it received.
type smtpServer struct {
	ln       net.Listener
	user     string // AUTH PLAIN credentials it accepts
	password string
	rejectTo string // a recipient it refuses

	mu       sync.Mutex
	authed   string
	from, to []string
	data     []string
	done     sync.WaitGroup
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, user: "cairn", password: "s3cret", rejectTo: "nobody@example.com"}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.done.Add(1)
			go func() { defer s.done.Done(); s.serve(conn) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.done.Wait() })
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	reply("220 test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		s.mu.Lock()
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			reply("250-test\r\n250 AUTH PLAIN")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if mech == "PLAIN" && len(parts) == 3 && parts[1] == s.user && parts[2] == s.password {
				s.authed = parts[1]
				reply("235 2.7.0 accepted")
			} else {
				reply("535 5.7.8 bad credentials")
			}
		case "MAIL":
			if s.authed == "" {
				reply("530 5.7.0 authentication required")
				break
			}
			s.from = append(s.from, arg)
			reply("250 ok")
		case "RCPT":
			if strings.Contains(arg, s.rejectTo) {
				reply("550 5.1.1 no such user")
				break
			}
			s.to = append(s.to, arg)
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			s.mu.Unlock()
			body, err := tp.ReadDotBytes()
			s.mu.Lock()
			if err != nil {
				s.mu.Unlock()
				return
			}
			s.data = append(s.data, string(body))
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			s.mu.Unlock()
			return
		default:
			reply("502 unknown")
		}
		s.mu.Unlock()
	}
}

func TestSMTP(t *testing.T) {
	srv := startSMTP(t)
	s, err := cmail.ParseURL("smtp://cairn:s3cret@"+srv.ln.Addr().String(), "cairn <noreply@cairn.example>")
	if err != nil {
		t.Fatal(err)
	}
	text := "Hello Zoë,\n\nreset your password at https://cairn.example/reset?token=cairn_prt_abc\n.\nA line much longer than seventy-six characters, so that quoted-printable has to wrap it softly.\n"
	err = s.Send(context.Background(), cairn.Mail{To: "Ada <ada@example.com>", Subject: "Réinitialiser", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.authed != "cairn" || len(srv.from) != 1 || srv.from[0] != "FROM:<noreply@cairn.example>" ||
		len(srv.to) != 1 || srv.to[0] != "TO:<ada@example.com>" || len(srv.data) != 1 {
		t.Fatalf("envelope: auth %q from %v to %v, %d messages", srv.authed, srv.from, srv.to, len(srv.data))
	}
	msg, err := mail.ReadMessage(strings.NewReader(srv.data[0]))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Réinitialiser" || msg.Header.Get("To") != `"Ada" <ada@example.com>` ||
		!strings.HasSuffix(msg.Header.Get("Message-ID"), "@cairn.example>") || msg.Header.Get("Date") == "" {
		t.Fatalf("headers: %v (subject %q)", msg.Header, subject)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if want := text; string(body) != want { // the server read it with CRLF turned into LF
		t.Fatalf("body:\n%q\nwant\n%q", body, want)
	}
	for _, line := range strings.Split(srv.data[0], "\n") {
		if len(line) > 78 {
			t.Fatalf("a line over 78 characters: %q", line)
		}
	}
}

func TestSMTPFailures(t *testing.T) {
	srv := startSMTP(t)
	addr := srv.ln.Addr().String()
	wrong, _ := cmail.ParseURL("smtp://cairn:wrong@"+addr, "noreply@cairn.example")
	if err := wrong.Send(context.Background(), cairn.Mail{To: "ada@example.com", Subject: "x", Text: "x"}); cairn.ErrorCode(err) != cairn.EUNAVAILABLE {
		t.Fatalf("bad credentials: %v", err)
	}
	right, _ := cmail.ParseURL("smtp://cairn:s3cret@"+addr, "noreply@cairn.example")
	if err := right.Send(context.Background(), cairn.Mail{To: "nobody@example.com", Subject: "x", Text: "x"}); cairn.ErrorCode(err) != cairn.EUNAVAILABLE {
		t.Fatalf("refused recipient: %v", err)
	}
	for _, m := range []cairn.Mail{
		{To: "ada@example.com", Subject: "x\r\nBcc: eve@example.com", Text: "x"},
		{To: "ada@example.com\nBcc: eve@example.com", Subject: "x", Text: "x"},
		{To: "not an address", Subject: "x", Text: "x"},
	} {
		if err := right.Send(context.Background(), m); cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("%q: %v", m.To+"|"+m.Subject, err)
		}
	}
	srv.mu.Lock()
	n := len(srv.data)
	srv.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d messages went through", n)
	}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := closed.Addr().String()
	closed.Close()
	down, _ := cmail.ParseURL("smtp://"+gone, "noreply@cairn.example")
	if err := down.Send(context.Background(), cairn.Mail{To: "ada@example.com", Subject: "x", Text: "x"}); cairn.ErrorCode(err) != cairn.EUNAVAILABLE {
		t.Fatalf("server down: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	s, err := cmail.ParseURL("smtps://u%40x:p%3Aw@mail.example", "a@b.example")
	if err != nil || s.Addr != "mail.example:465" || !s.ImplicitTLS || s.Username != "u@x" || s.Password != "p:w" {
		t.Fatalf("%+v %v", s, err)
	}
	if s, _ := cmail.ParseURL("smtp://mail.example", "a@b.example"); s.Addr != "mail.example:587" || s.ImplicitTLS || s.Username != "" {
		t.Fatalf("%+v", s)
	}
	for _, bad := range []string{"", "http://mail.example", "smtp://", "mail.example:25"} {
		if _, err := cmail.ParseURL(bad, "a@b.example"); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
	if _, err := cmail.ParseURL("smtp://mail.example", "not an address"); err == nil {
		t.Error("a bad sender accepted")
	}
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	l := cmail.Log{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := l.Send(context.Background(), cairn.Mail{To: "ada@example.com", Subject: "Reset", Text: "link"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"to":"ada@example.com"`) || !strings.Contains(buf.String(), `"text":"link"`) {
		t.Fatalf("log: %s", buf.String())
	}
}
