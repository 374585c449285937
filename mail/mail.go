// Package mail sends cairn's mail (password resets, …) through an SMTP
// server with net/smtp, or writes it into the log when no server is
// configured.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// Log writes each mail into the log instead of sending it: the default
// when no SMTP server is configured, so that a self-hosted cairn works
// without one. The log then holds the mail's text, reset links included:
// configure SMTP in production.
type Log struct{ Log *slog.Logger }

// Send logs m.
func (l Log) Send(ctx context.Context, m cairn.Mail) error {
	l.Log.InfoContext(ctx, "mail not sent: no SMTP server is configured", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}

// SMTP sends through an SMTP server: STARTTLS when the server offers it
// (or TLS from the start for smtps://), then AUTH PLAIN when a user is
// configured (net/smtp refuses it without TLS except on localhost).
type SMTP struct {
	Addr        string // host:port
	Username    string
	Password    string
	From        string // the sender address
	ImplicitTLS bool   // smtps: TLS from the first byte (port 465)
	// Timeout bounds one mail's whole exchange; 30 s when zero.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests); nil verifies the
	// server's certificate for its host name.
	TLSConfig *tls.Config
}

// ParseURL reads an SMTP server's address: smtp://user:password@host:587
// (STARTTLS when offered) or smtps://user:password@host:465. from is the
// sender address.
func ParseURL(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("mail: the SMTP URL must be smtp://[user:password@]host[:port] or smtps://…")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: the sender address %q is not an address", from)
	}
	s := &SMTP{From: from, ImplicitTLS: u.Scheme == "smtps"}
	port := u.Port()
	if port == "" {
		port = "587"
		if s.ImplicitTLS {
			port = "465"
		}
	}
	s.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m cairn.Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	tlsConfig := s.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return unavailable(err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if s.ImplicitTLS {
		conn = tls.Client(conn, tlsConfig)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return unavailable(err)
	}
	defer c.Close()
	if !s.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return unavailable(err)
			}
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return unavailable(err)
		}
	}
	if err := c.Mail(s.envelope(s.From)); err != nil {
		return unavailable(err)
	}
	if err := c.Rcpt(s.envelope(m.To)); err != nil {
		return unavailable(err)
	}
	w, err := c.Data()
	if err != nil {
		return unavailable(err)
	}
	if _, err := w.Write(msg); err != nil {
		return unavailable(err)
	}
	if err := w.Close(); err != nil {
		return unavailable(err)
	}
	return unavailableOrNil(c.Quit())
}

func unavailable(err error) error {
	return cairn.Wrap(cairn.EUNAVAILABLE, err, "the mail could not be sent")
}

func unavailableOrNil(err error) error {
	if err == nil {
		return nil
	}
	return unavailable(err)
}

// envelope returns the bare address of a header address.
func (s *SMTP) envelope(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return addr
	}
	return a.Address
}

// message renders m as an RFC 5322 message: UTF-8 text, quoted-printable.
func (s *SMTP) message(m cairn.Mail) ([]byte, error) {
	for _, v := range []string{m.To, m.Subject, s.From} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, cairn.Errorf(cairn.EVALIDATION, "a mail header holds a line break")
		}
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, cairn.Invalid(map[string]string{"to": "is not an email address"})
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	if err := qp.Close(); err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return b.Bytes(), nil
}
