// Command echo is the local stack's test function: it answers with what the
// stack gave it (the request and the environment from the template), so the
// tests see what a function sees under aws-lambda-rie.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		body, err := json.Marshal(map[string]string{
			"path":     req.Path,
			"method":   req.HTTPMethod,
			"greeting": os.Getenv("GREETING"),
			"site":     os.Getenv("SITE"),
			"home":     os.Getenv("HOME"), // unset under Lambda, and so here
		})
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(body)}, err
	})
}
