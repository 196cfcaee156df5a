package dynamo

// Consultations on the single table.
//
// Items:
//
//	item                   PK                         SK                            indexes
//	consultation           CONSULTATION#<id>          CONSULTATION                  GSI1 CONSULTATIONS#BRANCH#<branch>#<yyyy-mm> / <createdAt>#<id>
//	                                                                                GSI2 CONSULTATIONS#DOC#<document>#<branch> / <createdAt>#<id>
//	                                                                                GSI3 CONSULTATIONS#INTEGRATION#<id>#<branch> / <createdAt>#<id>
//	on the party           PARTY#<kind>#<id>          CONSULTATION#<createdAt>#<id> -
//	month with records     CONSULTATION_MONTHS        <yyyy-mm>                     -
//	document's state       DOC#<document>             CONSULTATION_STATE            - (TTL, see below)
//
// Access patterns (no Scan anywhere; every list newest first, by Query with
// ScanIndexForward=false):
//
//   - get one: GetItem CONSULTATION#<id>.
//   - every list of the center is over the caller's branches, one index
//     partition per branch, merged (merge.go):
//   - center filtered by document: GSI2 on the document's partitions; the
//     period is the sort-key range, integration, plan and status are a
//     FilterExpression.
//   - center filtered by integration (no document): GSI3, likewise.
//   - center otherwise: GSI1, one partition per branch and UTC month. The
//     months that hold records are listed first (CONSULTATION_MONTHS, a few
//     items a year) and walked newest first, so an empty stretch costs
//     little.
//   - a party's consultations: the base table's party partition, where a copy
//     without the report is written in the same transaction as the record.
//   - double-click guard and interval rule: one item per document holds
//     the in-flight mark (owner, until) and the latest success (id,
//     createdAt). Taking the mark is one conditional UpdateItem whose
//     ReturnValues (ALL_OLD) carry the latest success, so the interval rule
//     costs no further round trip; the success's transaction sets the latest
//     success and removes the mark. Reads are strongly consistent (a GSI
//     would let a repeat right after a success slip through).
//   - the item expires (TTL) a year after the latest success
//     (latestExpiresAt); a document never consulted with success keeps it
//     only until an hour after its mark would end.
//
// Retention: a record carries reportExpiresAt (createdAt plus the report
// retention). A DynamoDB TTL removes whole items, not attributes, and the
// minimal record must outlive the report, so the report is kept out of the
// table: the deployed service archives every report body and raw answer in
// the report bucket (reportKey), whose lifecycle rule deletes them and the
// PDF, and the service checks reportExpiresAt on every read, showing only
// the minimal record afterwards. A record written without an archive keeps
// its report inline; it is likewise never shown past reportExpiresAt.
//
// Lists apply a FilterExpression after Limit and stop after
// maxQueriesPerConsultPage calls, so a page may hold fewer items than asked
// while nextCursor is set. Cursors name their query (a hash of the filter),
// the month and each partition's last keys, so they stay valid across month
// boundaries and are refused on another query or other branches.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/reportdoc"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var _ credit.ConsultationStore = (*Store)(nil)

const (
	consultationSK           = "CONSULTATION"
	consultationMonthsPK     = "CONSULTATION_MONTHS"
	documentStateSK          = "CONSULTATION_STATE"
	partyConsultationPrefix  = "CONSULTATION#"
	consultationMonthLayout  = "2006-01"
	latestSuccessRetention   = 366 * 24 * time.Hour // beyond the longest interval
	maxQueriesPerConsultPage = 25
)

func consultationPK(id string) string { return "CONSULTATION#" + id }
func consultationMonthPK(branch, month string) string {
	return "CONSULTATIONS#BRANCH#" + branch + "#" + month
}
func consultationDocPK(doc credit.Document, branch string) string {
	return "CONSULTATIONS#DOC#" + doc.Number() + "#" + branch
}
func consultationIntegrationPK(id, branch string) string {
	return "CONSULTATIONS#INTEGRATION#" + id + "#" + branch
}
func documentPK(doc credit.Document) string { return "DOC#" + doc.Number() }

func consultationSortKey(at time.Time, id string) string { return formatTime(at) + "#" + id }

