module github.com/mudscf/mudscf

go 1.26

require (
	github.com/google/uuid v1.6.0
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.209
	gopkg.in/yaml.v3 v3.0.1
)
