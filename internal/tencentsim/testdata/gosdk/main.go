// Command gosdk drives the simulator with the typed scf/v20180416 client
// and models of the official Go SDK v1.0.162 and prints, as JSON, what the
// models decoded, for gosdk_test.go in the parent package to check against
// the simulator's ground truth.
//
// It is a module of its own because v1.0.162 is the old monolithic module,
// whose tencentcloud/common package collides with the separate
// tencentcloud/common module mudscf itself uses (an ambiguous import when
// both are in one build). Every answer is also decoded strictly (unknown
// fields refused) into the same model, and the model fields the answer
// left unset are listed, so the test sees both directions of a mismatch.
//
// Usage: TENCENTSIM_ENDPOINT=host:port TENCENTSIM_SECRET_ID=... TENCENTSIM_SECRET_KEY=... go run . FUNCTION
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	scf "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/scf/v20180416"
)

// lastBody keeps the body of the latest answer, for the strict decode.
type lastBody struct {
	body []byte
}

func (l *lastBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	l.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(l.body))
	return resp, err
}

// result is what one call decoded.
type result struct {
	Method string `json:"method"`
	// Typed is the SDK's own decode of the answer.
	Typed any `json:"typed"`
	// Strict is the error of decoding the answer with unknown fields
	// refused, "" if none.
	Strict string `json:"strict"`
	// Unset lists the model's fields the answer left nil, by JSON path.
	Unset []string `json:"unset"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gosdk:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: gosdk FUNCTION")
	}
	fn := os.Args[1]
	out := map[string][]result{}
	for _, method := range []string{"POST", "GET"} {
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint = os.Getenv("TENCENTSIM_ENDPOINT")
		cpf.HttpProfile.Scheme = "HTTP"
		cpf.HttpProfile.ReqMethod = method
		client, err := scf.NewClient(common.NewCredential(os.Getenv("TENCENTSIM_SECRET_ID"), os.Getenv("TENCENTSIM_SECRET_KEY")),
			"ap-guangzhou", cpf)
		if err != nil {
			return err
		}
		last := &lastBody{}
		client.WithHttpTransport(last)

		logs := scf.NewGetFunctionLogsRequest()
		logs.FunctionName = common.StringPtr(fn)
		logs.Limit = common.Int64Ptr(3)
		logs.Order = common.StringPtr("asc")
		logs.Filter = &scf.LogFilter{RetCode: common.StringPtr("not0")}
		logsResp, err := client.GetFunctionLogs(logs)
		if err != nil {
			return fmt.Errorf("%s GetFunctionLogs: %w", method, err)
		}
		out["GetFunctionLogs"] = append(out["GetFunctionLogs"], check(method, logsResp, last.body))

		get := scf.NewGetFunctionRequest()
		get.FunctionName = common.StringPtr(fn)
		getResp, err := client.GetFunction(get)
		if err != nil {
			return fmt.Errorf("%s GetFunction: %w", method, err)
		}
		out["GetFunction"] = append(out["GetFunction"], check(method, getResp, last.body))

		list := scf.NewListFunctionsRequest()
		list.SearchKey = common.StringPtr(fn)
		list.Limit = common.Int64Ptr(1)
		list.Filters = []*scf.Filter{{Name: common.StringPtr("Runtime"), Values: common.StringPtrs([]string{"Python3.6", "Go1"})}}
		listResp, err := client.ListFunctions(list)
		if err != nil {
			return fmt.Errorf("%s ListFunctions: %w", method, err)
		}
		out["ListFunctions"] = append(out["ListFunctions"], check(method, listResp, last.body))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// check decodes body strictly into a fresh value of typed's model and
// lists the fields typed left nil.
func check(method string, typed any, body []byte) result {
	r := result{Method: method, Typed: typed}
	fresh := reflect.New(reflect.TypeOf(typed).Elem()).Interface()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(fresh); err != nil {
		r.Strict = err.Error()
	} else if err := sameKeys(body, fresh); err != nil {
		// encoding/json matches names case-insensitively; Tencent's
		// SDKs in other languages do not.
		r.Strict = err.Error()
	}
	unset(reflect.ValueOf(typed).Elem().FieldByName("Response"), "Response", &r.Unset)
	sort.Strings(r.Unset)
	return r
}

// sameKeys reports the first object key of body that model's type does
// not spell exactly as a JSON field name.
func sameKeys(body []byte, model any) error {
	var sent any
	if err := json.Unmarshal(body, &sent); err != nil {
		return err
	}
	return keysIn(sent, reflect.TypeOf(model), "")
}

func keysIn(sent any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch s := sent.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return fmt.Errorf("%s is an object, the model has %s", path, t)
		}
		for k, v := range s {
			f, ok := fieldByJSONName(t, k)
			if !ok {
				return fmt.Errorf("key %s.%s is not the model's spelling", path, k)
			}
			if err := keysIn(v, f.Type, path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return fmt.Errorf("%s is an array, the model has %s", path, t)
		}
		for i := range s {
			if err := keysIn(s[i], t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldByJSONName finds the field named name exactly by its json tag,
// looking into embedded structs.
func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			continue // *tchttp.BaseResponse carries no JSON fields
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// unset walks pointers, structs and slices and records nil pointers and
// nil slices by path.
func unset(v reflect.Value, path string, into *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			*into = append(*into, path)
			return
		}
		unset(v.Elem(), path, into)
	case reflect.Slice:
		if v.IsNil() {
			*into = append(*into, path)
			return
		}
		for i := 0; i < v.Len(); i++ {
			unset(v.Index(i), fmt.Sprintf("%s[%d]", path, i), into)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.IsExported() && !f.Anonymous {
				unset(v.Field(i), path+"."+f.Name, into)
			}
		}
	}
}
