package main

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		quiet   bool
		out     string
		timeout time.Duration
		url     string
		wantErr bool
	}{
		{"Combined short options with an attached output take the next arguments as timeout and URL.", []string{"-qO-", "-T", "5", "http://a:1/readyz"}, true, "-", 5 * time.Second, "http://a:1/readyz", false},
		{"Separate options with attached values parse the same.", []string{"-q", "-O", "f", "-T10", "http://b"}, true, "f", 10 * time.Second, "http://b", false},
		{"A bare URL keeps the defaults.", []string{"http://c"}, false, "", 30 * time.Second, "http://c", false},
		{"A missing URL is refused.", []string{"-q"}, false, "", 0, "", true},
		{"A non-numeric timeout is refused.", []string{"-T", "soon", "http://d"}, false, "", 0, "", true},
		{"An unknown option is refused.", []string{"-x", "http://e"}, false, "", 0, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			quiet, out, timeout, url, err := parse(c.args)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			if quiet != c.quiet || out != c.out || timeout != c.timeout || url != c.url {
				t.Fatalf("got %v %q %v %q", quiet, out, timeout, url)
			}
		})
	}
}
