package jwtauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

var (
	// errDuplicateMember is a JOSE header or claims set naming a member
	// twice. RFC 7515 §5.2 and RFC 7519 §4 let a parser reject it or take
	// the last; golang-jwt takes the last, so {"sub":"a","sub":"b"} would
	// mean whatever the reader's JSON library decides. We reject.
	errDuplicateMember = errors.New("a member name appears twice in the header or the claims")
	// errCritical is a header with a crit parameter. It names extensions
	// the recipient must understand (RFC 7515 §4.1.11), and mudscf
	// understands none, so a token with one is refused, as is a crit that
	// is not a list of names.
	errCritical = errors.New("the header names critical extensions (crit), and none is supported")
)

// checkJOSE checks what golang-jwt lets through: duplicate member names,
// at any depth, in the header or the claims, and a crit header. It decodes
// the header and claims segments as the parser will (strict base64url
// without padding), once more; it runs only before a signature check,
// never for a token the cache remembers.
func checkJOSE(raw string) error {
	header, rest, ok := strings.Cut(raw, ".")
	claims, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return jwt.ErrTokenMalformed
	}
	var hasCrit bool
	for i, seg := range []string{header, claims} {
		b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
		if err != nil {
			return fmt.Errorf("%w: segment %d is not base64url", jwt.ErrTokenMalformed, i)
		}
		top, err := uniqueMembers(b)
		if err != nil {
			return err
		}
		if i == 0 {
			_, hasCrit = top["crit"]
		}
	}
	if hasCrit {
		return errCritical
	}
	return nil
}

// uniqueMembers checks that b is one JSON object in which no object, at
// any depth, names a member twice, and returns the top level's names.
// Nesting is bounded by MaxTokenBytes.
func uniqueMembers(b []byte) (map[string]struct{}, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers are skipped: not worth parsing
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", jwt.ErrTokenMalformed)
	}
	top, err := objectMembers(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", jwt.ErrTokenMalformed)
	}
	return top, nil
}

// objectMembers reads an object's members, after its '{', through its
// '}'.
func objectMembers(dec *json.Decoder) (map[string]struct{}, error) {
	seen := map[string]struct{}{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
		}
		// Names compare unescaped: "s\u0075b" is "sub".
		name, _ := tok.(string)
		if _, dup := seen[name]; dup {
			return nil, errDuplicateMember
		}
		seen[name] = struct{}{}
		if err := skipValue(dec); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
	}
	return seen, nil
}

// skipValue reads one value, checking the objects in it.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
	}
	switch tok {
	case json.Delim('{'):
		_, err := objectMembers(dec)
		return err
	case json.Delim('['):
		for dec.More() {
			if err := skipValue(dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
		}
	}
	return nil
}
