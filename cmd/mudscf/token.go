package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
)

func tokenCommand(fs *flag.FlagSet) action {
	secret := fs.String("secret", "", "HS256 secret (or MUDSCF_JWT_SECRET, which keeps it out of the process list)")
	sub := fs.String("sub", "", "subject (sub claim), e.g. usr_morgan_de")
	projects := fs.String("projects", "", "comma-separated project IDs for the projects claim")
	roles := fs.String("roles", "", "comma-separated roles for the roles claim")
	ttl := fs.Duration("ttl", time.Hour, "lifetime (exp = now + ttl)")
	iss := fs.String("iss", "", "issuer (iss claim)")
	aud := fs.String("aud", "", "audience (aud claim)")
	projectsClaim := fs.String("projects-claim", "projects", "name of the projects claim")
	rolesClaim := fs.String("roles-claim", "roles", "name of the roles claim")
	return func(_ context.Context, stdout io.Writer, _ *slog.Logger) error {
		if *secret == "" {
			*secret = os.Getenv("MUDSCF_JWT_SECRET")
		}
		if *secret == "" || *sub == "" {
			return usageError("--secret (or MUDSCF_JWT_SECRET) and --sub are required")
		}
		tok, err := jwtauth.MintToken([]byte(*secret), jwtauth.Config{ProjectsClaim: *projectsClaim, RolesClaim: *rolesClaim},
			jwtauth.TokenClaims{Subject: *sub, Projects: list(*projects), Roles: list(*roles), Issuer: *iss, Audience: *aud, TTL: *ttl},
			time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	}
}

func list(csv string) []string {
	var out []string
	for _, s := range strings.Split(csv, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
