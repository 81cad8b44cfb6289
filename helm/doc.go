// Package helm holds the tests of the Helm chart in helm/mudscf: they run the
// real helm binary (lint, template) and decode every rendered object strictly
// into its k8s.io/api type, so a misspelt or misplaced field fails here and
// not at kubectl apply. It has no code of its own.
package helm
