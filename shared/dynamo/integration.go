package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var _ credit.IntegrationStore = (*Store)(nil)

const (
	integrationSK       = "INTEGRATION"
	integrationsListKey = "INTEGRATIONS"
	// attrLiveNegativations counts the integration's live negativations
	// (credit.Negativation.Live: pending, active, and those whose fate at the
	// bureau is not settled yet); the negativation writes keep it in the same
	// transactions, so the delete guard is a condition, not a query.
	attrLiveNegativations = "liveNegativations"
)

func integrationPK(id string) string    { return "INTEGRATION#" + id }
func branchLockPK(branch string) string { return "BRANCH#" + branch }

type automationItem struct {
	Enabled         bool   `dynamodbav:"enabled"`
	RestrictionCode string `dynamodbav:"restrictionCode"`
	RemovalCode     string `dynamodbav:"removalCode"`
	DaysAfterDue    int    `dynamodbav:"daysAfterDue"`
}

type integrationItem struct {
	ID                 string         `dynamodbav:"id"`
	Intermediary       string         `dynamodbav:"intermediary"`
	BranchID           string         `dynamodbav:"branchId"`
	Environment        string         `dynamodbav:"environment"`
	Login              string         `dynamodbav:"login"`
	DefaultPlan        string         `dynamodbav:"defaultPlan"`
	SendSMSOnInclusion bool           `dynamodbav:"sendSmsOnInclusion"`
	ResponsibleCPF     string         `dynamodbav:"responsibleCpf"`
	Automation         automationItem `dynamodbav:"automation"`
	SecretRef          string         `dynamodbav:"secretRef"`
	CreatedAt          string         `dynamodbav:"createdAt"`
	UpdatedAt          string         `dynamodbav:"updatedAt"`
	CreatedBy          actorItem      `dynamodbav:"createdBy"`
	UpdatedBy          actorItem      `dynamodbav:"updatedBy"`
	Version            int64          `dynamodbav:"version"`
}

func toIntegrationItem(i credit.Integration) integrationItem {
	return integrationItem{
		ID: i.ID, Intermediary: string(i.Intermediary), BranchID: i.BranchID, Environment: string(i.Environment),
		Login: i.Login, DefaultPlan: string(i.DefaultPlan), SendSMSOnInclusion: i.SendSMSOnInclusion,
		ResponsibleCPF: i.ResponsibleCPF.Number(),
		Automation:     automationItem(i.Automation),
		SecretRef:      i.SecretRef, CreatedAt: formatTime(i.CreatedAt), UpdatedAt: formatTime(i.UpdatedAt),
		CreatedBy: toActorItem(i.CreatedBy), UpdatedBy: toActorItem(i.UpdatedBy), Version: i.Version,
	}
}

func (it integrationItem) integration() credit.Integration {
	cpf, _ := credit.ParseDocument(it.ResponsibleCPF)
	return credit.Integration{
		ID: it.ID, Intermediary: credit.Intermediary(it.Intermediary), BranchID: it.BranchID,
		Environment: credit.Environment(it.Environment), Login: it.Login, DefaultPlan: credit.Plan(it.DefaultPlan),
		SendSMSOnInclusion: it.SendSMSOnInclusion, ResponsibleCPF: cpf, Automation: credit.Automation(it.Automation),
		SecretRef: it.SecretRef, CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
		CreatedBy: it.CreatedBy.actor(), UpdatedBy: it.UpdatedBy.actor(), Version: it.Version,
	}
}

func integrationAV(i credit.Integration) (map[string]types.AttributeValue, error) {
	return marshal(toIntegrationItem(i), map[string]string{
		attrPK: integrationPK(i.ID), attrSK: integrationSK,
		"GSI1PK": integrationsListKey, "GSI1SK": formatTime(i.CreatedAt) + "#" + i.ID,
	})
}

func branchLockAV(branch, integrationID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:          &types.AttributeValueMemberS{Value: branchLockPK(branch)},
		attrSK:          &types.AttributeValueMemberS{Value: integrationSK},
		"integrationId": &types.AttributeValueMemberS{Value: integrationID},
	}
}

func (s *Store) CreateIntegration(ctx context.Context, i credit.Integration) error {
	item, err := integrationAV(i)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.Table), Item: branchLockAV(i.BranchID, i.ID), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		s.registerBranch(i.BranchID),
	})
	switch {
	case err == nil:
		return nil
	case isConditionFailed(err):
		if codes := cancellationCodes(err); len(codes) > 1 && codes[1] == "ConditionalCheckFailed" {
			return credit.Internal(err, "dynamo: integration id %s already exists", i.ID)
		}
		return credit.ErrBranchAlreadyIntegrated(i.BranchID)
	default:
		return credit.Internal(err, "dynamo: create integration")
	}
}