type overviewItem struct {
	Name            string `dynamodbav:"name"`
	Score           *int   `dynamodbav:"score,omitempty"`
	ScoreClass      string `dynamodbav:"scoreClass,omitempty"`
	Occurrences     int    `dynamodbav:"occurrences"`
	NothingRecorded bool   `dynamodbav:"nothingRecorded"`
	PendenciesTotal int64  `dynamodbav:"pendenciesTotalCents"`
}

type warningItem struct {
	Code    string `dynamodbav:"code"`
	Message string `dynamodbav:"message"`
}

type consultationItem struct {
	ID            string        `dynamodbav:"id"`
	CreatedAt     string        `dynamodbav:"createdAt"`
	Status        string        `dynamodbav:"status"`
	ErrorCode     string        `dynamodbav:"errorCode,omitempty"`
	ErrorMessage  string        `dynamodbav:"errorMessage,omitempty"`
	Document      string        `dynamodbav:"document"`
	UF            string        `dynamodbav:"uf,omitempty"`
	Plan          string        `dynamodbav:"plan"`
	IntegrationID string        `dynamodbav:"integrationId"`
	BranchID      string        `dynamodbav:"branchId"`
	Environment   string        `dynamodbav:"environment"`
	PartyKind     string        `dynamodbav:"partyKind,omitempty"`
	PartyID       string        `dynamodbav:"partyId,omitempty"`
	RequestedBy   actorItem     `dynamodbav:"requestedBy"`
	Overview      overviewItem  `dynamodbav:"overview"`
	PDFKey        string        `dynamodbav:"pdfKey,omitempty"`
	ReportKey     string        `dynamodbav:"reportKey,omitempty"`
	Protocol      string        `dynamodbav:"protocol,omitempty"`
	Warnings      []warningItem `dynamodbav:"warnings,omitempty"`
	// ReportExpiresAt ends the report's retention; see the package comment
	// on consultations.
	ReportExpiresAt string `dynamodbav:"reportExpiresAt,omitempty"`
	// ReportErasedAt marks a record reduced at its holder's request (see
	// erasure.go).
	ReportErasedAt string `dynamodbav:"reportErasedAt,omitempty"`
	// Report is the report's JSON, gzipped, of a record written without a
	// report archive; with one, the report lives there (ReportKey): a report
	// with its raw answer can be megabytes, and an item holds at most 400 KB.
	Report []byte `dynamodbav:"report,omitempty"`
}

