package tcapi

// LangChinese is the X-TC-Language (signature v3) or Language (v1) value
// that asks for Chinese messages; en-US and no value get English.
const LangChinese = "zh-CN"

// Messages holds the zh-CN messages of error codes. English messages are
// written where an error is made and carry per-call detail; the Chinese
// ones, worded after Tencent's Chinese error-code pages, carry none, so
// they are a table per code. Each service keeps the table of its own
// codes; the server answers from their union.
type Messages map[string]string

// NewMessages is the union of tables; a code in several keeps the last.
func NewMessages(tables ...map[string]string) Messages {
	m := Messages{}
	for _, t := range tables {
		for code, text := range t {
			m[code] = text
		}
	}
	return m
}

// Text is e's message in lang: Chinese for zh-CN when the table has e's
// code, English otherwise.
func (m Messages) Text(e *Error, lang string) string {
	if lang == LangChinese {
		if zh, ok := m[e.Code]; ok {
			return zh
		}
	}
	return e.Message
}

// ChineseMessages are the zh-CN messages of the codes every API 3.0
// service answers: the gateway's (authentication, action, version, size,
// protocol) and the generic parameter errors.
func ChineseMessages() map[string]string {
	return map[string]string{ //nolint:gosec // G101: error codes and their messages ("SecretIdNotFound"), no credential
		"AuthFailure.InvalidAuthorization": "请求头部的 Authorization 不符合腾讯云标准。",
		"AuthFailure.SecretIdNotFound":     "密钥不存在。请在控制台检查密钥是否已被删除或者禁用，如状态正常，请检查密钥是否填写正确，注意前后不得有空格。",
		"AuthFailure.SignatureExpire":      "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。",
		"AuthFailure.SignatureFailure":     "签名错误。签名计算错误，请对照调用方式中的签名方法文档检查签名计算过程。",
		"AuthFailure.TokenFailure":         "token 错误。",
		"InvalidAction":                    "接口不存在。",
		"InvalidParameter":                 "参数错误（包括参数格式、类型等错误）。",
		"InvalidParameter.Payload":         "请求参数不正确。",
		"InvalidParameterValue":            "参数取值错误。",
		"MissingParameter":                 "缺少参数错误。",
		"NoSuchVersion":                    "接口版本不存在。",
		"RequestLimitExceeded":             "请求的次数超过了频率限制。",
		"RequestSizeLimitExceeded":         "请求包超过限制大小。",
		"UnknownParameter":                 "未知参数错误，用户多传未定义的参数会导致错误。",
		"UnsupportedProtocol":              "HTTP(S) 请求协议错误，只支持 GET 和 POST 请求。",
	}
}
