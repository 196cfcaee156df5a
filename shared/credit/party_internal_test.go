package credit

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The hand-written checks accept exactly what the patterns they replace
// accept: the listed cases, then random strings over the characters that
// matter.
func TestHandWrittenChecksMatchTheirPatterns(t *testing.T) {
	for _, tt := range []struct {
		name    string
		pattern string
		check   func(string) bool
		cases   []string
	}{
		{"identifier", `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`, ValidIdentifier, []string{
			"", "a", "filial-7", "Z_9.x-y", "-a", "_a", ".a", "a b", "a/b", "á", strings.Repeat("a", 64), strings.Repeat("a", 65), "a\n"}},
		{"CEP", `^[0-9]{8}$`, validCEP, []string{"", "01310100", "0131010", "013101000", "0131010a", "01310-10"}},
		{"mobile", `^[1-9][1-9]9[0-9]{8}$`, validMobile, []string{
			"", "11987654321", "01987654321", "10987654321", "11887654321", "1198765432", "119876543210", "1198765432a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.pattern)
			for _, c := range tt.cases {
				assert.Equal(t, re.MatchString(c), tt.check(c), "%q", c)
			}
			const alphabet = "0123456789aZ_.-/ \n"
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20000 {
				b := make([]byte, rng.IntN(14))
				for i := range b {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
				if rng.IntN(4) == 0 {
					b = append(b, '9')
				}
				assert.Equal(t, re.MatchString(string(b)), tt.check(string(b)), "%q", b)
			}
		})
	}
}
