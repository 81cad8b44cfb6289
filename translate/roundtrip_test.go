package translate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Mudbase's example decodes into our types and re-encodes without losing a
// field, so the types cover Mudbase's schema (the exporter reads it back).
func TestMudbaseExampleRoundTrips(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "seed_mudbase_response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var typed LogsResponse
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&typed); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(typed)
	var a, z any
	_ = json.Unmarshal(b, &a)
	_ = json.Unmarshal(out, &z)
	// Our extras (retCode, memoryUsageBytes, ...) are additions; remove them
	// before comparing.
	for _, e := range z.(map[string]any)["data"].(map[string]any)["executions"].([]any) {
		for _, extra := range []string{"retCode", "memoryUsageBytes", "billedDurationMs", "retryCount"} {
			delete(e.(map[string]any), extra)
		}
	}
	if !reflect.DeepEqual(a, z) {
		t.Errorf("round trip changed the example:\n got %v\nwant %v", z, a)
	}
}
