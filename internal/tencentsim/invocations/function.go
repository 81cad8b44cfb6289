package invocations

import (
	"crypto/sha256"
	"slices"
	"strings"
	"time"
)

// Function describes one simulated SCF function and the traffic it gets.
// Zero values mean "use the default" (WithDefaults), which keeps YAML
// files short.
type Function struct {
	Region    string `yaml:"region"`    // default "ap-guangzhou"
	Namespace string `yaml:"namespace"` // default "default"
	Name      string `yaml:"name"`
	// RatePerSecond is the steady arrival rate of executions (default 1/60).
	RatePerSecond float64 `yaml:"ratePerSecond"`
	// FailureRatio is the share of failed executions (default 0.08), split
	// between user errors, timeouts and memory-limit kills.
	FailureRatio float64 `yaml:"failureRatio"`
	TimeoutMs    int64   `yaml:"timeoutMs"`    // default 3000
	MemorySizeMB int64   `yaml:"memorySizeMB"` // default 128
	// Qualifiers are the versions executions are spread over
	// (default ["$LATEST"]).
	Qualifiers []string `yaml:"qualifiers"`
	// Until, when set, is the last instant an execution may start: the
	// function then stops, which gives tests a ground truth that no
	// longer moves.
	Until time.Time `yaml:"until"`
	// Runtime is what GetFunction and ListFunctions report
	// (default "Python3.6").
	Runtime string `yaml:"runtime"`
	// Description is what GetFunction and ListFunctions report.
	Description string `yaml:"description"`
	// Type is how the function is deployed: TypeEvent (the default), TypeWeb
	// or TypeImage. Web and image functions write SCF's initialisation
	// lines: "Init Report" on cold starts and "Provisioned Report" for
	// provisioned instances (583/60336: "初始化日志和预置实例日志仅支持 Web
	// 函数和镜像部署函数").
	Type string `yaml:"type"`
	// ClsTopicID is the CLS log topic the function delivers to, as
	// GetFunction reports it (ClsTopicId) and the CLS side serves it.
	// Default: the simulator's choice, by its CLS configuration (SCF's
	// default delivery puts a region's functions in one topic).
	ClsTopicID string `yaml:"clsTopicId"`
	// ClsLogsetID is the CLS logset of that topic (ClsLogsetId). Default:
	// the region's logset, a UUID derived from the region alone
	// (DefaultClsLogsetID), as SCF delivers a region's functions into one
	// logset by default.
	ClsLogsetID string `yaml:"clsLogsetId"`
}

// Defaults of a Function's fields.
const (
	defaultRegion       = "ap-guangzhou"
	DefaultNamespace    = "default"
	defaultRate         = 1.0 / 60
	defaultFailureRatio = 0.08
	defaultTimeoutMs    = 3000
	defaultMemoryMB     = 128
	// LatestQualifier is the version every function has, and the one
	// executions run when no Qualifiers are configured.
	LatestQualifier = "$LATEST"
	defaultRuntime  = "Python3.6"
)

// The deployment types of Function.Type.
const (
	TypeEvent = "event"
	TypeWeb   = "web"
	TypeImage = "image"
)

// WithDefaults returns f with every zero field replaced by its default.
// Qualifiers are copied, so f's slice is never shared.
func (f Function) WithDefaults() Function {
	if f.Region == "" {
		f.Region = defaultRegion
	}
	if f.Namespace == "" {
		f.Namespace = DefaultNamespace
	}
	if f.RatePerSecond == 0 {
		f.RatePerSecond = defaultRate
	}
	if f.FailureRatio == 0 {
		f.FailureRatio = defaultFailureRatio
	}
	if f.TimeoutMs == 0 {
		f.TimeoutMs = defaultTimeoutMs
	}
	if f.MemorySizeMB == 0 {
		f.MemorySizeMB = defaultMemoryMB
	}
	if f.Runtime == "" {
		f.Runtime = defaultRuntime
	}
	if f.Type == "" {
		f.Type = TypeEvent
	}
	if f.ClsLogsetID == "" {
		f.ClsLogsetID = DefaultClsLogsetID(f.Region)
	}
	if len(f.Qualifiers) == 0 {
		f.Qualifiers = []string{LatestQualifier}
	} else {
		f.Qualifiers = slices.Clone(f.Qualifiers)
	}
	return f
}

// RegionClsTopicID is the ID of the topic SCF's default delivery fills
// with every function of a region, namespaces included.
func RegionClsTopicID(region string) string {
	return derivedUUID("cls-topic", region)
}

// FunctionClsTopicID is the ID of a function's own topic, when the
// simulator gives each function one.
func FunctionClsTopicID(region, namespace, name string) string {
	return derivedUUID("cls-topic", region, namespace, name)
}

// DefaultClsLogsetID is the CLS logset ID of a region's functions when
// their configuration names none.
func DefaultClsLogsetID(region string) string {
	return derivedUUID("cls-logset", region)
}

// NameSuffix is the random-looking suffix of the names SCF gives the
// logset and topic it creates in a region ("SCF_logset_zyIdCSDW",
// "SCF_logtopic_QExYJrDj" in Tencent's own test), stable per region.
func NameSuffix(kind, region string) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	sum := sha256.Sum256([]byte(kind + "\x00" + region))
	b := make([]byte, 8)
	for i := range b {
		b[i] = letters[int(sum[i])%len(letters)]
	}
	return string(b)
}

// derivedUUID is a version-4-shaped UUID that is a pure function of its
// parts, for IDs that must be stable across runs without configuration.
func derivedUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return FormatID(id)
}
