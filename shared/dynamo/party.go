package dynamo

import (
	"context"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var _ credit.PartyStore = (*Store)(nil)

const (
	partySK       = "PARTY"
	invoicePrefix = "INVOICE#"
)

func partyPK(kind credit.PartyKind, id string) string { return "PARTY#" + string(kind) + "#" + id }

// openInvoicesPK keys the sparse index of a branch's open invoices by due
// date, which the billing rule walks instead of scanning.
func openInvoicesPK(branch string) string { return "OPENINV#" + branch }

type partyItem struct {
	Kind             string      `dynamodbav:"kind"`
	ID               string      `dynamodbav:"id"`
	BranchID         string      `dynamodbav:"branchId"`
	Document         string      `dynamodbav:"document"`
	Name             string      `dynamodbav:"name"`
	Gender           string      `dynamodbav:"gender,omitempty"`
	BirthDate        string      `dynamodbav:"birthDate,omitempty"`
	MobilePhone      string      `dynamodbav:"mobilePhone,omitempty"`
	Address          addressItem `dynamodbav:"address"`
	AutoNegativation string      `dynamodbav:"autoNegativation"`
	CreatedAt        string      `dynamodbav:"createdAt"`
	UpdatedAt        string      `dynamodbav:"updatedAt"`
	UpdatedBy        actorItem   `dynamodbav:"updatedBy"`
}

// addressItem keeps the attribute names parties were first written with
// (the Go field names).
type addressItem struct {
	CEP          string `dynamodbav:"CEP"`
	Street       string `dynamodbav:"Street"`
	Number       string `dynamodbav:"Number"`
	Complement   string `dynamodbav:"Complement"`
	Neighborhood string `dynamodbav:"Neighborhood"`
	City         string `dynamodbav:"City"`
	UF           string `dynamodbav:"UF"`
}

func dateString(d credit.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func parseDate(s string) credit.Date {
	d, _ := credit.ParseDate(s)
	return d
}

func (it partyItem) party() credit.Party {
	doc, _ := credit.ParseDocument(it.Document)
	return credit.Party{
		Kind: credit.PartyKind(it.Kind), ID: it.ID, BranchID: it.BranchID, Document: doc, Name: it.Name,
		Gender: credit.Gender(it.Gender), BirthDate: parseDate(it.BirthDate), MobilePhone: it.MobilePhone,
		Address: credit.Address(it.Address), AutoNegativation: credit.AutoNegativation(it.AutoNegativation),
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy.actor(),
	}
}

func toPartyItem(p credit.Party) partyItem {
	return partyItem{
		Kind: string(p.Kind), ID: p.ID, BranchID: p.BranchID, Document: p.Document.Number(), Name: p.Name,
		Gender: string(p.Gender), BirthDate: dateString(p.BirthDate), MobilePhone: p.MobilePhone, Address: addressItem(p.Address),
		AutoNegativation: string(p.AutoNegativation), CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
		UpdatedBy: toActorItem(p.UpdatedBy),
	}
}

func (s *Store) PutParty(ctx context.Context, p credit.Party) (bool, error) {
	item, err := marshal(toPartyItem(p), map[string]string{attrPK: partyPK(p.Kind, p.ID), attrSK: partySK})
	if err != nil {
		return false, err
	}
	res, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return false, credit.Internal(err, "dynamo: put party")
	}
	return len(res.Attributes) == 0, nil
}

func (s *Store) GetParty(ctx context.Context, kind credit.PartyKind, id string) (credit.Party, error) {
	var it partyItem
	found, err := s.getItem(ctx, partyPK(kind, id), partySK, &it)
	if err != nil {
		return credit.Party{}, err
	}
	if !found {
		return credit.Party{}, partyNotFound(kind)
	}
	return it.party(), nil
}

func partyNotFound(kind credit.PartyKind) *credit.Error {
	switch kind {
	case credit.PartyLead:
		return credit.NotFound("Lead")
	case credit.PartyProspect:
		return credit.NotFound("Prospecção")
	}
	return credit.NotFound("Cliente")
}

type invoiceItem struct {
	CustomerID     string    `dynamodbav:"customerId"`
	ID             string    `dynamodbav:"id"`
	BranchID       string    `dynamodbav:"branchId"`
	AmountCents    int64     `dynamodbav:"amountCents"`
	DueDate        string    `dynamodbav:"dueDate"`
	Status         string    `dynamodbav:"status"`
	PaidAt         string    `dynamodbav:"paidAt,omitempty"`
	ContractNumber string    `dynamodbav:"contractNumber"`
	DocumentNumber string    `dynamodbav:"documentNumber"`
	SettledOn      string    `dynamodbav:"settledOn,omitempty"`
	UpdatedAt      string    `dynamodbav:"updatedAt"`
	UpdatedBy      actorItem `dynamodbav:"updatedBy"`
}

func (it invoiceItem) invoice() credit.Invoice {
	return credit.Invoice{
		CustomerID: it.CustomerID, ID: it.ID, BranchID: it.BranchID, AmountCents: credit.Cents(it.AmountCents),
		DueDate: parseDate(it.DueDate), Status: credit.InvoiceStatus(it.Status), PaidAt: parseDate(it.PaidAt),
		ContractNumber: it.ContractNumber, DocumentNumber: it.DocumentNumber, SettledOn: parseDate(it.SettledOn),
		UpdatedAt: parseTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy.actor(),
	}
}

func invoiceAV(inv credit.Invoice) (map[string]types.AttributeValue, error) {
	keys := map[string]string{attrPK: partyPK(credit.PartyCustomer, inv.CustomerID), attrSK: invoicePrefix + inv.ID}
	if inv.Status == credit.InvoiceOpen {
		keys["GSI1PK"] = openInvoicesPK(inv.BranchID)
		keys["GSI1SK"] = inv.DueDate.String() + "#" + inv.CustomerID + "#" + inv.ID
	}
	return marshal(invoiceItem{
		CustomerID: inv.CustomerID, ID: inv.ID, BranchID: inv.BranchID, AmountCents: int64(inv.AmountCents),
		DueDate: inv.DueDate.String(), Status: string(inv.Status), PaidAt: dateString(inv.PaidAt),
		ContractNumber: inv.ContractNumber, DocumentNumber: inv.DocumentNumber, SettledOn: dateString(inv.SettledOn),
		UpdatedAt: formatTime(inv.UpdatedAt), UpdatedBy: toActorItem(inv.UpdatedBy),
	}, keys)
}

// PutInvoice writes the invoice only if its customer exists, in one
// transaction. Replacing the whole item drops it from the open-invoices
// index as soon as it is paid or cancelled.
func (s *Store) PutInvoice(ctx context.Context, inv credit.Invoice) error {
	item, err := invoiceAV(inv)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.Table), Key: key(partyPK(credit.PartyCustomer, inv.CustomerID), partySK),
			ConditionExpression: aws.String("attribute_exists(PK)"),
		}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: item}},
	})
	switch {
	case err == nil:
		return nil
	case isConditionFailed(err):
		return partyNotFound(credit.PartyCustomer)
	default:
		return credit.Internal(err, "dynamo: put invoice")
	}
}

func (s *Store) GetInvoice(ctx context.Context, customerID, invoiceID string) (credit.Invoice, error) {
	var it invoiceItem
	found, err := s.getItem(ctx, partyPK(credit.PartyCustomer, customerID), invoicePrefix+invoiceID, &it)
	if err != nil {
		return credit.Invoice{}, err
	}
	if !found {
		return credit.Invoice{}, credit.NotFound("Fatura")
	}
	return it.invoice(), nil
}

func (s *Store) ListInvoices(ctx context.Context, customerID string, p credit.Page) ([]credit.Invoice, string, error) {
	start, err := decodeCursor(p.Cursor, attrPK, attrSK)
	if err != nil {
		return nil, "", err
	}
	pk := partyPK(credit.PartyCustomer, customerID)
	if start != nil && !strings.HasPrefix(avString(start[attrPK]), pk) {
		return nil, "", credit.ErrInvalidCursor
	}
	return queryPage(ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":prefix": &types.AttributeValueMemberS{Value: invoicePrefix},
		},
		Limit:             aws.Int32(int32(p.Normalized().Limit)),
		ExclusiveStartKey: start,
	}, "invoices", invoiceItem.invoice)
}

func avString(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
