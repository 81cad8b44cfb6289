package cls

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// DescribeIndexRequest asks for a topic's index configuration (API
// 614/56443).
type DescribeIndexRequest struct {
	TopicId string `json:"TopicId"`
}

// describeIndexResponse is what mudscf reads of DescribeIndex's answer:
// whether the index is on, and its key-value rules (the key, its type and
// SqlFlag, "statistics", without which SQL cannot use the key).
type describeIndexResponse struct {
	TopicId string `json:"TopicId"`
	Status  bool   `json:"Status"`
	Rule    *struct {
		KeyValue *struct {
			KeyValues []struct {
				Key   string `json:"Key"`
				Value struct {
					Type    string `json:"Type"`
					SqlFlag bool   `json:"SqlFlag"`
				} `json:"Value"`
			} `json:"KeyValues"`
		} `json:"KeyValue"`
	} `json:"Rule"`
}

// indexNeeds are the SCF_* keys mudscf's queries read, the kind of value
// each holds (583/60336: text, or a number: long, or double), and whether
// its SQL uses the key (and so needs statistics, 614/39594).
var indexNeeds = []struct {
	key     string
	numeric bool
	sql     bool
}{
	{"SCF_FunctionName", false, true}, {"SCF_Namespace", false, true}, {"SCF_RequestId", false, true},
	{"SCF_Message", false, true}, {"SCF_Qualifier", false, true}, {"SCF_Alias", false, true},
	{"SCF_Type", false, false},
	{"SCF_StartTime", true, true}, {"SCF_StatusCode", true, true}, {"SCF_Duration", true, true},
	{"SCF_MemUsage", true, true}, {"SCF_RetryNum", true, true},
}

// IndexProblems reads DescribeIndex's answer and says what in the topic's
// index stops mudscf's queries: the index off, a key without a key-value
// index or of the wrong kind, a key its SQL reads without statistics. None
// means every query form mudscf sends can run.
func IndexProblems(answer json.RawMessage) ([]string, error) {
	var resp describeIndexResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		return nil, fmt.Errorf("DescribeIndex answer: %w", err)
	}
	if !resp.Status {
		return []string{"the topic's index is off: SearchLog finds nothing in it"}, nil
	}
	type kv struct {
		typ string
		sql bool
	}
	keys := map[string]kv{}
	if resp.Rule != nil && resp.Rule.KeyValue != nil {
		for _, k := range resp.Rule.KeyValue.KeyValues {
			keys[k.Key] = kv{typ: k.Value.Type, sql: k.Value.SqlFlag}
		}
	}
	var missing, wrongType, noStats []string
	for _, n := range indexNeeds {
		k, ok := keys[n.key]
		switch {
		case !ok:
			missing = append(missing, n.key)
		case n.numeric != (k.typ == "long" || k.typ == "double"):
			wrongType = append(wrongType, n.key+" ("+k.typ+")")
		case n.sql && !k.sql:
			noStats = append(noStats, n.key)
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "no key-value index on "+strings.Join(missing, ", "))
	}
	if len(wrongType) > 0 {
		problems = append(problems, "of the wrong type (SCF writes text, or long/double for numbers): "+strings.Join(wrongType, ", "))
	}
	if len(noStats) > 0 {
		slices.Sort(noStats)
		problems = append(problems, "statistics (SqlFlag) off on "+strings.Join(noStats, ", ")+
			": mudscf's SQL reads them (turn statistics on in the topic's key-value index; it applies to logs collected after)")
	}
	return problems, nil
}