func toConsultationItem(c credit.Consultation) (consultationItem, error) {
	it := consultationItem{
		ID: c.ID, CreatedAt: formatTime(c.CreatedAt), Status: string(c.Status), ErrorCode: c.ErrorCode,
		ErrorMessage: c.ErrorMessage, Document: c.Document.Number(), UF: c.UF, Plan: string(c.Plan),
		IntegrationID: c.IntegrationID, BranchID: c.BranchID, Environment: string(c.Environment),
		RequestedBy: toActorItem(c.RequestedBy), PDFKey: c.PDFKey, ReportKey: c.ReportKey, Protocol: c.Protocol,
		Overview: overviewItem{Name: c.Overview.Name, Score: c.Overview.Score, ScoreClass: c.Overview.ScoreClass,
			Occurrences: c.Overview.Occurrences, NothingRecorded: c.Overview.NothingRecorded, PendenciesTotal: int64(c.Overview.PendenciesTotal)},
	}
	if c.Party != nil {
		it.PartyKind, it.PartyID = string(c.Party.Kind), c.Party.ID
	}
	for _, w := range c.Warnings {
		it.Warnings = append(it.Warnings, warningItem(w))
	}
	if !c.ReportExpiresAt.IsZero() {
		it.ReportExpiresAt = formatTime(c.ReportExpiresAt)
	}
	if !c.ReportErasedAt.IsZero() {
		it.ReportErasedAt = formatTime(c.ReportErasedAt)
	}
	if c.Report != nil {
		js, err := reportdoc.Marshal(*c.Report)
		if err != nil {
			return it, credit.Internal(err, "dynamo: encode report")
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(js)
		if err := zw.Close(); err != nil {
			return it, credit.Internal(err, "dynamo: compress report")
		}
		it.Report = buf.Bytes()
	}
	return it, nil
}

func (it consultationItem) consultation() (credit.Consultation, error) {
	doc, _ := credit.ParseDocument(it.Document)
	c := credit.Consultation{
		ID: it.ID, CreatedAt: parseTime(it.CreatedAt), Status: credit.ConsultationStatus(it.Status), ErrorCode: it.ErrorCode,
		ErrorMessage: it.ErrorMessage, Document: doc, UF: it.UF, Plan: credit.Plan(it.Plan), IntegrationID: it.IntegrationID,
		BranchID: it.BranchID, Environment: credit.Environment(it.Environment), RequestedBy: it.RequestedBy.actor(), PDFKey: it.PDFKey,
		ReportKey: it.ReportKey, Protocol: it.Protocol,
		Overview: credit.ReportOverview{Name: it.Overview.Name, Score: it.Overview.Score, ScoreClass: it.Overview.ScoreClass,
			Occurrences: it.Overview.Occurrences, NothingRecorded: it.Overview.NothingRecorded, PendenciesTotal: credit.Cents(it.Overview.PendenciesTotal)},
	}
	if it.PartyKind != "" {
		c.Party = &credit.PartyRef{Kind: credit.PartyKind(it.PartyKind), ID: it.PartyID}
	}
	for _, w := range it.Warnings {
		c.Warnings = append(c.Warnings, credit.Warning(w))
	}
	if it.ReportExpiresAt != "" {
		c.ReportExpiresAt = parseTime(it.ReportExpiresAt)
	}
	if it.ReportErasedAt != "" {
		c.ReportErasedAt = parseTime(it.ReportErasedAt)
	}
	if len(it.Report) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(it.Report))
		if err != nil {
			return c, credit.Internal(err, "dynamo: decompress report of %s", it.ID)
		}
		js, err := io.ReadAll(zr)
		if err != nil {
			return c, credit.Internal(err, "dynamo: decompress report of %s", it.ID)
		}
		r, err := reportdoc.Unmarshal(js)
		if err != nil {
			return c, credit.Internal(err, "dynamo: decode report of %s", it.ID)
		}
		c.Report = &r
	}
	return c, nil
}

// documentState is the document's item: its latest success and, while a
// consultation runs, the mark.
type documentState struct {
	ID        string `dynamodbav:"id"`
	CreatedAt string `dynamodbav:"createdAt"`
}

func (d documentState) latest() (credit.ConsultationRef, bool) {
	if d.ID == "" {
		return credit.ConsultationRef{}, false
	}
	return credit.ConsultationRef{ID: d.ID, CreatedAt: parseTime(d.CreatedAt)}, true
}

// stateUpdate is the write of a recorded consultation to its document's
// item: the latest success for a success, the release of owner's mark
// when owner is set; nil when there is nothing to write.
func (s *Store) stateUpdate(c credit.Consultation, owner string) *types.Update {
	var set, remove []string
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	if c.Status == credit.ConsultationSucceeded {
		// Last writer wins: only confirmed repeats run concurrently, seconds
		// apart, so either one serves the interval rule.
		set = append(set, "id = :id", "createdAt = :createdAt", "latestExpiresAt = :expires", "expiresAt = :expires")
		values[":id"], values[":createdAt"] = avS(c.ID), avS(formatTime(c.CreatedAt))
		values[":expires"] = numberValue(c.CreatedAt.Add(latestSuccessRetention).Unix())
	}
	u := &types.Update{TableName: aws.String(s.Table), Key: key(documentPK(c.Document), documentStateSK)}
	if owner != "" {
		remove = append(remove, "#owner", "#until")
		names["#owner"], names["#until"] = "owner", "until"
		values[":owner"] = avS(owner)
		u.ConditionExpression = aws.String("#owner = :owner")
	}
	if len(set) == 0 && len(remove) == 0 {
		return nil
	}
	var expr []string
	if len(set) > 0 {
		expr = append(expr, "SET "+strings.Join(set, ", "))
	}
	if len(remove) > 0 {
		expr = append(expr, "REMOVE "+strings.Join(remove, ", "))
	}
	u.UpdateExpression = aws.String(strings.Join(expr, " "))
	if len(names) > 0 {
		u.ExpressionAttributeNames = names
	}
	u.ExpressionAttributeValues = values
	return u
}

