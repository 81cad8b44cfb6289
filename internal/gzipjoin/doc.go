// Package gzipjoin makes one standard gzip member (RFC 1952) out of pieces
// compressed apart, so that a response assembled from cached parts can be
// served compressed without compressing anything per request: each piece
// is raw DEFLATE ending on a byte boundary (the last in the final block),
// and the trailer's CRC-32 continues the first piece's over the bytes of
// the others.
//
// One member rather than several concatenated members: a multi-member
// stream is decoded by Go and zlib's gunzip, but some HTTP stacks stop at
// the first member and silently truncate the body.
package gzipjoin
