// Command parameters is the Lambda function of the parameters area: the
// master switch, the repeat-consultation interval and the health check.
package main

import "creditanalysis/shared/app"

func main() { app.Main("parameters") }
