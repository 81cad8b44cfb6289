package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// MaxTokenBytes bounds the bearer token: larger ones are refused before
// any parsing or signature work.
const MaxTokenBytes = 8 << 10

// Principal is who a verified token speaks for.
type Principal struct {
	Subject  string
	Roles    []string
	Projects []string
	// Background is the exporter sidecar's traffic, which yields to
	// interactive clients in the budget.
	Background bool
	// Expires is the token's exp: the verified-token cache forgets the
	// token then.
	Expires time.Time
}

// Authenticator verifies bearer tokens with golang-jwt's parser, configured
// explicitly: an algorithm allow-list, exp required, optional iss and aud,
// and a small leeway.
type Authenticator struct {
	parser         *jwt.Parser
	secret         []byte
	jwks           keyfunc.Keyfunc
	projectsClaim  string
	rolesClaim     string
	backgroundRole string
	verified       *tokenCache
}

// AuthError is a token that does not authenticate; its message is safe to
// show the client.
type AuthError struct{ Reason string }

func (e *AuthError) Error() string { return e.Reason }

// NewAuthenticator builds the verifier. secret is the HS key (nil when no
// HS algorithm is allowed); jwks is the public-key source (nil without
// jwksURL).
func NewAuthenticator(cfg Config, secret []byte, jwks keyfunc.Keyfunc) *Authenticator {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithIssuedAt(),
		// Only the canonical base64url of each segment: lenient decoding
		// lets many strings carry one signature (found by FuzzAuthenticate).
		jwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	projectsClaim := cfg.ProjectsClaim
	if projectsClaim == "-" {
		projectsClaim = ""
	}
	return &Authenticator{
		parser: jwt.NewParser(opts...), secret: secret, jwks: jwks,
		projectsClaim: projectsClaim, rolesClaim: cfg.RolesClaim, backgroundRole: cfg.BackgroundRole,
		verified: newTokenCache(10_000),
	}
}

// newJWKS fetches and caches the keys at url, refreshing every 15 minutes
// and, at most once a second, when a token names a kid it does not know.
// A request waits at most 250ms for that refresh: tokens with random kids
// must not be able to hold requests (keyfunc's default wait is a minute).
// The refresh goroutine stops with ctx.
func newJWKS(ctx context.Context, url string, logger *slog.Logger) (keyfunc.Keyfunc, error) {
	return keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		Client:            &http.Client{Timeout: 5 * time.Second},
		HTTPTimeout:       5 * time.Second,
		RefreshInterval:   15 * time.Minute,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(time.Second), 1),
		RateLimitWaitMax:  250 * time.Millisecond,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "refreshing the JWKS failed", "url", u, "err", err)
			}
		},
	})
}

// keyFor picks the verification key by the token's algorithm family, so
// that an HS token is only ever checked against the HMAC secret and an
// RS/ES token only against JWKS public keys: no key confusion.
func (a *Authenticator) keyFor(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if a.secret == nil {
			return nil, errors.New("no HMAC secret configured")
		}
		return a.secret, nil
	default:
		if a.jwks == nil {
			return nil, errors.New("no JWKS configured")
		}
		return a.jwks.Keyfunc(t)
	}
}

// Authenticate verifies an Authorization header value.
func (a *Authenticator) Authenticate(header string) (Principal, error) {
	return a.AuthenticateAt(header, time.Now())
}

// AuthenticateAt is Authenticate for a caller that has read the clock
// already: now decides whether a remembered token has expired.
func (a *Authenticator) AuthenticateAt(header string, now time.Time) (Principal, error) {
	if header == "" {
		return Principal{}, &AuthError{"authentication required: send Authorization: Bearer <JWT>"}
	}
	// The scheme name is case-insensitive (RFC 7235 section 2.1).
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, &AuthError{"the Authorization header must be Bearer <JWT>"}
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxTokenBytes {
		return Principal{}, &AuthError{fmt.Sprintf("the token is longer than %d bytes", MaxTokenBytes)}
	}
	if p, ok := a.verified.get(raw, now); ok {
		return p, nil
	}
	if err := checkJOSE(raw); err != nil {
		return Principal{}, &AuthError{"invalid token: " + tokenProblem(err)}
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(raw, claims, a.keyFor); err != nil {
		return Principal{}, &AuthError{"invalid token: " + tokenProblem(err)}
	}
	p := Principal{Roles: stringsClaim(claims, a.rolesClaim)}
	p.Subject, _ = claims["sub"].(string)
	if a.projectsClaim != "" {
		p.Projects = stringsClaim(claims, a.projectsClaim)
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		p.Expires = exp.Time
	}
	p.Background = a.backgroundRole != "" && slices.Contains(p.Roles, a.backgroundRole)
	a.verified.put(raw, p)
	return p, nil
}

// tokenProblem names what is wrong without echoing the token or key.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, errDuplicateMember), errors.Is(err, errCritical):
		return err.Error()
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature or algorithm not allowed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signing key unavailable or algorithm not allowed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim (exp) is missing"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	default:
		return "rejected"
	}
}

// stringsClaim reads a claim that is a string or a list of strings.
func stringsClaim(claims jwt.MapClaims, name string) []string {
	switch v := claims[name].(type) {
	case string:
		return strings.Fields(strings.ReplaceAll(v, ",", " "))
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// CanRead says whether p may read project id, configured with readers.
func (p Principal) CanRead(id string, readers Readers) bool {
	if p.Subject != "" && slices.Contains(readers.Subjects, p.Subject) {
		return true
	}
	for _, r := range p.Roles {
		if slices.Contains(readers.Roles, r) {
			return true
		}
	}
	return slices.Contains(p.Projects, id)
}
