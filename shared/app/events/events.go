// Package events wires the event publisher: the table's change stream in,
// EventBridge out, a metrics line for every published fact. Only the
// event-publisher function and the local runner import it.
package events

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"creditanalysis/shared/app"
	"creditanalysis/shared/awslambda/tablestream"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/emf"
	"creditanalysis/shared/eventbridge"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// EnvBus names the event bus the events go to.
const EnvBus = "EVENT_BUS_NAME"

// Config is what the environment tells the publisher.
type Config struct {
	Bus       string
	Namespace string
}

// ConfigFromEnv reads Config.
func ConfigFromEnv() (Config, error) {
	c := Config{Bus: os.Getenv(EnvBus), Namespace: emf.Namespace()}
	if c.Bus == "" {
		return c, fmt.Errorf("%s is not set", EnvBus)
	}
	return c, nil
}

// EventBridge is the EventBridge client on cfg.
func EventBridge(cfg aws.Config) *eb.Client {
	return eb.NewFromConfig(cfg, func(o *eb.Options) { o.BaseEndpoint = app.ServiceEndpoint(cfg, "EVENTBRIDGE") })
}

// Publisher publishes the events of a batch of changes.
type Publisher struct {
	Events    credit.EventPublisher
	Namespace string
	Log       *slog.Logger
}

// Publish turns records into events, publishes them, and writes their
// metrics once the bus accepted them.
func (p *Publisher) Publish(ctx context.Context, records []dynamo.StreamRecord) error {
	evs, err := dynamo.DomainEvents(records)
	if err != nil || len(evs) == 0 {
		return err
	}
	if err := p.Events.Publish(ctx, evs); err != nil {
		return err
	}
	for _, e := range evs {
		p.Log.InfoContext(ctx, "event published", slog.String("eventId", e.ID), slog.String("detailType", string(e.Type)))
		for _, b := range emf.EventBlocks(p.Namespace, e) {
			emf.Write(ctx, p.Log, b)
		}
	}
	return nil
}

// Handler is the event-publisher function's entry point on client.
func Handler(cfg Config, client eventbridge.PutEventsAPI, log *slog.Logger) *tablestream.Handler {
	p := &Publisher{Events: &eventbridge.Publisher{Client: client, Bus: cfg.Bus}, Namespace: cfg.Namespace, Log: log}
	return &tablestream.Handler{Publish: p.Publish, Log: log}
}
