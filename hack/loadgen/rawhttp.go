package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// rawClient posts over one keep-alive HTTP/1.1 connection with as little
// work as the protocol allows, as wrk does. The load generator shares the
// machine with what it measures, and net/http's client spends about as
// much CPU on a small request as the service does answering it: every
// cycle it spends is one the services under test do not get. It speaks
// only what the single-post loop needs: a POST with a body, and responses
// with Content-Length or chunked bodies.
type rawClient struct {
	addr, host string
	prefix     string // the target's path, before the API's paths
	timeout    time.Duration
	clock      clock.Clock // of the connection's deadlines
	conn       net.Conn
	r          *bufio.Reader
	req        []byte
	body       []byte
}

func newRawClient(target string, timeout time.Duration, clk clock.Clock) (*rawClient, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("the lean client speaks plain http, not %s", u.Scheme)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &rawClient{addr: addr, host: u.Host, prefix: u.EscapedPath(), timeout: timeout, clock: clk}, nil
}

// post sends body to path (under the target's) and returns the status and the response body,
// valid until the next call.
func (c *rawClient) post(path, token string, body []byte) (int, []byte, error) {
	status, resp, err := c.roundTrip(path, token, body)
	if err != nil && c.conn != nil {
		// The connection's state is unknown after an error: start over.
		c.conn.Close()
		c.conn = nil
	}
	return status, resp, err
}

func (c *rawClient) roundTrip(path, token string, body []byte) (int, []byte, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return 0, nil, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 16<<10)
	}
	c.req = append(c.req[:0], "POST "...)
	c.req = append(c.req, c.prefix...)
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.host...)
	c.req = append(c.req, "\r\nAuthorization: Bearer "...)
	c.req = append(c.req, token...)
	c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	if err := c.conn.SetDeadline(c.clock.Now().Add(c.timeout)); err != nil {
		return 0, nil, err
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, nil, err
	}
	return c.readResponse()
}

var errMalformed = errors.New("malformed HTTP response")

func (c *rawClient) readResponse() (int, []byte, error) {
	line, err := c.line()
	if err != nil {
		return 0, nil, err
	}
	// HTTP/1.1 201 Created
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, errMalformed
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, errMalformed
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.line()
		if err != nil {
			return 0, nil, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, nil, errMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.readChunks()
	case length >= 0:
		c.body = append(c.body, make([]byte, length)...)
		_, err = io.ReadFull(c.r, c.body)
	default:
		return 0, nil, errors.New("a response without a length")
	}
	if err == nil && closing {
		c.conn.Close()
		c.conn = nil
	}
	return status, c.body, err
}

func (c *rawClient) readChunks() error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 32)
		if err != nil || n < 0 {
			return errMalformed
		}
		if n == 0 {
			for { // trailers, up to the blank line
				if line, err = c.line(); err != nil || len(line) == 0 {
					return err
				}
			}
		}
		start := len(c.body)
		c.body = append(c.body, make([]byte, n)...)
		if _, err := io.ReadFull(c.r, c.body[start:]); err != nil {
			return err
		}
		if line, err = c.line(); err != nil || len(line) != 0 {
			return errMalformed
		}
	}
}

// line reads a CRLF-terminated line without it; the bytes are valid until
// the next read.
func (c *rawClient) line() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")), nil
}
