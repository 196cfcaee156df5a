package dynamo

// Erasure at the holder's request (LGPD), on the items of parties.go and
// consultation.go:
//
//	item        PK                       SK        written by
//	erasure     PARTY#<kind>#<id>        ERASURE   ErasePartyData
//
//   - ErasePartyData queries the party's partition and deletes the items
//     that hold or point at the person: its invoices (INVOICE#...) and the
//     copies of its consultations (CONSULTATION#...); then, in one
//     transaction, the party item and the put of the erasure item. The
//     negativation markers (NEGATIVATION#...) stay: they index negativation
//     records, which have their own legal basis.
//   - EraseConsultationReport updates the consultation in place: it removes
//     what Consultation.Minimal drops and sets reportExpiresAt and
//     reportErasedAt, so the item keeps its keys and index entries; the
//     copy on its party goes in the same transaction.

import (
	"context"
	"strings"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const erasureSK = "ERASURE"

type erasureItem struct {
	Kind          string    `dynamodbav:"kind"`
	ID            string    `dynamodbav:"id"`
	ErasedAt      string    `dynamodbav:"erasedAt"`
	ErasedBy      actorItem `dynamodbav:"erasedBy"`
	Consultations int       `dynamodbav:"consultations"`
}

func (s *Store) ErasePartyData(ctx context.Context, e credit.PartyErasure) error {
	pk := partyPK(e.Kind, e.ID)
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
		},
		ProjectionExpression: aws.String("PK, SK"),
		ConsistentRead:       aws.Bool(true),
	}
	for {
		out, err := s.Client.Query(ctx, in)
		if err != nil {
			return credit.Internal(err, "dynamo: list the items of a party")
		}
		for _, item := range out.Items {
			sk := avString(item[attrSK])
			if !strings.HasPrefix(sk, invoicePrefix) && !strings.HasPrefix(sk, partyConsultationPrefix) {
				continue
			}
			if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: key(pk, sk)}); err != nil {
				return credit.Internal(err, "dynamo: delete a party's item")
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	rec, err := marshal(erasureItem{Kind: string(e.Kind), ID: e.ID, ErasedAt: formatTime(e.ErasedAt), ErasedBy: toActorItem(e.ErasedBy),
		Consultations: e.Consultations}, map[string]string{attrPK: pk, attrSK: erasureSK})
	if err != nil {
		return err
	}
	if err := s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.Table), Key: key(pk, partySK)}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: rec}},
	}); err != nil {
		return credit.Internal(err, "dynamo: erase party (%v)", cancellationCodes(err))
	}
	return nil
}

func (s *Store) GetPartyErasure(ctx context.Context, kind credit.PartyKind, id string) (credit.PartyErasure, error) {
	var it erasureItem
	found, err := s.getItem(ctx, partyPK(kind, id), erasureSK, &it)
	if err != nil {
		return credit.PartyErasure{}, err
	}
	if !found {
		return credit.PartyErasure{}, credit.NotFound("Exclusão de dados")
	}
	return credit.PartyErasure{Kind: credit.PartyKind(it.Kind), ID: it.ID, ErasedAt: parseTime(it.ErasedAt),
		ErasedBy: it.ErasedBy.actor(), Consultations: it.Consultations}, nil
}

func (s *Store) EraseConsultationReport(ctx context.Context, id string, at time.Time) error {
	c, err := s.GetConsultation(ctx, id)
	if err != nil {
		return err
	}
	e := c.Erased(at)
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(s.Table), Key: key(consultationPK(id), consultationSK),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		UpdateExpression: aws.String("SET reportExpiresAt = :exp, reportErasedAt = :at " +
			"REMOVE errorCode, errorMessage, uf, partyKind, partyId, overview, pdfKey, reportKey, warnings, report"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":exp": &types.AttributeValueMemberS{Value: formatTime(e.ReportExpiresAt)},
			":at":  &types.AttributeValueMemberS{Value: formatTime(e.ReportErasedAt)},
		},
	}}}
	if c.Party != nil {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.Table),
			Key: key(partyPK(c.Party.Kind, c.Party.ID), partyConsultationPrefix+consultationSortKey(c.CreatedAt, c.ID))}})
	}
	if err := s.transact(ctx, items); err != nil {
		if isConditionFailed(err) {
			return credit.NotFound("Consulta")
		}
		return credit.Internal(err, "dynamo: erase the report of consultation %s (%v)", id, cancellationCodes(err))
	}
	return nil
}

// DropConsultationReport takes the report's traces off the record and its
// copy on the party: what c.WithoutReport() leaves out.
func (s *Store) DropConsultationReport(ctx context.Context, c credit.Consultation) error {
	drop := func(pk, sk, attrs string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.Table), Key: key(pk, sk),
			ConditionExpression: aws.String("attribute_exists(PK)"),
			UpdateExpression:    aws.String("REMOVE " + attrs),
		}}
	}
	items := []types.TransactWriteItem{drop(consultationPK(c.ID), consultationSK, "overview, pdfKey, reportKey, warnings, report")}
	if c.Party != nil {
		items = append(items, drop(partyPK(c.Party.Kind, c.Party.ID), partyConsultationPrefix+consultationSortKey(c.CreatedAt, c.ID), "overview, pdfKey, reportKey, warnings"))
	}
	if err := s.transact(ctx, items); err != nil {
		if isConditionFailed(err) {
			return credit.NotFound("Consulta")
		}
		return credit.Internal(err, "dynamo: drop the report of consultation %s (%v)", c.ID, cancellationCodes(err))
	}
	return nil
}
