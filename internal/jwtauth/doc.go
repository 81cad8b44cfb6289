// Package jwtauth verifies the bearer tokens of Mudbase clients and mints
// the HS256 tokens of operators, the demo and the exporter sidecar.
//
// Verification is golang-jwt v5's parser with explicit options — an
// algorithm allow-list, exp required, iat checked, optional issuer and
// audience, strict base64 — and keys picked by algorithm family, so an HS
// token is only ever checked against the HMAC secret and an RS/ES token
// only against JWKS keys (MicahParks/keyfunc). A verified token is
// remembered until its exp, so a client sending the same token on every
// request pays for the signature once.
//
// Before the parser sees a token, its header and claims are read once more
// for what golang-jwt has no option for: a member name given twice, at any
// depth ({"sub":"a","sub":"b"}, which the parser would read as "b"), and a
// crit header, whose extensions mudscf does not understand (RFC 7515
// §4.1.11), refuse the token whatever its signature.
package jwtauth
