package translate

// MaxIDLength bounds project and function IDs. Mudbase documents both as
// MongoDB ObjectIds (24 hex digits) while its own examples use shorter
// IDs such as "proj_AsIu33tafZGe"; both shapes fit here.
const MaxIDLength = 64

// ValidateID checks a Mudbase project or function ID from the path. param
// names the path parameter in the message.
func ValidateID(param, id string) *ValidationError {
	if id == "" || len(id) > MaxIDLength {
		return invalid(param, "must be 1 to %d characters long", MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if !isAlnum(id[i]) && id[i] != '_' && id[i] != '-' {
			return invalid(param, "may contain only letters, digits, '_' and '-'")
		}
	}
	return nil
}
