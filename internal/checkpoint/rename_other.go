//go:build !linux

package checkpoint

func renameNoReplace(old, new string) error { return checkThenRename(old, new) }
