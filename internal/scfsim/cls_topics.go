package scfsim

import "github.com/google/uuid"

// clsIDSpace namespaces the name-based UUIDs below, so a topic ID can never
// collide with one derived for another purpose from the same names.
var clsIDSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/mudscf/mudscf/internal/scfsim#cls"))

// ClsTopicID is the CLS log topic the simulator delivers a function's logs
// to: a UUID (Tencent's topic IDs are UUID-shaped) derived from region,
// namespace and function name only, so a proxy configuration, the SCF
// side's GetFunction and the CLS side all agree without sharing state.
func ClsTopicID(region, namespace, function string) string {
	return uuid.NewSHA1(clsIDSpace, []byte("topic\x00"+region+"\x00"+namespace+"\x00"+function)).String()
}

// ClsLogsetID is the logset holding every simulated topic of a region, as
// SCF's default delivery keeps one SCF logset per region.
func ClsLogsetID(region string) string {
	return uuid.NewSHA1(clsIDSpace, []byte("logset\x00"+region)).String()
}

// clsTopicName names a function's topic after SCF's default delivery
// prefix ("SCF_logtopic").
func clsTopicName(f *fnModel) string {
	return "SCF_logtopic_" + f.Namespace + "_" + f.Name
}
