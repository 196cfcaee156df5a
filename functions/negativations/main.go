// Command negativations is the Lambda function of the negativations area:
// including debtors with the bureau, following the records, removing them.
package main

import "creditanalysis/shared/app"

func main() { app.Main("negativations") }
