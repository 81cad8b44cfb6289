package cls

import (
	"net/http"
	"net/url"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// DescribeIndex (614/56443): "本接口用于获取索引配置信息", 20 calls a second.
// The answer carries the fields of the SDKs' DescribeIndexResponse,
// RuleInfo, FullTextInfo, RuleKeyValueInfo, KeyValueInfo and ValueInfo
// (tencentcloud-sdk-nodejs cls_models.d.ts). The index of an SCF topic is
// the one SCF configures when it creates the topic ("在函数创建时，SCF 会自
// 动为您完成索引配置", 583/39778): the 14 SCF_* keys with their documented
// types and, as SCF's page asks for, statistics on each. Its delimiters and
// case rule are not documented for SCF's own topics; they are those of the
// SCF-style topics Tencent's Serverless tooling creates (Index).

// DescribeIndexRateLimit is DescribeIndex's documented limit per second.
const DescribeIndexRateLimit = 20

type (
	// DescribeIndexResponse is the "Response" object of DescribeIndex.
	DescribeIndexResponse struct {
		TopicId               string    `json:"TopicId"`
		Status                bool      `json:"Status"`
		Rule                  *RuleInfo `json:"Rule"`
		ModifyTime            string    `json:"ModifyTime"`
		IncludeInternalFields bool      `json:"IncludeInternalFields"`
		MetadataFlag          uint64    `json:"MetadataFlag"`
		CoverageField         string    `json:"CoverageField"`
		RequestId             string    `json:"RequestId"`
	}
	// RuleInfo is the index configuration; a nil part is "not enabled"
	// (sent as null, which the models allow).
	RuleInfo struct {
		FullText     *FullTextInfo     `json:"FullText"`
		KeyValue     *RuleKeyValueInfo `json:"KeyValue"`
		Tag          *RuleTagInfo      `json:"Tag"`
		DynamicIndex *DynamicIndex     `json:"DynamicIndex"`
	}
	FullTextInfo struct {
		CaseSensitive bool   `json:"CaseSensitive"`
		Tokenizer     string `json:"Tokenizer"`
		ContainZH     bool   `json:"ContainZH"`
	}
	RuleKeyValueInfo struct {
		CaseSensitive bool           `json:"CaseSensitive"`
		KeyValues     []KeyValueInfo `json:"KeyValues"`
	}
	RuleTagInfo struct {
		CaseSensitive bool           `json:"CaseSensitive"`
		KeyValues     []KeyValueInfo `json:"KeyValues"`
	}
	DynamicIndex struct {
		Status bool `json:"Status"`
	}
	KeyValueInfo struct {
		Key   string    `json:"Key"`
		Value ValueInfo `json:"Value"`
	}
	// ValueInfo is one key's index: its type, its delimiters (none for
	// long and double: "long及double类型字段需为空") and SqlFlag, whether
	// SQL may use it ("字段是否开启分析功能").
	ValueInfo struct {
		Type      string `json:"Type"`
		Tokenizer string `json:"Tokenizer"`
		SqlFlag   bool   `json:"SqlFlag"`
		ContainZH bool   `json:"ContainZH"`
	}
)

// beijing is the zone Tencent's API writes its times in (UTC+8).
var beijing = time.FixedZone("CST", 8*3600)

type describeIndexParams struct {
	TopicId *string `json:"TopicId"`
}

// DescribeIndex answers a DescribeIndex call for region.
func (a *API) DescribeIndex(r *http.Request, body []byte, region string) (*DescribeIndexResponse, *tcapi.Error) {
	p := &describeIndexParams{}
	if r.Method == http.MethodPost {
		if e := decodeParams(r, body, p); e != nil {
			return nil, e
		}
	} else {
		vals, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, invalid("The query string cannot be parsed: %v.", err)
		}
		for k, vs := range vals {
			switch {
			case k == "TopicId":
				p.TopicId = &vs[0]
			case !tcapi.IsCommonParam(k):
				return nil, tcapi.UnknownParameter(k)
			}
		}
	}
	if p.TopicId == nil {
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `TopicId`.")
	}
	t := a.topics[*p.TopicId]
	if t == nil || t.Region != region {
		return nil, tcapi.Errorf("ResourceNotFound.TopicNotExist", "The topic `%s` does not exist.", *p.TopicId)
	}
	ix := &t.Index
	kv := &RuleKeyValueInfo{CaseSensitive: ix.CaseSensitive, KeyValues: []KeyValueInfo{}}
	for _, f := range scfFields {
		v := ValueInfo{Type: f.typ.String(), SqlFlag: ix.Statistics}
		if f.typ == fieldText {
			v.Tokenizer = ix.Delimiters
		}
		kv.KeyValues = append(kv.KeyValues, KeyValueInfo{Key: f.name, Value: v})
	}
	return &DescribeIndexResponse{
		TopicId: t.ID,
		Status:  true,
		Rule: &RuleInfo{
			FullText: &FullTextInfo{CaseSensitive: ix.CaseSensitive, Tokenizer: ix.Delimiters},
			KeyValue: kv,
		},
		ModifyTime: ix.ModifyTime.In(beijing).Format(time.DateTime),
	}, nil
}