// CreateConsultation writes the record, its copy on the party and, for a
// success, the document's latest success in one transaction. The month is
// listed first, so a list never misses a record (an extra empty month is
// harmless); once per month and process, since the list only grows (it is
// not in the transaction: every consultation of the month would then
// contend for its item).
func (s *Store) CreateConsultation(ctx context.Context, c credit.Consultation) error {
	return s.createConsultation(ctx, c, "")
}

// CreateConsultationUnlocking is CreateConsultation that also removes
// owner's mark on the document in the same transaction; when the mark is no
// longer owner's, the record is written alone and the mark left as it is.
// The call's audit event, when it offers one, is written in the same
// transaction.
func (s *Store) CreateConsultationUnlocking(ctx context.Context, c credit.Consultation, owner string) error {
	return s.createConsultation(ctx, c, owner)
}

func (s *Store) createConsultation(ctx context.Context, c credit.Consultation, unlock string) error {
	month := c.CreatedAt.UTC().Format(consultationMonthLayout)
	if _, listed := s.monthsListed.Load(month); !listed {
		if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.Table), Item: key(consultationMonthsPK, month),
		}); err != nil {
			return credit.Internal(err, "dynamo: put consultation month")
		}
		s.monthsListed.Store(month, true)
	}
	it, err := toConsultationItem(c)
	if err != nil {
		return err
	}
	sk := consultationSortKey(c.CreatedAt, c.ID)
	main, err := marshal(it, map[string]string{
		attrPK: consultationPK(c.ID), attrSK: consultationSK,
		"GSI1PK": consultationMonthPK(c.BranchID, month), "GSI1SK": sk,
		"GSI2PK": consultationDocPK(c.Document, c.BranchID), "GSI2SK": sk,
		"GSI3PK": consultationIntegrationPK(c.IntegrationID, c.BranchID), "GSI3SK": sk,
	})
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.Table), Item: main, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}}
	if c.Party != nil {
		copyItem := it
		copyItem.Report = nil
		onParty, err := marshal(copyItem, map[string]string{attrPK: partyPK(c.Party.Kind, c.Party.ID), attrSK: partyConsultationPrefix + sk})
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Table), Item: onParty}})
	}
	// The call's audit event, when it offers one, is written with the
	// record (see credit.AuditNote).
	note := credit.AuditNoteFrom(ctx)
	var event credit.AuditEvent
	audited := false
	if unlock != "" {
		event, audited = note.Offered()
	}
	if audited {
		item, err := s.auditItem(event)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Table), Item: item}})
	}
	if state := s.stateUpdate(c, unlock); state != nil {
		items = append(items, types.TransactWriteItem{Update: state})
	}
	err = s.transact(ctx, items)
	if codes := cancellationCodes(err); unlock != "" && len(codes) == len(items) && codes[len(codes)-1] == "ConditionalCheckFailed" &&
		!slices.Contains(codes[:len(codes)-1], "ConditionalCheckFailed") {
		// The mark is no longer this request's: write the record (and the
		// latest success) without touching it.
		items = items[:len(items)-1]
		if state := s.stateUpdate(c, ""); state != nil {
			items = append(items, types.TransactWriteItem{Update: state})
		}
		err = s.transact(ctx, items)
	}
	if err != nil {
		return credit.Internal(err, "dynamo: create consultation %s (%v)", c.ID, cancellationCodes(err))
	}
	if audited {
		note.Written()
	}
	return nil
}

func (s *Store) GetConsultation(ctx context.Context, id string) (credit.Consultation, error) {
	var it consultationItem
	found, err := s.getItem(ctx, consultationPK(id), consultationSK, &it)
	if err != nil {
		return credit.Consultation{}, err
	}
	if !found {
		return credit.Consultation{}, credit.NotFound("Consulta")
	}
	return it.consultation()
}

func (s *Store) LastSucceededConsultation(ctx context.Context, doc credit.Document) (credit.ConsultationRef, bool, error) {
	var it documentState
	found, err := s.getItem(ctx, documentPK(doc), documentStateSK, &it)
	if err != nil || !found {
		return credit.ConsultationRef{}, false, err
	}
	ref, ok := it.latest()
	return ref, ok, nil
}

