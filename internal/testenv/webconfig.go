package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// WebConfig is a prometheus/exporter-toolkit web configuration for a
// listener on 127.0.0.1: TLS with a self-signed certificate and one
// basic-auth user.
type WebConfig struct {
	// File is the web-config.yml, for --web.config.file.
	File string
	// Client trusts the certificate and sends no credentials.
	Client         *http.Client
	User, Password string
}

// NewWebConfig writes a web configuration, its certificate and key into a
// directory of the test's.
func NewWebConfig(t testing.TB) *WebConfig {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tls.crt", certPEM)
	write("tls.key", keyPEM)
	const user, password = "prometheus", "scrape-password-for-tests"
	// The lowest cost: the hash is checked once per scrape in tests.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Relative paths: the toolkit reads them from the file's directory.
	write("web-config.yml", []byte("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"+
		"basic_auth_users:\n  "+user+": "+string(hash)+"\n"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	t.Cleanup(transport.CloseIdleConnections)
	return &WebConfig{File: filepath.Join(dir, "web-config.yml"), Client: &http.Client{Transport: transport}, User: user, Password: password}
}

// selfSigned is a certificate for 127.0.0.1 and its key, as PEM.
func selfSigned(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
