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
package jwtauth
