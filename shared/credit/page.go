package credit

// Page asks for one page of a list: at most Limit items after the opaque
// Cursor returned with the previous page.
type Page struct {
	Limit  int
	Cursor string
}

const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Normalized returns p with Limit inside 1..MaxPageLimit.
func (p Page) Normalized() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}

// ErrInvalidCursor is returned by stores for a cursor they did not issue.
var ErrInvalidCursor = NewError(KindInvalid, CodeInvalidCursor, "Cursor de paginação inválido.")
