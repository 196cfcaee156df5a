// Package dynamo is the DynamoDB adapter: every store port of the domain,
// implemented on one table.
//
// # Table design
//
// One table, keys PK/SK, three overloaded global secondary indexes
// (GSI1PK/GSI1SK, GSI2PK/GSI2SK, GSI3PK/GSI3SK, all projecting every
// attribute), TTL on "expiresAt". Items and the access patterns they serve:
//
//	item                     PK                       SK            indexes
//	parameters               PARAMETERS               PARAMETERS    -
//
// Every list is a Query on the base table or an index with a cursor; no Scan
// runs on any request path. Uniqueness and invariants are conditional writes
// and transactions, never a read followed by a write.
package dynamo
