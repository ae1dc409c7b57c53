package httpx

import (
	"errors"
	"fmt"
)

// Error kinds the stores return; handlers map them to status codes (404,
// 400, 409) with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid request")
	// ErrConflict marks a change the state does not allow now.
	ErrConflict = errors.New("conflict")
)

// Error carries a user-facing message and one of the error kinds above.
type Error struct {
	kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.kind }

// NotFoundf returns an ErrNotFound with a formatted message.
func NotFoundf(format string, args ...any) error {
	return &Error{kind: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}

// Invalidf returns an ErrInvalid with a formatted message.
func Invalidf(format string, args ...any) error {
	return &Error{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

// Conflictf returns an ErrConflict with a formatted message.
func Conflictf(format string, args ...any) error {
	return &Error{kind: ErrConflict, msg: fmt.Sprintf(format, args...)}
}
