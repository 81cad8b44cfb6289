package cls

import (
	"testing"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// A plain term on SCF_Message is decided on the line's kind for the lines
// SCF writes without free text, and that decision is the one the rendered
// line gives.
func TestTemplatesDecideAsTheLines(t *testing.T) {
	ix := &Index{CaseSensitive: true, Delimiters: scfDelimiters}
	var terms []*condText
	for _, q := range []string{`SCF_Message:"Report RequestId"`, `SCF_Message:"Init Report"`, `SCF_Message:"Provisioned Report"`,
		`SCF_Message:START`, `SCF_Message:END`, `SCF_Message:"RequestId InitDuration"`, `SCF_Message:MemUsage`,
		`SCF_Message:"Memory MemUsage"`, `SCF_Message:Duration`, `SCF_Message:RetMsg`} {
		c, err := parseCQL(q, ix)
		if err != nil {
			t.Fatal(err)
		}
		if !c.(*condText).plain {
			t.Fatalf("%s is not plain", q)
		}
		terms = append(terms, c.(*condText))
	}
	decided := 0
	for _, f := range []invocations.Function{{Name: "web", Type: invocations.TypeWeb, FailureRatio: 0.3}, {Name: "ev"}} {
		m := invocations.NewModel(f.WithDefaults(), 1, testOrigin)
		var recs []invocations.Record
		for i := range int64(300) {
			recs = append(recs, m.Exec(i))
		}
		first, last := m.ProvisionRange(testOrigin.UnixNano(), testOrigin.Add(48*3600e9).UnixNano())
		for i := first; i <= last; i++ {
			recs = append(recs, m.ProvisionAt(i))
		}
		for _, r := range recs {
			rec := record{r: r}
			for _, l := range r.Lines(nil) {
				rec.line = l
				for _, c := range terms {
					x := &evalCtx{idx: ix}
					x.reset(&rec, levelKind)
					early := c.eval(x)
					x.reset(&rec, levelLine)
					if late := c.eval(x); early != unknown && early != late {
						t.Fatalf("%v on %q: %v by kind, %v by line", c.toks, string(rec.r.AppendMessage(nil, l)), early, late)
					} else if early != unknown {
						decided++
					}
				}
			}
		}
	}
	if decided == 0 {
		t.Fatal("nothing was decided by kind")
	}
}
