package gzipjoin

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// The trailer's CRC-32 and ISIZE are those of the whole, however it is cut
// into pieces (empty ones included) and however many data slices each
// piece was compressed from.
func TestWriteTrailerIsTheWhole(t *testing.T) {
	whole := []byte(strings.Repeat(`{"requestId":"abc","success":true}`, 999))
	last := len(whole)
	for _, cuts := range [][]int{
		{}, {0}, {1}, {7}, {500}, {last - 1}, {last},
		{0, 0}, {1, 2}, {100, 20000}, {last - 2, last - 1}, {last, last},
		{3, 3, 3000},
	} {
		var pieces []*Piece
		from := 0
		for _, to := range cuts {
			pieces = append(pieces, Compress(false, whole[from:to]))
			from = to
		}
		// The final piece from two slices, as the proxy's stats are (the
		// envelope around the body).
		mid := from + (last-from)/2
		pieces = append(pieces, Compress(true, whole[from:mid], whole[mid:]))

		var out bytes.Buffer
		if err := Write(&out, pieces...); err != nil {
			t.Fatal(err)
		}
		trailer := out.Bytes()[out.Len()-TrailerLen:]
		if got, want := binary.LittleEndian.Uint32(trailer), crc32.ChecksumIEEE(whole); got != want {
			t.Errorf("cuts %v: CRC %08x, want %08x", cuts, got, want)
		}
		if got := binary.LittleEndian.Uint32(trailer[4:]); got != uint32(len(whole)) {
			t.Errorf("cuts %v: ISIZE %d, want %d", cuts, got, len(whole))
		}
		// gzip.Reader checks both too.
		r, err := gzip.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, whole) {
			t.Errorf("cuts %v: decoded %d bytes, %v", cuts, len(got), err)
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