func (s *Store) LockDocument(ctx context.Context, doc credit.Document, owner string, ttl time.Duration) (credit.ConsultationRef, bool, error) {
	now := s.now()
	until := now.Add(ttl)
	// The TTL only sweeps the item of a document without a success, whose
	// mark was abandoned; the condition decides by "until".
	res, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.Table),
		Key:                      key(documentPK(doc), documentStateSK),
		UpdateExpression:         aws.String("SET #owner = :owner, #until = :until, expiresAt = if_not_exists(latestExpiresAt, :markExpires)"),
		ConditionExpression:      aws.String("attribute_not_exists(#until) OR #until <= :now OR #owner = :owner"),
		ExpressionAttributeNames: map[string]string{"#until": "until", "#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": avS(formatTime(now)), ":until": avS(formatTime(until)), ":owner": avS(owner),
			":markExpires": numberValue(until.Add(time.Hour).Unix()),
		},
		ReturnValues: types.ReturnValueAllOld,
	})
	switch {
	case err == nil:
	case isConditionFailed(err):
		return credit.ConsultationRef{}, false, credit.ErrConsultationInProgress
	default:
		return credit.ConsultationRef{}, false, credit.Internal(err, "dynamo: mark document")
	}
	var it documentState
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return credit.ConsultationRef{}, false, credit.Internal(err, "dynamo: decode the document's state")
	}
	ref, found := it.latest()
	return ref, found, nil
}

func (s *Store) UnlockDocument(ctx context.Context, doc credit.Document, owner string) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       key(documentPK(doc), documentStateSK),
		UpdateExpression:          aws.String("REMOVE #owner, #until"),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#owner": "owner", "#until": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": avS(owner)},
	})
	if err != nil && !isConditionFailed(err) {
		return credit.Internal(err, "dynamo: unmark document")
	}
	return nil
}

func (s *Store) planConsultationQuery(ctx context.Context, f credit.ConsultationFilter) (mergedQuery, error) {
	from, until := f.Range()
	q := mergedQuery{names: map[string]string{}, values: map[string]types.AttributeValue{}, maxQueries: maxQueriesPerConsultPage}
	q.fingerprint = fingerprint("consultations", fmt.Sprint(from.UnixMilli(), until.UnixMilli()), f.IntegrationID, string(f.Plan), f.Document.Number(), string(f.Status), scopeName(f.Branches))
	branches, err := s.branchesOf(ctx, f.Branches)
	if err != nil {
		return q, err
	}
	var filters []string
	addFilter := func(attr, value string) {
		q.names["#"+attr] = attr
		q.values[":"+attr] = &types.AttributeValueMemberS{Value: value}
		filters = append(filters, "#"+attr+" = :"+attr)
	}
	each := func(pk func(branch string) string) []string {
		out := make([]string, len(branches))
		for i, b := range branches {
			out[i] = pk(b)
		}
		return out
	}
	switch {
	case !f.Document.IsZero():
		q.index = "GSI2"
		q.groups = [][]string{each(func(b string) string { return consultationDocPK(f.Document, b) })}
		if f.IntegrationID != "" {
			addFilter("integrationId", f.IntegrationID)
		}
	case f.IntegrationID != "":
		q.index = "GSI3"
		q.groups = [][]string{each(func(b string) string { return consultationIntegrationPK(f.IntegrationID, b) })}
	default:
		q.index = "GSI1"
		months, err := s.consultationMonths(ctx, from, until)
		if err != nil {
			return q, err
		}
		for _, m := range months {
			q.groups = append(q.groups, each(func(b string) string { return consultationMonthPK(b, m) }))
		}
	}
	if f.Plan != "" {
		addFilter("plan", string(f.Plan))
	}
	if f.Status != "" {
		addFilter("status", string(f.Status))
	}
	q.filter = strings.Join(filters, " AND ")
	q.names["#pk"] = q.index + "PK"
	q.keyCond = "#pk = :pk"
	switch {
	case !from.IsZero() && !until.IsZero():
		// "<until>" sorts before "<until>#id": records at until are out.
		q.keyCond += " AND #sk BETWEEN :from AND :until"
	case !from.IsZero():
		q.keyCond += " AND #sk >= :from"
	case !until.IsZero():
		q.keyCond += " AND #sk < :until"
	}
	if !from.IsZero() || !until.IsZero() {
		q.names["#sk"] = q.index + "SK"
	}
	if !from.IsZero() {
		q.values[":from"] = &types.AttributeValueMemberS{Value: formatTime(from)}
	}
	if !until.IsZero() {
		q.values[":until"] = &types.AttributeValueMemberS{Value: formatTime(until)}
	}
	return q, nil
}

