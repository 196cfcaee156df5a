package dynamo

// Lists over several index partitions, merged.
//
// A caller kept to some branches reads only their partitions: every list
// whose records belong to a branch keys its index partitions by branch
// (NEGSTATUS#<branch>#<status>, CONSULTATIONS#<branch>#<yyyy-mm>, ...), and
// a list is one Query per partition, newest first, merged by sort key. A
// page is full whenever the partitions hold enough, and its cursor names
// each partition's position, so it cannot reach a partition the query does
// not name. The unscoped view is the same walk over every branch that ever
// had an integration (the branch registry, BRANCHES / <branch>).
//
// Partitions come in groups walked one after the other (a group's sort keys
// all sort after the next group's, as months do); within a group they are
// merged.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// mergedQuery is one list over groups of partitions of one index.
type mergedQuery struct {
	index string
	// fingerprint names the query (its filter), so that a cursor of another
	// query is refused.
	fingerprint string
	groups      [][]string
	// keyCond has :pk for the partition; names and values hold the rest.
	keyCond, filter string
	names           map[string]string
	values          map[string]types.AttributeValue
	// maxQueries bounds the calls one page makes (0: no bound), checked
	// between groups; a page cut short still carries a cursor.
	maxQueries int
}

// mergedCursor is where a merged list goes on: the group, and in it each
// partition's last key read (absent: from its start) or its end.
type mergedCursor struct {
	Query string                       `json:"q"`
	Group int                          `json:"g"`
	Keys  map[string]map[string]string `json:"k,omitempty"`
	Done  []string                     `json:"d,omitempty"`
}

// partRead is what one partition gave to a page.
type partRead struct {
	items []map[string]types.AttributeValue
	// after is where the partition goes on once all items are taken; nil
	// when it is exhausted.
	after map[string]types.AttributeValue
}

// page returns up to limit items, newest first, and the cursor of the rest.
func (s *Store) mergedPage(ctx context.Context, q mergedQuery, limit int, cursor string) ([]map[string]types.AttributeValue, string, error) {
	c, err := q.resume(cursor)
	if err != nil {
		return nil, "", err
	}
	var out []map[string]types.AttributeValue
	queries := 0
	for g := c.Group; g < len(q.groups); g++ {
		if g != c.Group {
			c = mergedCursor{Query: q.fingerprint, Group: g}
			// The budget is checked between groups only: a group's
			// partitions are always read together, or the merge would not
			// be newest first.
			if q.maxQueries > 0 && queries >= q.maxQueries {
				return out, c.encode(), nil
			}
		}
		reads := map[string]*partRead{}
		need := limit - len(out)
		for _, part := range q.groups[g] {
			if slices.Contains(c.Done, part) {
				continue
			}
			r, n, err := s.readPartition(ctx, q, part, c.start(part, q.index), need)
			queries += n
			if err != nil {
				return nil, "", err
			}
			reads[part] = r
		}
		// Merge: newest first across the group's partitions.
		type cand struct {
			part string
			i    int
			sk   string
		}
		var all []cand
		for part, r := range reads {
			for i, it := range r.items {
				all = append(all, cand{part, i, avString(it[q.index+"SK"])})
			}
		}
		slices.SortFunc(all, func(a, b cand) int {
			if x := strings.Compare(b.sk, a.sk); x != 0 {
				return x
			}
			return strings.Compare(b.part, a.part)
		})
		taken := map[string]int{}
		for _, x := range all[:min(len(all), need)] {
			out = append(out, reads[x.part].items[x.i])
			taken[x.part] = x.i + 1
		}
		next := mergedCursor{Query: q.fingerprint, Group: g, Keys: map[string]map[string]string{}, Done: slices.Clone(c.Done)}
		more := false
		for _, part := range q.groups[g] {
			if slices.Contains(c.Done, part) {
				continue
			}
			r := reads[part]
			var at map[string]types.AttributeValue
			switch {
			case taken[part] == len(r.items) && r.after == nil:
				next.Done = append(next.Done, part)
				continue
			case taken[part] == len(r.items):
				at = r.after
			case taken[part] > 0:
				at = itemKeys(r.items[taken[part]-1], q.index)
			default:
				at = c.start(part, q.index)
			}
			more = true
			if len(at) > 0 {
				next.Keys[part] = keyStrings(at)
			}
		}
		if more {
			// A partition that goes on gave need items, so the page is full.
			return out, next.encode(), nil
		}
		if len(out) == limit {
			if g+1 < len(q.groups) {
				return out, mergedCursor{Query: q.fingerprint, Group: g + 1}.encode(), nil
			}
			return out, "", nil
		}
	}
	return out, "", nil
}

