package scfsim

// clsTopicName names a function's topic after SCF's default delivery
// prefix ("SCF_logtopic").
func clsTopicName(f *fnModel) string {
	return "SCF_logtopic_" + f.Namespace + "_" + f.Name
}
