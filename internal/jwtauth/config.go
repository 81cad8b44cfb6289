package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/secret"
	"github.com/mudscf/mudscf/internal/yamlconfig"
)

// Config says which bearer tokens are valid and what they grant.
type Config struct {
	// Algorithms is the explicit allow-list, e.g. [HS256] or [RS256, ES256].
	// Tokens signed otherwise (alg none included) are rejected.
	Algorithms []string `yaml:"algorithms"`
	// SecretEnv or SecretFile hold the HS256 secret.
	SecretEnv  string `yaml:"secretEnv"`
	SecretFile string `yaml:"secretFile"`
	// JWKSURL serves the RS256/ES256 public keys; they are cached and
	// refreshed when a token names an unknown kid.
	JWKSURL string `yaml:"jwksURL"`
	// Issuer and Audience, when set, must match iss and aud.
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// Leeway absorbs clock skew on exp, nbf and iat (default 30s, at most
	// 5m; 0 means the default).
	Leeway time.Duration `yaml:"leeway"`
	// ProjectsClaim names a claim listing project IDs the token may read
	// (default "projects"; "-" turns it off).
	ProjectsClaim string `yaml:"projectsClaim"`
	// RolesClaim names the claim with the token's roles (default "roles").
	RolesClaim string `yaml:"rolesClaim"`
	// BackgroundRole marks tokens whose traffic yields to interactive
	// clients in the budget: the exporter sidecar's (default
	// "mudscf-exporter").
	BackgroundRole string `yaml:"backgroundRole"`
}

// Readers lists who may read a project: JWT subjects and roles.
type Readers struct {
	Subjects []string `yaml:"subjects"`
	Roles    []string `yaml:"roles"`
}

// supportedAlgorithms are those golang-jwt verifies with the keys mudscf
// can hold: an HMAC secret or JWKS public keys.
var supportedAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// ApplyDefaults fills the fields left zero.
func (c *Config) ApplyDefaults() {
	if c.Leeway == 0 {
		c.Leeway = 30 * time.Second
	}
	if c.ProjectsClaim == "" {
		c.ProjectsClaim = "projects"
	}
	if c.RolesClaim == "" {
		c.RolesClaim = "roles"
	}
	if c.BackgroundRole == "" {
		c.BackgroundRole = "mudscf-exporter"
	}
}

// Validate reports the first bad key.
func (c Config) Validate() error {
	if len(c.Algorithms) == 0 {
		return yamlconfig.Errorf("algorithms", "list the accepted algorithms explicitly, e.g. [HS256]")
	}
	var hmac, public bool
	for _, a := range c.Algorithms {
		if !slices.Contains(supportedAlgorithms, a) {
			return yamlconfig.Errorf("algorithms", "%q is not one of %s", a, strings.Join(supportedAlgorithms, ", "))
		}
		if strings.HasPrefix(a, "HS") {
			hmac = true
		} else {
			public = true
		}
	}
	if hmac && c.SecretEnv == "" && c.SecretFile == "" {
		return yamlconfig.Errorf("secretEnv or jwt.secretFile", "an HS algorithm is allowed but no secret is configured")
	}
	if public && c.JWKSURL == "" {
		return yamlconfig.Errorf("jwksURL", "a public-key algorithm is allowed but no JWKS URL is configured")
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return yamlconfig.Errorf("leeway", "%s is outside 0..5m", c.Leeway)
	}
	return nil
}

// New builds the Authenticator the config describes: it reads the HS
// secret and, with a JWKS URL, fetches the keys (refreshed until ctx ends).
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Authenticator, error) {
	s, err := secret.Read(cfg.SecretEnv, cfg.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	var key []byte
	if s != "" {
		key = []byte(s)
		if err := checkHMACKey(key); err != nil {
			return nil, err
		}
	}
	if cfg.JWKSURL == "" {
		return NewAuthenticator(cfg, key, nil), nil
	}
	jwks, err := newJWKS(ctx, cfg.JWKSURL, logger)
	if err != nil {
		return nil, fmt.Errorf("jwt.jwksURL: %w", err)
	}
	return NewAuthenticator(cfg, key, jwks), nil
}

// minHMACKeyBytes is RFC 7518's floor for HS256: a key as long as the hash.
const minHMACKeyBytes = 32

// checkHMACKey refuses secrets too short or too uniform to be keys: a
// file of 64 NUL bytes, or one character repeated, passes a length check
// and has no entropy at all.
func checkHMACKey(key []byte) error {
	if len(key) < minHMACKeyBytes {
		return fmt.Errorf("jwt: the HS secret must be at least %d bytes (RFC 7518 asks for a key as long as the hash)", minHMACKeyBytes)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range key {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	// A random 32-byte key has ~30 distinct byte values and a random hex
	// or base64 one ~14-25: fewer than 8 is a pattern, not a secret.
	if distinct < 8 {
		return errors.New("jwt: the HS secret has almost no entropy (it repeats a few byte values); generate one, e.g. openssl rand -base64 48")
	}
	return nil
}
