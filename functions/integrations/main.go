// Command integrations is the Lambda function of the integrations area.
package main

import "creditanalysis/shared/app"

func main() { app.Main("integrations") }
