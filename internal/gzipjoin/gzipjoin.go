package gzipjoin

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// Piece is part of a gzip stream as raw DEFLATE blocks, with the CRC-32
// and length of the bytes it encodes.
type Piece struct {
	deflate []byte
	crc     uint32
	n       int64 // bytes it decodes to
}

// Len is how many compressed bytes the piece adds to a member.
func (p *Piece) Len() int { return len(p.deflate) }

// Compress makes a piece of the data, in order. A piece that others follow
// (final false) ends in a sync flush, on a byte boundary; the last piece
// of a member (final true) ends in DEFLATE's final block.
func Compress(final bool, data ...[]byte) *Piece {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression) // the level is valid
	p := &Piece{}
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
// final. It compresses nothing: the trailer's CRC is combined from the
// pieces'.
func Write(w io.Writer, pieces ...*Piece) error {
	var crc uint32
	var n int64
	for _, p := range pieces {
		crc = crc32Combine(crc, p.crc, p.n)
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

// crc32Combine is the CRC-32 (IEEE) of A then B from crc1 = CRC(A),
// crc2 = CRC(B) and len2 = len(B), without reading either: zlib's
// crc32_combine, which multiplies crc1 by x^(8·len2) modulo the
// polynomial by repeated squaring of the one-zero-bit operator. Go's
// hash/crc32 has no such function. Its cost grows with log(len2), and the
// stats half it is called with is small.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	if crc1 == 0 {
		// Zero times x^(8·len2) is zero: the first piece's combine, on
		// every answer, costs nothing (it was ~14 µs for a 15 KB page).
		return crc2
	}
	var even, odd [32]uint32
	odd[0] = crc32.IEEE // the operator for one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		gf2Square(&even, &odd) // the first pass: one zero byte
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}