func (s *Store) GetIntegration(ctx context.Context, id string) (credit.Integration, error) {
	var it integrationItem
	found, err := s.getItem(ctx, integrationPK(id), integrationSK, &it)
	if err != nil {
		return credit.Integration{}, err
	}
	if !found {
		return credit.Integration{}, credit.NotFound("Integração")
	}
	return it.integration(), nil
}

func (s *Store) GetIntegrationByBranch(ctx context.Context, branchID string) (credit.Integration, error) {
	var lock struct {
		IntegrationID string `dynamodbav:"integrationId"`
	}
	found, err := s.getItem(ctx, branchLockPK(branchID), integrationSK, &lock)
	if err != nil {
		return credit.Integration{}, err
	}
	if !found {
		return credit.Integration{}, credit.NotFound("Integração da filial")
	}
	return s.GetIntegration(ctx, lock.IntegrationID)
}

// ListIntegrations lists every integration on GSI1 INTEGRATIONS, oldest
// first; kept to some branches, it reads their branch locks (one
// integration per branch) and those integrations, ordered as the index
// orders them, the cursor being the last one's sort key.
func (s *Store) ListIntegrations(ctx context.Context, branches credit.Branches, p credit.Page) ([]credit.Integration, string, error) {
	if !branches.All() {
		return s.branchIntegrations(ctx, branches, p.Normalized())
	}
	start, err := decodeCursor(p.Cursor, attrPK, attrSK, "GSI1PK", "GSI1SK")
	if err != nil {
		return nil, "", err
	}
	return queryPage(ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: integrationsListKey}},
		Limit:                     aws.Int32(int32(p.Normalized().Limit)),
		ExclusiveStartKey:         start,
	}, "integrations", integrationItem.integration)
}

func (s *Store) branchIntegrations(ctx context.Context, branches credit.Branches, p credit.Page) ([]credit.Integration, string, error) {
	after := ""
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil || !strings.HasPrefix(string(b), "intbranch|") {
			return nil, "", credit.ErrInvalidCursor
		}
		after = strings.TrimPrefix(string(b), "intbranch|")
	}
	keys := make([]map[string]types.AttributeValue, 0, len(branches))
	for _, b := range branches {
		keys = append(keys, key(branchLockPK(b), integrationSK))
	}
	locks, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, "", err
	}
	keys = keys[:0]
	for _, l := range locks {
		keys = append(keys, key(integrationPK(avString(l["integrationId"])), integrationSK))
	}
	raw, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, "", err
	}
	var items []integrationItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, "", credit.Internal(err, "dynamo: decode integrations")
	}
	sortKey := func(i credit.Integration) string { return formatTime(i.CreatedAt) + "#" + i.ID }
	var out []credit.Integration
	for _, it := range items {
		// The lock and the record move together; a record read between
		// them is left out rather than shown on another branch.
		if i := it.integration(); branches.Allows(i.BranchID) && (after == "" || sortKey(i) > after) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b credit.Integration) int { return strings.Compare(sortKey(a), sortKey(b)) })
	if len(out) <= p.Limit {
		return out, "", nil
	}
	out = out[:p.Limit]
	return out, base64.RawURLEncoding.EncodeToString([]byte("intbranch|" + sortKey(out[len(out)-1]))), nil
}