// consultationMonths lists the UTC months holding records inside [from,
// until), newest first.
func (s *Store) consultationMonths(ctx context.Context, from, until time.Time) ([]string, error) {
	cond := "PK = :pk"
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: consultationMonthsPK}}
	lo, hi := "", ""
	if !from.IsZero() {
		lo = from.UTC().Format(consultationMonthLayout)
	}
	if !until.IsZero() {
		hi = until.Add(-time.Millisecond).UTC().Format(consultationMonthLayout)
	}
	switch {
	case lo != "" && hi != "":
		cond += " AND SK BETWEEN :lo AND :hi"
	case lo != "":
		cond += " AND SK >= :lo"
	case hi != "":
		cond += " AND SK <= :hi"
	}
	if lo != "" {
		values[":lo"] = &types.AttributeValueMemberS{Value: lo}
	}
	if hi != "" {
		values[":hi"] = &types.AttributeValueMemberS{Value: hi}
	}
	var months []string
	var start map[string]types.AttributeValue
	for {
		res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.Table), KeyConditionExpression: aws.String(cond), ExpressionAttributeValues: values,
			ScanIndexForward: aws.Bool(false), ExclusiveStartKey: start, ProjectionExpression: aws.String("SK"),
		})
		if err != nil {
			return nil, credit.Internal(err, "dynamo: list consultation months")
		}
		for _, it := range res.Items {
			months = append(months, avString(it[attrSK]))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return months, nil
		}
		start = res.LastEvaluatedKey
	}
}

func (s *Store) ListConsultations(ctx context.Context, f credit.ConsultationFilter, p credit.Page) ([]credit.Consultation, string, error) {
	p = p.Normalized()
	q, err := s.planConsultationQuery(ctx, f)
	if err != nil {
		return nil, "", err
	}
	raw, next, err := s.mergedPage(ctx, q, p.Limit, p.Cursor)
	if err != nil {
		return nil, "", err
	}
	out := make([]credit.Consultation, 0, len(raw))
	for _, it := range raw {
		c, err := decodeConsultationSummary(it)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, next, nil
}

func maps(m map[string]types.AttributeValue, k, v string) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = &types.AttributeValueMemberS{Value: v}
	return out
}

// itemKeys are the keys an index query resumes after: the index's and the
// table's.
func itemKeys(item map[string]types.AttributeValue, index string) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for _, k := range []string{attrPK, attrSK, index + "PK", index + "SK"} {
		out[k] = item[k]
	}
	return out
}

// decodeConsultationSummary reads a listed item without its report: lists
// show the overview, and decompressing every report would be waste.
func decodeConsultationSummary(raw map[string]types.AttributeValue) (credit.Consultation, error) {
	var it consultationItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return credit.Consultation{}, credit.Internal(err, "dynamo: decode consultation")
	}
	it.Report = nil
	return it.consultation()
}

func (s *Store) ListPartyConsultations(ctx context.Context, party credit.PartyRef, p credit.Page) ([]credit.Consultation, string, error) {
	p = p.Normalized()
	pk := partyPK(party.Kind, party.ID)
	start, err := decodeCursor(p.Cursor, attrPK, attrSK)
	if err != nil {
		return nil, "", err
	}
	if start != nil && (avString(start[attrPK]) != pk || !strings.HasPrefix(avString(start[attrSK]), partyConsultationPrefix)) {
		return nil, "", credit.ErrInvalidCursor
	}
	res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":prefix": &types.AttributeValueMemberS{Value: partyConsultationPrefix},
		},
		ScanIndexForward:  aws.Bool(false),
		Limit:             aws.Int32(int32(p.Limit)),
		ExclusiveStartKey: start,
	})
	if err != nil {
		return nil, "", queryError(err, "list party consultations")
	}
	out := make([]credit.Consultation, 0, len(res.Items))
	for _, raw := range res.Items {
		c, err := decodeConsultationSummary(raw)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, encodeCursor(res.LastEvaluatedKey), nil
}
