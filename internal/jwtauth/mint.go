package jwtauth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenClaims are what MintToken puts in a token.
type TokenClaims struct {
	Subject  string
	Projects []string
	Roles    []string
	Issuer   string
	Audience string
	TTL      time.Duration
}

// MintToken signs an HS256 token for operators, the demo and tests, with
// the claim names of a JWTConfig.
func MintToken(secret []byte, cfg Config, c TokenClaims, now time.Time) (string, error) {
	if c.Subject == "" || c.TTL <= 0 {
		return "", errors.New("a token needs a subject and a positive TTL")
	}
	claims := jwt.MapClaims{
		"sub": c.Subject,
		"iat": now.Unix(),
		"exp": now.Add(c.TTL).Unix(),
	}
	if c.Issuer != "" {
		claims["iss"] = c.Issuer
	}
	if c.Audience != "" {
		claims["aud"] = c.Audience
	}
	if len(c.Projects) > 0 && cfg.ProjectsClaim != "" && cfg.ProjectsClaim != "-" {
		claims[cfg.ProjectsClaim] = c.Projects
	}
	if len(c.Roles) > 0 {
		claims[cfg.RolesClaim] = c.Roles
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
