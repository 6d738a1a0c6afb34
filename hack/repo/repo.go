// Package repo finds the repository a tool or a test runs in.
package repo

import (
	"errors"
	"os"
	"path/filepath"
)

// Root is the directory holding go.work, at or above the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work at or above the working directory")
		}
		dir = parent
	}
}
