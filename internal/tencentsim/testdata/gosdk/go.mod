module github.com/mudscf/mudscf/internal/tencentsim/testdata/gosdk

go 1.26.0

require github.com/tencentcloud/tencentcloud-sdk-go v1.0.162
