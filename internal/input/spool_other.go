//go:build !linux

package input

import "os"

func createUnnamed(dir string) (*os.File, error) { return createUnnamedTemp(dir) }
