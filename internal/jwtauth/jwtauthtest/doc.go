// Package jwtauthtest provides what tests of token verification need, in
// the jwtauth package and in the HTTP edge's: RSA and EC keys, a JWK Set
// server they can change, signing (also of raw JSON, duplicate members and
// all), and a tampered token.
package jwtauthtest
