// Package credit is the domain of the credit-analysis service: the entities
// (parameters, integrations, parties, invoices, consultations, negativations),
// the value types (documents, money, plans), the rules the product must keep,
// the one error type, and the ports the adapters implement.
//
// Nothing in this package knows about HTTP, Lambda, DynamoDB or the bureau's
// wire format; adapters live in packages named after their technology.
package credit
