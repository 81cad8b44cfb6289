package gzipjoin

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// The CRC combined from two halves' is the CRC of the whole.
func TestCRC32Combine(t *testing.T) {
	whole := []byte(strings.Repeat(`{"requestId":"abc","success":true}`, 999))
	for _, cut := range []int{0, 1, 2, 7, 500, len(whole) - 1, len(whole)} {
		a, b := whole[:cut], whole[cut:]
		if got, want := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b))), crc32.ChecksumIEEE(whole); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// Pieces compressed apart decode, joined, as one member with no bytes
// left over: Go's reader with multistream off sees the whole body.
func TestWriteJoinsOneMember(t *testing.T) {
	parts := [][]byte{[]byte(`{"head":`), []byte(strings.Repeat("page ", 5000)), []byte(`,"tail":null}`)}
	var out bytes.Buffer
	pieces := []*Piece{Compress(false, parts[0], parts[1]), Compress(true, parts[2])}
	if err := Write(&out, pieces...); err != nil {
		t.Fatal(err)
	}
	if out.Len() != Size(pieces...) {
		t.Errorf("wrote %d bytes, Size says %d", out.Len(), Size(pieces...))
	}
	r, err := gzip.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	r.Multistream(false)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Join(parts, nil); !bytes.Equal(got, want) {
		t.Errorf("decoded %d bytes, want %d", len(got), len(want))
	}
	if rest, _ := io.ReadAll(&out); len(rest) != 0 {
		t.Errorf("%d bytes after the member", len(rest))
	}
}

func BenchmarkWrite(b *testing.B) {
	page := Compress(false, []byte(strings.Repeat(`{"requestId":"0f0e8c1e","success":true,"executionTime":125},`, 250)))
	stats := Compress(true, []byte(`{"totalExecutions":42,"successful":40}`))
	b.ReportAllocs()
	for b.Loop() {
		_ = Write(io.Discard, page, stats)
	}
}