// readPartition reads up to need matching items of one partition from
// start, and says where it goes on; n is the calls made.
func (s *Store) readPartition(ctx context.Context, q mergedQuery, part string, start map[string]types.AttributeValue, need int) (*partRead, int, error) {
	r := &partRead{}
	n := 0
	esk := start
	for {
		limit := need - len(r.items) + 1
		if q.filter != "" {
			limit = min(max(4*(need-len(r.items)), 50), 500)
		}
		in := &dynamodb.QueryInput{
			TableName: aws.String(s.Table), IndexName: aws.String(q.index),
			KeyConditionExpression: aws.String(q.keyCond), ExpressionAttributeNames: q.names,
			ExpressionAttributeValues: maps(q.values, ":pk", part),
			ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: esk,
		}
		if q.filter != "" {
			in.FilterExpression = aws.String(q.filter)
		}
		res, err := s.Client.Query(ctx, in)
		n++
		if err != nil {
			return nil, n, queryError(err, "list "+q.index)
		}
		for i, it := range res.Items {
			if len(r.items) == need && i > 0 {
				// One more than needed: the partition goes on after the last
				// taken.
				r.after = itemKeys(res.Items[i-1], q.index)
				return r, n, nil
			}
			r.items = append(r.items, it)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return r, n, nil
		}
		esk = res.LastEvaluatedKey
		if len(r.items) == need {
			r.after = esk
			return r, n, nil
		}
	}
}

func keyStrings(k map[string]types.AttributeValue) map[string]string {
	out := make(map[string]string, len(k))
	for n, v := range k {
		out[n] = avString(v)
	}
	return out
}

// start is where part goes on: nil from its start.
func (c mergedCursor) start(part, index string) map[string]types.AttributeValue {
	k, ok := c.Keys[part]
	if !ok {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(k))
	for n, v := range k {
		out[n] = &types.AttributeValueMemberS{Value: v}
	}
	return out
}

func (c mergedCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// resume checks a cursor against q: its query, its group, and only
// partitions of that group, each key in its own partition.
func (q mergedQuery) resume(cursor string) (mergedCursor, error) {
	if cursor == "" {
		return mergedCursor{Query: q.fingerprint}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return mergedCursor{}, credit.ErrInvalidCursor
	}
	var c mergedCursor
	if err := json.Unmarshal(b, &c); err != nil || c.Query != q.fingerprint || c.Group < 0 || c.Group >= len(q.groups) {
		return mergedCursor{}, credit.ErrInvalidCursor
	}
	parts := q.groups[c.Group]
	for _, d := range c.Done {
		if !slices.Contains(parts, d) {
			return mergedCursor{}, credit.ErrInvalidCursor
		}
	}
	want := []string{attrPK, attrSK, q.index + "PK", q.index + "SK"}
	for part, k := range c.Keys {
		if !slices.Contains(parts, part) || len(k) != len(want) || k[q.index+"PK"] != part {
			return mergedCursor{}, credit.ErrInvalidCursor
		}
		for _, n := range want {
			if k[n] == "" {
				return mergedCursor{}, credit.ErrInvalidCursor
			}
		}
	}
	return c, nil
}

// branchesPK is the branch registry's partition: one item per branch that
// ever had an integration, never deleted. Every record that belongs to a
// branch (consultation, negativation) is made through the branch's
// integration, so the registry names every branch a record can be in.
const branchesPK = "BRANCHES"

// registerBranch puts branch in the registry (idempotent).
func (s *Store) registerBranch(branch string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Table), Item: key(branchesPK, branch)}}
}

// branchesOf is the branches a list walks: those of b, or every registered
// branch when b is every branch; sorted.
func (s *Store) branchesOf(ctx context.Context, b credit.Branches) ([]string, error) {
	if !b.All() {
		out := slices.Clone([]string(b))
		slices.Sort(out)
		return slices.Compact(out), nil
	}
	var out []string
	var start map[string]types.AttributeValue
	for {
		res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.Table), KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: branchesPK}},
			ProjectionExpression:      aws.String("SK"), ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, credit.Internal(err, "dynamo: list branches")
		}
		for _, it := range res.Items {
			out = append(out, avString(it[attrSK]))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// fingerprint names a query by its parts.
func fingerprint(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// scopeName names the branches a list is kept to, for its fingerprint: a
// cursor issued for some branches is refused for others.
func scopeName(b credit.Branches) string {
	if b.All() {
		return "*"
	}
	sorted := slices.Clone([]string(b))
	slices.Sort(sorted)
	return strings.Join(slices.Compact(sorted), ",")
}
