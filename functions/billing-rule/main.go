// Command billing-rule is the Lambda function of the billing rule (régua de
// cobrança): the daily schedule's run, the runs' routes, and the
// asynchronous invocations that execute a run started by an admin.
package main

import "creditanalysis/shared/app"

func main() { app.BillingRuleMain() }
