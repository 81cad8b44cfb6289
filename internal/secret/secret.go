package secret

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// MaxBytes bounds a secret: keys, tokens and URLs are far shorter, and a
// secret file pointing at /dev/zero must not grow the process.
const MaxBytes = 64 << 10

// Read returns the value of the environment variable env, or else the
// contents of file, trimmed of surrounding white space; "" when both are
// empty. A named source that is empty, missing or unreadable is an error.
func Read(env, file string) (string, error) {
	switch {
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("the environment variable %s is empty", env)
		}
		if len(v) > MaxBytes {
			return "", fmt.Errorf("the environment variable %s is over %d bytes", env, MaxBytes)
		}
		return v, nil
	case file != "":
		b, err := ReadFile(file, MaxBytes)
		if err != nil {
			return "", err
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("the file %s is empty", file)
		}
		return v, nil
	}
	return "", nil
}

// ReadFile reads a regular file of at most limit bytes. The file is opened
// without blocking and checked before it is read, so that a FIFO (which
// would block the open until a writer came) or a device such as /dev/zero
// (which never ends) is refused at once.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, errors.New(path + " grew past its size limit while being read")
	}
	return b, nil
}
