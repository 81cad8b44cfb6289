package gzipjoin

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"slices"
)

// Piece is part of a gzip stream as raw DEFLATE blocks, with the bytes it
// encodes and their CRC-32.
type Piece struct {
	deflate []byte
	data    [][]byte // what it encodes, kept for the trailer's CRC (Write)
	crc     uint32   // of data
	n       int64    // len(data), summed
}

// Len is how many compressed bytes the piece adds to a member.
func (p *Piece) Len() int { return len(p.deflate) }

// Compress makes a piece of the data, in order. A piece that others follow
// (final false) ends in a sync flush, on a byte boundary; the last piece
// of a member (final true) ends in DEFLATE's final block. The piece keeps
// data, not a copy, for Write: the caller must not change it afterwards.
func Compress(final bool, data ...[]byte) *Piece {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression) // the level is valid
	p := &Piece{data: slices.Clone(data)}
	for _, d := range data {
		_, _ = w.Write(d) // writes to a bytes.Buffer do not fail
		p.crc = crc32.Update(p.crc, crc32.IEEETable, d)
		p.n += int64(len(d))
	}
	if final {
		_ = w.Close()
	} else {
		_ = w.Flush()
	}
	p.deflate = bytes.Clone(buf.Bytes())
	return p
}

// HeaderLen and TrailerLen are RFC 1952's fixed overhead of a member.
const (
	HeaderLen  = 10
	TrailerLen = 8
)

// header is RFC 1952's fixed header: DEFLATE, no flags, no modification
// time, unknown OS (as Go's gzip.Writer writes it).
var header = [HeaderLen]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// Size is the length of the member Write makes of pieces.
func Size(pieces ...*Piece) int {
	n := HeaderLen + TrailerLen
	for _, p := range pieces {
		n += p.Len()
	}
	return n
}

// Write writes one gzip member of pieces, the last of which must be
// final. It compresses nothing. The trailer's CRC starts from the first
// piece's and runs on over the bytes of the others, so an answer costs a
// CRC over everything but its first piece: the proxy's page comes first
// and its stats, a few dozen bytes, after.
func Write(w io.Writer, pieces ...*Piece) error {
	var crc uint32
	var n int64
	for i, p := range pieces {
		if i == 0 {
			crc = p.crc
		} else {
			for _, d := range p.data {
				crc = crc32.Update(crc, crc32.IEEETable, d)
			}
		}
		n += p.n
	}
	var trailer [TrailerLen]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(n)) // ISIZE is the size modulo 2^32
	if _, err := w.Write(header[:]); err != nil {
		return err
	}
	for _, p := range pieces {
		if _, err := w.Write(p.deflate); err != nil {
			return err
		}
	}
	_, err := w.Write(trailer[:])
	return err
}
