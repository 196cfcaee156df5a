// Package credit is the domain of the credit-analysis service: the entities
// (parameters, integrations, parties, invoices, consultations, negativations),
// the value types (documents, money, plans), the rules the product must keep,
// the one error type, and the ports the adapters implement.
//
// The bureau is three ports, one per role: ConsultationBureau (reports and
// plans), PEFINRegistry (negativations and their codes) and BureauAccounts
// (the account's passwords). The services never assemble credentials
// themselves: BureauAccess reads an integration's credentials, makes the
// call, and when the bureau refuses them has the password service settle a
// change left half done and makes the call once more with fresher ones.
// Consultations, negativations, the integration's plans, codes and
// connection test go through it; the billing rule wraps it with its
// throttle. Only the password change calls BureauAccounts directly, with
// the passwords it is changing.
//
// A negativation's changes of status are methods of Negativation, each
// checking the status it may come from; the services decide when to call
// the bureau and write. Every service tells time by one Clock (UTC, to the
// millisecond the stores keep) and logs with the context, whose
// WithLogAttrs (the request, the billing run) a handler from NewLogHandler
// adds to every line.
//
// Nothing in this package knows about HTTP, Lambda, DynamoDB or the bureau's
// wire format; adapters live in packages named after their technology. Its
// types carry no JSON or storage tags: the API's views are httpapi's, the
// stored items dynamo's, the bureau's wire types connectsa's. Its error
// kinds and codes are the ones the domain raises; a transport adds its own.
package credit
