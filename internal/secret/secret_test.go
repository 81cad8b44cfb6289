package secret

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET_TEST_SET", "from-the-environment")
	t.Setenv("SECRET_TEST_EMPTY", "")
	cases := []struct {
		name, env, file string
		want            string
		err             string // "" for success
	}{
		{"environment", "SECRET_TEST_SET", "", "from-the-environment", ""},
		{"file, trimmed", "", write("key", "  s3cr3t-value\n"), "s3cr3t-value", ""},
		{"neither", "", "", "", ""},
		{"empty variable", "SECRET_TEST_EMPTY", "", "", "SECRET_TEST_EMPTY is empty"},
		{"empty file", "", write("empty", "\n\n"), "", "is empty"},
		{"missing file", "", filepath.Join(dir, "nope"), "", "no such file"},
		{"a directory", "", dir, "", "not a regular file"},
		{"a FIFO, refused without blocking", "", fifo, "", "not a regular file"},
		{"a device that never ends", "", "/dev/zero", "", "not a regular file"},
		{"over the bound", "", write("big", strings.Repeat("k", MaxBytes+1)), "", "over the 65536-byte limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Read(c.env, c.file)
			switch {
			case c.err == "" && (err != nil || got != c.want):
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("got %q, %v; want an error containing %q", got, err, c.err)
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}
