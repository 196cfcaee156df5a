// Package dynamo is the DynamoDB adapter: every store port of the domain,
// implemented on one table.
//
// # Table design
//
// One table, keys PK/SK, four overloaded global secondary indexes
// (GSI1PK/GSI1SK to GSI4PK/GSI4SK; GSI1 to GSI3 project every attribute,
// GSI4 the keys and integrationId only), TTL on "expiresAt". Each item kind uses its own key prefixes,
// so the overloaded indexes never mix kinds in one partition. The items, in
// brief (each store file's doc comment has the detail and the reasons):
//
//	item                       PK                               SK                          indexes
//	parameters                 PARAMETERS                       PARAMETERS                  -
//	integration                INTEGRATION#<id>                 INTEGRATION                 GSI1 INTEGRATIONS / <createdAt>#<id>
//	branch lock                BRANCH#<branch>                  INTEGRATION                 -
//	branch registry            BRANCHES                         <branch>                    -
//	party                      PARTY#<kind>#<id>                PARTY                       -
//	invoice                    PARTY#customer#<id>              INVOICE#<invoice>           GSI1 OPENINV#<branch> / <due>#<customer>#<invoice> (open only)
//	consultation               CONSULTATION#<id>                CONSULTATION                GSI1 CONSULTATIONS#BRANCH#<branch>#<yyyy-mm>, GSI2 ...#DOC#<doc>#<branch>, GSI3 ...#INTEGRATION#<id>#<branch>
//	consultation on the party  PARTY#<kind>#<id>                CONSULTATION#<at>#<id>      -
//	mark and latest success    DOC#<document>                   CONSULTATION_STATE          - (TTL)
//	negativation               NEGATIVATION#<id>                NEGATIVATION                GSI4 NEGSTATUS#<branch>#<status> (keys and integrationId)
//	one-per-invoice marker     PARTY#customer#<id>              NEGATIVATION#<invoice>      GSI2 NEGATIVATIONS#<branch>
//	password change lease      PWLEASE#<integration>            PWLEASE                     - (TTL)
//	password change record     PWCHANGES#<integration>          <startedAt>#<change>        -
//	open password change       PWOPEN#<integration>             <startedAt>#<change>        -
//	replaced-password hash     PWHIST#<integration>#<kind>      <change>                    -
//	billing run                BILLINGRUN#<id>                  BILLINGRUN                  GSI1 BILLINGRUNS / <startedAt>#<id>
//	audit event                AUDIT#<yyyy-mm-dd>               <at>#<id>                   GSI1 AUDITTARGET#<id>, GSI2 AUDITACTOR#<sub>, GSI3 AUDITACTION#<action> (TTL)
//	its copy, per record shown AUDITSHOWN#<event>               <targetId>                  GSI1 AUDITTARGET#<targetId> (TTL)
//	idempotency key            IDEMPOTENCY#<sha256(sub, key)>   IDEMPOTENCY                 - (TTL)
//	idempotent answer's part   IDEMPOTENCY#<sha256(sub, key)>   IDEMPOTENCY#PART#<nnn>      - (TTL)
//
// Every list is a Query on the base table or an index with an opaque cursor;
// lists of records that belong to a branch query one partition per branch
// the caller may see and merge them (merge.go), so a user kept to some
// branches never reads another's; no Scan runs on any request path (the template's policies do not even
// grant it). Uniqueness and invariants are conditional writes and
// transactions, never a read followed by a write: one integration per
// branch (the branch lock), one negativation per invoice (the marker), no
// deleting an integration with live negativations (a counter kept in the
// same transactions as the negativations), one password change at a time
// (the lease), one attempt per idempotency key (the key's claim and its
// lease).
//
// Every item is a struct of this package with its own attribute names,
// converted to and from the domain's types; the domain's types carry no
// storage tags. A report is kept as gzipped JSON of reportItem, whose names
// are those reports were first written with.
package dynamo
