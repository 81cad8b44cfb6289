package redisstore

func testPasswords() map[string]string { return map[string]string{} }
