// Command wget is the part of wget the chart's `helm test` pod uses
// (`wget -qO- -T 5 URL`), for the busybox image: Debian's static busybox
// crashes in its own wget on this kind of machine, and its shell and grep
// are all the rest of that pod needs.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	quiet, out, timeout, url, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "wget:", err)
		fmt.Fprintln(os.Stderr, "usage: wget [-q] [-O FILE|-] [-T SECONDS] URL")
		os.Exit(2)
	}
	if err := get(url, out, timeout); err != nil {
		if !quiet {
			fmt.Fprintln(os.Stderr, "wget:", err)
		}
		os.Exit(1)
	}
}

// parse reads busybox-style arguments, where short options combine and
// take their value attached or as the next argument: -qO- -T 5 URL.
func parse(args []string) (quiet bool, out string, timeout time.Duration, url string, err error) {
	timeout = 30 * time.Second
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if url != "" {
				return quiet, out, timeout, url, fmt.Errorf("more than one URL")
			}
			url = a
			continue
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 'q':
				quiet = true
			case 'O', 'T':
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return quiet, out, timeout, url, fmt.Errorf("-%c needs a value", c)
					}
					i++
					v = args[i]
				}
				if c == 'O' {
					out = v
				} else {
					secs, err := strconv.Atoi(v)
					if err != nil || secs <= 0 {
						return quiet, out, timeout, url, fmt.Errorf("-T %q is not a number of seconds", v)
					}
					timeout = time.Duration(secs) * time.Second
				}
				j = len(a)
			default:
				return quiet, out, timeout, url, fmt.Errorf("unknown option -%c", c)
			}
		}
	}
	if url == "" {
		return quiet, out, timeout, url, fmt.Errorf("no URL")
	}
	return quiet, out, timeout, url, nil
}

func get(url, out string, timeout time.Duration) error {
	resp, err := (&http.Client{Timeout: timeout}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("server returned error: %s", resp.Status)
	}
	w := io.Writer(os.Stdout)
	if out != "-" {
		if out == "" {
			out = "index.html"
		}
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
