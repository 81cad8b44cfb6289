package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mudscf/mudscf/internal/jwtauth/jwtauthtest"
	"github.com/mudscf/mudscf/translate"
)

// RS256 through the HTTP edge, and the key-confusion token answered with
// Mudbase's 401 envelope.
func TestAuthJWKSThroughHTTP(t *testing.T) {
	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	env := startProxy(t, func(c *Config) {
		c.JWT.Algorithms = []string{"HS256", "RS256"}
		c.JWT.JWKSURL = jwks.URL()
	})
	claims := jwt.MapClaims{"sub": "usr_morgan_de", "exp": time.Now().Add(time.Hour).Unix()}
	good := jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", claims)
	if r := env.get(t, logsPath, good); r.status != http.StatusOK {
		t.Fatalf("valid RS256 token: %d %s", r.status, r.body)
	}
	confused := jwtauthtest.Sign(t, jwt.SigningMethodHS256, jwtauthtest.RSAPublicPEM(t, &k.RSA.PublicKey), "rsa-1", claims)
	body := assertEnvelope(t, env.get(t, logsPath, confused), http.StatusUnauthorized, translate.CodeUnauthorized)
	if !strings.Contains(body.Error, "invalid token") {
		t.Errorf("message %q", body.Error)
	}
	// ES256 is published but not allowed by this config.
	es := jwtauthtest.Sign(t, jwt.SigningMethodES256, k.EC, "ec-1", claims)
	assertEnvelope(t, env.get(t, logsPath, es), http.StatusUnauthorized, translate.CodeUnauthorized)
	if n := jwks.Fetches(); n != 1 {
		t.Errorf("the JWKS was fetched %d times, want 1", n)
	}
}