// UpdateIntegration applies fn to the stored record and writes the settings
// back only if nobody changed the record meanwhile (version check), moving
// the branch lock in the same transaction when the branch changes.
func (s *Store) UpdateIntegration(ctx context.Context, id string, fn func(*credit.Integration) error) (credit.Integration, error) {
	for attempt := 0; attempt < 4; attempt++ {
		cur, err := s.GetIntegration(ctx, id)
		if err != nil {
			return credit.Integration{}, err
		}
		next := cur
		if err := fn(&next); err != nil {
			return credit.Integration{}, err
		}
		next.ID, next.SecretRef, next.CreatedAt, next.CreatedBy = cur.ID, cur.SecretRef, cur.CreatedAt, cur.CreatedBy
		next.Version = cur.Version + 1
		update, err := s.integrationSettingsUpdate(next, cur.Version)
		if err != nil {
			return credit.Integration{}, err
		}
		moves := !next.SameAccount(cur)
		if moves {
			// Decided in the same write as the inclusions' counter.
			update.ConditionExpression = aws.String(*update.ConditionExpression + " AND (attribute_not_exists(#live) OR #live = :zero)")
			update.ExpressionAttributeNames["#live"] = attrLiveNegativations
			update.ExpressionAttributeValues[":zero"] = &types.AttributeValueMemberN{Value: "0"}
		}
		items := []types.TransactWriteItem{{Update: update}}
		if next.BranchID != cur.BranchID {
			items = append(items,
				types.TransactWriteItem{Delete: &types.Delete{
					TableName: aws.String(s.Table), Key: key(branchLockPK(cur.BranchID), integrationSK),
					ConditionExpression:       aws.String("integrationId = :id"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
				}},
				types.TransactWriteItem{Put: &types.Put{
					TableName: aws.String(s.Table), Item: branchLockAV(next.BranchID, id),
					ConditionExpression: aws.String("attribute_not_exists(PK)"),
				}},
				s.registerBranch(next.BranchID))
		}
		err = s.transact(ctx, items)
		if err == nil {
			return next, nil
		}
		if !isConditionFailed(err) {
			return credit.Integration{}, credit.Internal(err, "dynamo: update integration")
		}
		codes := cancellationCodes(err)
		if len(codes) >= 3 && codes[2] == "ConditionalCheckFailed" && codes[0] != "ConditionalCheckFailed" {
			return credit.Integration{}, credit.ErrBranchAlreadyIntegrated(next.BranchID)
		}
		if moves {
			live, _, err := s.integrationGuard(ctx, id)
			if err != nil {
				return credit.Integration{}, err
			}
			if live > 0 {
				return credit.Integration{}, credit.ErrIntegrationAccountInUse(live)
			}
		}
		// The record changed under us: read it again and re-apply fn.
	}
	return credit.Integration{}, credit.NewError(credit.KindConflict, credit.CodeConcurrentUpdate, "A integração foi alterada por outra requisição; tente novamente.")
}

func (s *Store) integrationSettingsUpdate(i credit.Integration, expectVersion int64) (*types.Update, error) {
	it := toIntegrationItem(i)
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, credit.Internal(err, "dynamo: encode integration")
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{":expect": &types.AttributeValueMemberN{Value: fmt.Sprint(expectVersion)}}
	expr := "SET"
	n := 0
	for _, field := range []string{"intermediary", "branchId", "environment", "login", "defaultPlan", "sendSmsOnInclusion", "responsibleCpf", "automation", "updatedAt", "updatedBy", "version"} {
		n++
		if n > 1 {
			expr += ","
		}
		expr += fmt.Sprintf(" #f%d = :v%d", n, n)
		names[fmt.Sprintf("#f%d", n)] = field
		values[fmt.Sprintf(":v%d", n)] = av[field]
	}
	names["#version"] = "version"
	return &types.Update{
		TableName:                 aws.String(s.Table),
		Key:                       key(integrationPK(i.ID), integrationSK),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #version = :expect"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}, nil
}

// DeleteIntegration deletes the record and its branch lock in one
// transaction whose condition is that no live negativation
// counts against the integration.
func (s *Store) DeleteIntegration(ctx context.Context, id string) (credit.Integration, error) {
	for attempt := 0; attempt < 4; attempt++ {
		cur, err := s.GetIntegration(ctx, id)
		if err != nil {
			return credit.Integration{}, err
		}
		err = s.transact(ctx, []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName: aws.String(s.Table), Key: key(integrationPK(id), integrationSK),
				ConditionExpression:       aws.String("#version = :v AND (attribute_not_exists(#live) OR #live = :zero)"),
				ExpressionAttributeNames:  map[string]string{"#version": "version", "#live": attrLiveNegativations},
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(cur.Version)}, ":zero": &types.AttributeValueMemberN{Value: "0"}},
			}},
			{Delete: &types.Delete{
				TableName: aws.String(s.Table), Key: key(branchLockPK(cur.BranchID), integrationSK),
				ConditionExpression:       aws.String("integrationId = :id"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
			}},
		})
		if err == nil {
			return cur, nil
		}
		if !isConditionFailed(err) {
			return credit.Integration{}, credit.Internal(err, "dynamo: delete integration")
		}
		live, version, err := s.integrationGuard(ctx, id)
		if err != nil {
			return credit.Integration{}, err
		}
		if live > 0 {
			return credit.Integration{}, credit.ErrIntegrationHasActiveNegativations.WithDetails(map[string]any{"liveNegativations": live})
		}
		_ = version // changed meanwhile: try again with the fresh version
	}
	return credit.Integration{}, credit.NewError(credit.KindConflict, credit.CodeConcurrentUpdate, "A integração foi alterada por outra requisição; tente novamente.")
}

func (s *Store) integrationGuard(ctx context.Context, id string) (live, version int64, err error) {
	var g struct {
		Live    int64 `dynamodbav:"liveNegativations"`
		Version int64 `dynamodbav:"version"`
	}
	found, err := s.getItem(ctx, integrationPK(id), integrationSK, &g)
	if err != nil {
		return 0, 0, err
	}
	if !found {
		return 0, 0, credit.NotFound("Integração")
	}
	return g.Live, g.Version, nil
}
