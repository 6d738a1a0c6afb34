package web

import (
	"embed"
	"io/fs"
)

// embedded holds dist/app, the Vite build, once `make build` has run; a
// fresh clone has only the placeholder beside it.
//
//go:embed all:dist
var embedded embed.FS

// Built returns the embedded build of the web app, or nil when the binary
// was compiled without one.
func Built() fs.FS {
	app, err := fs.Sub(embedded, "dist/app")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(app, "index.html"); err != nil {
		return nil
	}
	return app
}
